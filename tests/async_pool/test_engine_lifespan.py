"""The ASGI lifespan wrapper: pools opened at startup, closed (bounded) at shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, MutableMapping
from typing import Any

import pytest

from django_singlestore_async.asgi import with_lifespan
from django_singlestore_async.pool import loop_pools
from tests.testbed import Endpoint

MakeAlias = Callable[..., Any]


class Server:
    """Plays the ASGI server's side of one connection (as uvicorn does for lifespan)."""

    def __init__(self, app: Any, scope: dict[str, Any]) -> None:
        self.inbox: asyncio.Queue[MutableMapping[str, Any]] = asyncio.Queue()
        self.outbox: asyncio.Queue[MutableMapping[str, Any]] = asyncio.Queue()
        self.task = asyncio.create_task(app(scope, self.inbox.get, self.outbox.put))

    async def say(self, message_type: str) -> str:
        await self.inbox.put({"type": message_type})
        answer = await asyncio.wait_for(self.outbox.get(), 30)
        return str(answer["type"]) + (f": {answer['message']}" if "message" in answer else "")


async def inner_app(scope: Any, receive: Any, send: Any) -> None:
    assert scope["type"] == "http"
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


@pytest.mark.asyncio
async def test_startup_fills_the_pools_and_shutdown_terminates_leaks(make_alias: MakeAlias) -> None:
    db = make_alias("a_life", pool={"min_size": 2, "max_size": 4})
    app = with_lifespan(inner_app, close_timeout=0.5)
    server = Server(app, {"type": "lifespan", "asgi": {"version": "3.0"}})
    assert await server.say("lifespan.startup") == "lifespan.startup.complete"
    pool = loop_pools()["a_life"]
    assert pool is db.pool()
    stats = pool.get_stats()
    assert stats["pool_size"] == 2 and stats["pool_available"] == 2
    leaked = await pool.acquire()  # a request that never gives its connection back
    assert await server.say("lifespan.shutdown") == "lifespan.shutdown.complete"
    await asyncio.wait_for(server.task, 30)
    assert pool.closed and leaked.closed and pool.get_stats()["terminated"] == 1
    assert "a_life" not in loop_pools()


@pytest.mark.asyncio
async def test_startup_failure_is_reported(make_alias: MakeAlias, endpoint: Endpoint) -> None:
    bad = Endpoint(endpoint.host, endpoint.port, endpoint.user, "wrong-password", endpoint.database)
    make_alias("a_life_bad", endpoint=bad, pool={"min_size": 1})
    server = Server(with_lifespan(inner_app), {"type": "lifespan"})
    answer = await server.say("lifespan.startup")
    assert answer.startswith("lifespan.startup.failed") and "min_size=1" in answer and "1045" in answer
    await asyncio.wait_for(server.task, 30)
    for pool in loop_pools().values():
        await pool.close()


@pytest.mark.asyncio
async def test_other_scopes_reach_the_application() -> None:
    sent: list[MutableMapping[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    async def receive() -> MutableMapping[str, Any]:
        return {"type": "http.request"}

    await with_lifespan(inner_app)({"type": "http"}, receive, send)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
