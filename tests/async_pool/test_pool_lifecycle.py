"""Lifecycle: stats, one pool per event loop, bounded shutdown with a leaked connection."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time

import pytest

from django_singlestore_async.pool import (
    AsyncConnectionPool,
    PoolClosed,
    PoolError,
    close_pools,
    loop_pools,
    pool_for,
)
from tests.async_pool.conftest import Admin
from tests.async_pool.util import eventually, make_pool, scalar
from tests.testbed import Endpoint


@pytest.mark.asyncio
async def test_stats_report_gauges_and_counters(endpoint: Endpoint) -> None:
    async with make_pool(endpoint, max_size=2) as pool:
        a = await pool.acquire()
        stats = pool.get_stats()
        assert (stats["pool_size"], stats["in_use"], stats["pool_available"]) == (1, 1, 0)
        b = await pool.acquire()
        pool.release(a)
        stats = pool.get_stats()
        assert (stats["pool_size"], stats["in_use"], stats["pool_available"]) == (2, 1, 1)
        assert stats["requests_num"] == 2 and stats["connections_num"] == 2
        assert stats["pool_min"] == 0 and stats["pool_max"] == 2
        popped = pool.pop_stats()
        assert popped["requests_num"] == 2
        after = pool.get_stats()
        assert after["requests_num"] == 0 and after["pool_size"] == 2  # counters reset, gauges kept
        pool.release(b)


def test_each_event_loop_gets_its_own_pool(endpoint: Endpoint) -> None:
    built: list[AsyncConnectionPool] = []

    def factory() -> AsyncConnectionPool:
        built.append(make_pool(endpoint))
        return built[-1]

    async def use() -> tuple[AsyncConnectionPool, int]:
        pool = pool_for("other", factory)
        assert pool_for("other", factory) is pool  # the same loop: the same pool
        async with pool.connection() as conn:
            value = int(await scalar(conn, "SELECT 7"))
        assert loop_pools() == {"other": pool}
        await close_pools()
        return pool, value

    first, v1 = asyncio.run(use())
    second, v2 = asyncio.run(use())  # a new event loop
    assert first is not second and v1 == v2 == 7 and len(built) == 2


def test_a_pool_refuses_a_foreign_event_loop(endpoint: Endpoint) -> None:
    pool = make_pool(endpoint)

    async def use() -> None:
        async with pool.connection() as conn:
            await scalar(conn, "SELECT 1")

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(use())
        other: list[BaseException] = []

        def in_thread() -> None:
            try:
                asyncio.run(use())
            except BaseException as exc:
                other.append(exc)

        thread = threading.Thread(target=in_thread)
        thread.start()
        thread.join(30)
        assert other and isinstance(other[0], RuntimeError) and "another event loop" in str(other[0])
        loop.run_until_complete(pool.close())
    finally:
        loop.close()


@pytest.mark.asyncio
async def test_close_terminates_a_leaked_connection_after_its_timeout(
    endpoint: Endpoint, admin: Admin
) -> None:
    pool = make_pool(endpoint, max_size=3)
    leaked = await pool.acquire()
    returned = await pool.acquire()
    pool.release(returned)
    started = time.monotonic()
    terminated = await pool.close(timeout=0.5)
    elapsed = time.monotonic() - started
    assert terminated == 1 and 0.4 <= elapsed < 15
    assert leaked.closed and leaked.poisoned and "terminated" in leaked.poisoned
    assert pool.get_stats()["terminated"] == 1 and pool.get_stats()["pool_size"] == 0
    with pytest.raises(PoolClosed):
        await pool.acquire()
    await eventually(lambda: not admin.exists(leaked.server_id), what="the leaked session is gone")
    await eventually(lambda: not admin.exists(returned.server_id), what="the idle session is gone")
    pool.release(leaked)  # a late return after close is harmless
    assert pool.get_stats()["pool_size"] == 0 and pool.get_stats()["in_use"] == 0


@pytest.mark.asyncio
async def test_close_waits_for_a_connection_returned_in_time(endpoint: Endpoint) -> None:
    pool = make_pool(endpoint)
    conn = await pool.acquire()

    async def give_back_later() -> None:
        await asyncio.sleep(0.3)
        pool.release(conn)

    task = asyncio.create_task(give_back_later())
    assert await pool.close(timeout=30) == 0
    await task
    assert conn.closed and pool.get_stats()["terminated"] == 0 and pool.get_stats()["pool_size"] == 0


@pytest.mark.asyncio
async def test_close_fails_the_waiters(endpoint: Endpoint) -> None:
    pool = make_pool(endpoint, max_size=1)
    held = await pool.acquire()
    waiter = asyncio.create_task(pool.acquire())
    await eventually(lambda: pool.get_stats()["requests_waiting"] == 1, what="a task waits")
    closing = asyncio.create_task(pool.close(timeout=30))
    with pytest.raises(PoolClosed):
        await asyncio.wait_for(waiter, 15)
    pool.release(held)
    assert await closing == 0


@pytest.mark.asyncio
async def test_open_returns_at_once_unless_told_to_wait() -> None:
    """open() starts filling to min_size in the background (a server not reachable yet does not stop
    the application's start); open(wait=True) waits for it and says why it could not."""
    unreachable = Endpoint("127.0.0.1", 9, "nobody", "nothing", "ap_unit")  # port 9: nothing listens
    started, waited = (
        make_pool(unreachable, min_size=1, timeout=2),
        make_pool(unreachable, min_size=1, timeout=2),
    )
    try:
        await started.open()  # no error: the connection is still being tried
        with pytest.raises(PoolError, match="could not open min_size=1"):
            await waited.open(wait=True)
    finally:
        await started.close(timeout=1)
        await waited.close(timeout=1)


@pytest.mark.asyncio
async def test_close_waits_for_the_kill_of_a_leaked_connection_mid_statement(
    endpoint: Endpoint, admin: Admin
) -> None:
    """A connection still out after close()'s timeout may be running a statement: close() sends the
    KILL and waits for the server to end the session (its own bound is the timeout plus the session
    end's), so no statement outlives the closed pool."""
    pool = make_pool(endpoint, max_size=2)
    leaked = await pool.acquire()
    running = asyncio.create_task(scalar(leaked, "SELECT SLEEP(30)"))
    try:
        await eventually(
            lambda: "SLEEP" in (admin.running(leaked.server_id) or ""), what="the statement runs"
        )
        assert await pool.close(timeout=0.2) == 1
        # The KILL was answered before close() returned; allow only the server's own bookkeeping lag.
        await eventually(lambda: not admin.exists(leaked.server_id), timeout=2.0, what="the session is gone")
        assert pool.get_stats()["kills"] == 1
    finally:
        running.cancel()
        with contextlib.suppress(BaseException):
            await running
        admin.kill_if_alive(leaked.server_id)


@pytest.mark.asyncio
async def test_terminate_opens_no_side_connection_for_a_later_kill(endpoint: Endpoint, admin: Admin) -> None:
    """terminate() is for a pool whose settings changed: a round trip cancelled after it closes its
    socket but opens no side connection to KILL (the old settings may no longer be valid)."""
    pool = make_pool(endpoint, max_size=2)
    conn = await pool.acquire()
    pool.terminate()
    pool.abandon(conn, "test: a round trip cancelled after terminate()")
    assert conn.ending is not None
    await asyncio.wait_for(conn.ending, 15)
    stats = pool.get_stats()
    assert stats["kill_connections_num"] == 0 and stats["kills"] == 0 and stats["kills_failed"] == 1
    assert conn.raw.closed
    await eventually(lambda: not admin.exists(conn.server_id), what="the session ended with its socket")
