"""Under uvicorn, 64 concurrent requests to a view doing `await Author.objects.aget()`: every database
statement runs on the event-loop thread over the pool, and no server connection is opened per
request. (Django's own request_started/request_finished receiver, close_old_connections, still runs
in a worker thread through the dispatcher's sync_to_async; it has no connection there and runs no
statement, which `off_loop == 0` shows.)"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from tests.async_orm.conftest import NATIVE, AliasFactory, SyncSide

REQUESTS = 64
MAX_SIZE = 10
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(orm_aliases: AliasFactory, tmp_path: Path) -> Iterator[int]:
    pytest.importorskip("uvicorn", reason="environment: uvicorn is not installed (the `test` extra)")
    database = dict(connections.settings[NATIVE])
    database["OPTIONS"] = {"pool": {"max_size": MAX_SIZE}}
    port = free_port()
    env = dict(os.environ, ASYNC_ORM_TEST_DB=json.dumps(database), PYTHONPATH=str(REPO))
    env.pop("DJANGO_SETTINGS_MODULE", None)
    log = (tmp_path / "uvicorn.log").open("wb")
    command = [sys.executable, "-m", "uvicorn", "tests.async_orm.asgi_app:application", "--port", str(port)]
    command += ["--lifespan", "on", "--log-level", "warning", "--backlog", "256"]
    proc = subprocess.Popen(
        command,
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError((tmp_path / "uvicorn.log").read_text()) from None
            time.sleep(0.2)
    yield port
    proc.terminate()  # graceful: the lifespan shutdown closes the pool
    try:
        code = proc.wait(30)
    finally:
        proc.kill()
        log.close()
    output = (tmp_path / "uvicorn.log").read_text()
    assert code in (0, -15) and "Traceback" not in output and "ERROR" not in output, output


async def get(port: int, target: str) -> tuple[int, Any]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {target} HTTP/1.0\r\nHost: test\r\n\r\n".encode())
    await writer.drain()
    raw = await reader.read()
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" in head.lower():
        body = dechunk(body)  # newer uvicorn answers an HTTP/1.0 request without Content-Length chunked
    assert body.startswith(b"{"), raw
    return int(head.split()[1]), json.loads(body)


def dechunk(body: bytes) -> bytes:
    out = b""
    while True:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return out
        out, body = out + rest[:size], rest[size + 2 :]


@pytest.mark.asyncio
async def test_64_concurrent_requests_run_on_the_loop_over_the_pool(server: int, side: SyncSide) -> None:
    answers = await asyncio.gather(*(get(server, f"/author/{1 + i % 3}") for i in range(REQUESTS)))
    assert [status for status, _ in answers] == [200] * REQUESTS
    assert [body["name"] for _, body in answers] == [("ann", "bob", "cid")[i % 3] for i in range(REQUESTS)]

    status, stats = await get(server, "/stats")
    assert status == 200
    assert stats["statements"] >= REQUESTS
    assert stats["off_loop"] == 0 and stats["not_pooled"] == 0
    print({k: stats[k] for k in ("statements", "off_loop", "server_ids")}, stats["pool"])
    pool = stats["pool"]
    assert pool["requests_num"] >= REQUESTS  # every request borrowed from the pool ...
    assert pool["connections_num"] <= MAX_SIZE  # ... and no request opened a server connection of its own
    assert 1 <= len(stats["server_ids"]) <= MAX_SIZE
    assert pool["in_use"] == 0
