"""TLS, the read timeout on a stalled gateway, connect timeouts and kill_on_cancel."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import MySQLdb
import pymysql
import pytest
from django.db import OperationalError

from django_singlestore_async.driver import ssl_context
from django_singlestore_async.pool import close_pools
from tests.async_pool.conftest import Admin
from tests.async_pool.util import eventually, make_pool, scalar
from tests.testbed import Endpoint
from tests.testbed.gateway.process import GatewayProcess

if TYPE_CHECKING:
    from tests.testbed import Testbed
    from tests.testbed.mariadb import MariaDB


def _gateway(mariadb: MariaDB, **kwargs: object) -> GatewayProcess:
    return GatewayProcess(mariadb.port, mariadb.admin_user, mariadb.admin_password, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def tls_gateway(mariadb: MariaDB) -> Iterator[GatewayProcess]:
    gw = _gateway(mariadb, tls=True).start()
    yield gw
    gw.stop()


@pytest.fixture(scope="module")
def slow_gateway(mariadb: MariaDB) -> Iterator[GatewayProcess]:
    """Every COM_QUERY stalls 6 s (COM_PING does not)."""
    gw = _gateway(mariadb, latency_ms=6000).start()
    yield gw
    gw.stop()


def _via(gw: GatewayProcess, endpoint: Endpoint) -> Endpoint:
    return Endpoint("127.0.0.1", gw.master_port, endpoint.user, endpoint.password, endpoint.database)


@pytest.mark.gateway_only
@pytest.mark.asyncio
async def test_tls_with_the_gateway_certificate(tls_gateway: GatewayProcess, endpoint: Endpoint) -> None:
    context = ssl_context({"ca": str(tls_gateway.tls_cert)})
    async with make_pool(_via(tls_gateway, endpoint), pool_kwargs={"ssl_required": True}) as pool:
        pool.connect_kwargs["ssl"] = context
        async with pool.connection() as conn:
            tls = conn.raw._writer.get_extra_info("ssl_object")
            assert tls is not None and tls.version() in ("TLSv1.2", "TLSv1.3")
            assert await scalar(conn, "SELECT 1") == 1


@pytest.mark.gateway_only
@pytest.mark.asyncio
async def test_tls_refuses_an_untrusted_certificate(tls_gateway: GatewayProcess, endpoint: Endpoint) -> None:
    ca = ssl.get_default_verify_paths().cafile
    if ca is None:
        pytest.skip("environment: no system CA bundle to stand in for a wrong CA")
    pool = make_pool(_via(tls_gateway, endpoint))
    pool.connect_kwargs["ssl"] = ssl_context({"ca": ca})
    async with pool:
        with pytest.raises(pymysql.err.OperationalError):
            await pool.acquire(timeout=15)
        assert pool.get_stats()["connections_errors"] == 1


@pytest.mark.asyncio
async def test_tls_required_but_not_offered_fails_instead_of_going_plain(endpoint: Endpoint) -> None:
    pool = make_pool(endpoint)  # the plain (non-TLS) aggregator
    pool.connect_kwargs["ssl"] = ssl_context(True)
    pool.ssl_required = True
    async with pool:
        with pytest.raises(pymysql.err.OperationalError) as info:
            await pool.acquire(timeout=15)
        assert info.value.args[0] == 2026


@pytest.mark.gateway_only
@pytest.mark.asyncio
async def test_read_timeout_on_a_stalled_gateway_discards_the_connection(
    slow_gateway: GatewayProcess, endpoint: Endpoint
) -> None:
    # Without kill_on_cancel the socket closes at once (the KILL path is in test_pool_faults.py).
    pool = make_pool(_via(slow_gateway, endpoint), pool_kwargs={"read_timeout": 0.5}, kill_on_cancel=False)
    async with pool:
        conn = await pool.acquire()
        await conn.ping()  # COM_PING is not stalled: the connection itself is fine
        started = time.monotonic()
        with pytest.raises(pymysql.err.OperationalError) as info:
            await scalar(conn, "SELECT 1")
        assert time.monotonic() - started < 5  # well before the 6 s stall ends
        assert info.value.args[0] == 2013 and "read_timeout" in info.value.args[1]
        assert conn.poisoned and conn.closed
        pool.release(conn)
        assert pool.get_stats()["returns_bad"] == 1 and pool.get_stats()["pool_size"] == 0


@pytest.mark.gateway_only
@pytest.mark.asyncio
async def test_a_slow_statement_within_the_read_timeout_succeeds(
    slow_gateway: GatewayProcess, endpoint: Endpoint
) -> None:
    # kill_on_cancel off: its per-connection id query would add another 6 s stall.
    pool = make_pool(_via(slow_gateway, endpoint), pool_kwargs={"read_timeout": 30}, kill_on_cancel=False)
    async with pool, pool.connection() as conn:
        assert await scalar(conn, "SELECT 5") == 5
        assert not conn.poisoned


@pytest.mark.asyncio
async def test_connect_timeout_bounds_a_silent_server(endpoint: Endpoint) -> None:
    """A listener that accepts and never sends the handshake: aiomysql's own timeout covers only the
    TCP open; the pool bounds the whole connect."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        silent = Endpoint("127.0.0.1", listener.getsockname()[1], endpoint.user, endpoint.password, "x")
        async with make_pool(silent, pool_kwargs={"connect_timeout": 0.5}) as pool:
            started = time.monotonic()
            with pytest.raises(pymysql.err.OperationalError, match="connect_timeout") as info:
                await pool.acquire(timeout=30)
            assert info.value.args[0] == 2003 and time.monotonic() - started < 10
            assert pool.get_stats()["connections_errors"] == 1 and pool.get_stats()["pool_size"] == 0
    finally:
        listener.close()


def _kill_query_translated(bed: Testbed) -> bool:
    """Whether the server takes SingleStore's `KILL CONNECTION <id> <node_id>` (the gateway translates it)."""
    conn = MySQLdb.connect(**bed.master.mysqldb_kwargs())
    try:
        conn.cursor().execute("KILL CONNECTION 4000000000 0")
    except MySQLdb.Error as exc:
        return exc.args[0] != 1064  # 1094 unknown thread: understood
    finally:
        conn.close()
    return True


@pytest.mark.asyncio
async def test_kill_on_cancel_stops_the_server_query(
    testbed: Testbed, endpoint: Endpoint, admin: Admin
) -> None:
    if not _kill_query_translated(testbed):
        pytest.skip("gateway limit: it does not translate SingleStore's KILL CONNECTION <id> <node_id> yet")
    async with make_pool(endpoint, kill_on_cancel=True) as pool:
        conn = await pool.acquire()
        assert conn.node_id is not None  # @@aggregator_id, for KILL's node_id
        victim = conn.server_id
        task = asyncio.create_task(scalar(conn, "SELECT SLEEP(60)"))
        await eventually(
            lambda: (admin.running(victim) or "").startswith("SELECT SLEEP"), what="query running"
        )
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        pool.release(conn)
        await eventually(lambda: not (admin.running(victim) or "").startswith("SELECT SLEEP"), timeout=20)
        await eventually(lambda: pool.get_stats()["kills"] == 1, what="the KILL was counted")
        # Sent before the socket closed: the session was still there to be killed (no 1094).
        stats = pool.get_stats()
        assert stats["kills_gone"] == 0 and stats["kill_connection"] == 1
        await eventually(lambda: not admin.exists(victim), what="the session ended")
        await eventually(lambda: pool.get_stats()["pool_size"] == 0, what="the slot came back")


@pytest.mark.asyncio
async def test_a_kill_for_a_session_already_gone_is_not_an_error(
    endpoint: Endpoint, caplog: pytest.LogCaptureFixture
) -> None:
    async with make_pool(endpoint) as pool:
        with caplog.at_level(logging.INFO, logger="django_singlestore_async.pool"):
            assert await pool._killer.kill(4_000_000_000, None) is True  # 1094 unknown thread id
        stats = pool.get_stats()
        assert stats["kills_gone"] == 1 and stats["kills_failed"] == 0 and stats["kills"] == 0
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.asyncio
async def test_without_kill_on_cancel_the_server_query_keeps_running(
    endpoint: Endpoint, admin: Admin
) -> None:
    async with make_pool(endpoint, kill_on_cancel=False) as pool:
        conn = await pool.acquire()
        victim = conn.server_id
        task = asyncio.create_task(scalar(conn, "SELECT SLEEP(60)"))
        await eventually(
            lambda: (admin.running(victim) or "").startswith("SELECT SLEEP"), what="query running"
        )
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        pool.release(conn)
        await asyncio.sleep(0.5)
        assert pool.get_stats()["kills"] == 0
        # The client hung up; whether the server has noticed yet is its business. Clean up.
        admin.kill_if_alive(victim)


# -- the same through the engine's OPTIONS (the sync backend's keys, translated for aiomysql) -------------


@pytest.mark.gateway_only
@pytest.mark.asyncio
async def test_engine_ssl_option_builds_a_verifying_context(
    tls_gateway: GatewayProcess, endpoint: Endpoint, make_alias: Any
) -> None:
    db = make_alias("a_tls", endpoint=_via(tls_gateway, endpoint), ssl={"ca": str(tls_gateway.tls_cert)})
    async with db.acursor() as cursor:
        await cursor.execute("SELECT 1")
        assert await cursor.fetchone() == (1,)
    pool = db.pool()
    context = pool.connect_kwargs["ssl"]
    assert context.verify_mode == ssl.CERT_REQUIRED and pool.ssl_required
    await close_pools()


@pytest.mark.gateway_only
@pytest.mark.asyncio
async def test_engine_read_timeout_option_bounds_each_round_trip(
    slow_gateway: GatewayProcess, endpoint: Endpoint, make_alias: Any
) -> None:
    # kill_on_cancel off: its per-connection id query would itself stall 6 s on this gateway.
    db = make_alias(
        "a_slow", endpoint=_via(slow_gateway, endpoint), read_timeout=1, pool={"kill_on_cancel": False}
    )
    started = time.monotonic()
    with pytest.raises(OperationalError) as info:
        async with db.acursor() as cursor:
            await cursor.execute("SELECT 1")
    assert time.monotonic() - started < 5 and info.value.args[0] == 2013  # the stall is 6 s
    assert db.pool().get_stats()["returns_bad"] == 1
    await close_pools()
