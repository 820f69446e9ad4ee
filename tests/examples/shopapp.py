"""The shop example (examples/shop) served for tests: its own database on the test bed, set up and
served by `demo.py --keep --no-load` (the DEMO_KEEP path of `make demo`), stopped with `--stop`."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import MySQLdb

from tests.dbtools import drop_database, own_database
from tests.testbed import Endpoint

ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "examples" / "shop"
ADMIN_PASSWORD = "shop-admin-Secret-1"


@dataclass
class ShopApp:
    base: str
    database: Endpoint
    pid: int

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                status, raw, kind = answer.status, answer.read(), answer.headers["Content-Type"]
        except urllib.error.HTTPError as error:
            status, raw, kind = error.code, error.read(), error.headers["Content-Type"]
        assert kind == "application/json", (status, raw[:500])
        return status, json.loads(raw)

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        conn = MySQLdb.connect(**self.database.mysqldb_kwargs())
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return list(cur.fetchall())
        finally:
            conn.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_shop(master: Endpoint, name: str, state_dir: Path) -> Iterator[ShopApp]:
    """Generator for a fixture: the shop on database `name` at `master`, serving until closed."""
    endpoint = Endpoint(master.host, master.port, master.user, master.password, name)
    env = dict(os.environ, DEMO_PORT=str(free_port()), DEMO_ADMIN_PASSWORD=ADMIN_PASSWORD)
    env.pop("DEMO_KEEP", None)
    stop = [sys.executable, str(SHOP / "demo.py"), "--stop", "--state-dir", str(state_dir)]
    with own_database(master, name):
        run = subprocess.run(
            [sys.executable, str(SHOP / "demo.py"), endpoint.url, "--keep", "--no-load", "--state-dir", str(state_dir)],
            capture_output=True, text=True, timeout=300, env=env,
        )  # fmt: skip
        assert run.returncode == 0, run.stdout + run.stderr
        try:
            [(base, pid)] = re.findall(r"on (http://127\.0\.0\.1:\d+) \(pid (\d+)\)", run.stdout)
            assert f"user 'admin', password '{ADMIN_PASSWORD}'" in run.stdout
            yield ShopApp(base, endpoint, int(pid))
        finally:
            stopped = subprocess.run(stop, capture_output=True, text=True, timeout=120)
            assert "stopped the kept app" in stopped.stdout, stopped.stdout + stopped.stderr
            log = (state_dir / "demo-app.log").read_text()
            assert "Traceback" not in log, log
    drop_database(master, name)
