"""What a user sees while the server is down: Django's OperationalError saying the server is unavailable,
on both engines (issue #14 item 5).

The gateway stands in for an aggregator that cannot serve: its upstream (MariaDB) port is closed, so it
answers every client with a handshake-phase ERR packet. mysqlclient used to read the old refusal as
"2027 Received malformed packet".
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import OperationalError

from django_singlestore_async.pool import close_pools
from tests.dbtools import ASYNC_ENGINE, SYNC_ENGINE, AliasFactory
from tests.testbed import Endpoint
from tests.testbed.gateway.engine import GatewayConfig
from tests.testbed.gateway.server import SERVER_UNAVAILABLE, Gateway


def _closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def dead_upstream_gateway() -> Iterator[Endpoint]:
    """A gateway on its own event loop thread whose MariaDB is unreachable (no engine is needed: the
    refusal comes before any query)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    gateway = Gateway(None, GatewayConfig(), "127.0.0.1", _closed_port())  # type: ignore[arg-type]
    asyncio.run_coroutine_threadsafe(gateway.start(), loop).result(10)
    yield Endpoint("127.0.0.1", gateway.master_port, "root", "nothing", "down")
    asyncio.run_coroutine_threadsafe(gateway.close(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


@pytest.fixture
def aliases(dead_upstream_gateway: Endpoint) -> Iterator[AliasFactory]:
    factory = AliasFactory(dead_upstream_gateway, "down", broken_connections=True)
    yield factory
    factory.close()


def _assert_unavailable(exc: BaseException) -> None:
    assert isinstance(exc, OperationalError)
    text = str(exc)
    assert "server is unavailable" in text, text
    assert "malformed packet" not in text


def test_sync_engine_says_the_server_is_unavailable(aliases: AliasFactory) -> None:
    connection = aliases("down_sync", engine=SYNC_ENGINE)
    with pytest.raises(OperationalError) as info:
        connection.ensure_connection()
    _assert_unavailable(info.value)
    assert info.value.args[0] == SERVER_UNAVAILABLE


@pytest.mark.asyncio
async def test_async_engine_says_the_server_is_unavailable(aliases: AliasFactory) -> None:
    connection: Any = aliases("down_async", engine=ASYNC_ENGINE, connect_timeout=5)
    try:
        with pytest.raises(OperationalError) as info:
            async with connection.acursor() as cursor:
                await cursor.execute("SELECT 1")
        _assert_unavailable(info.value)
    finally:
        await close_pools()
