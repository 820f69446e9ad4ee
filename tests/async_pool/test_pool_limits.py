"""Pool limits: max_size, the acquire timeout, max_waiting, cancelled waiters, failed connects."""

from __future__ import annotations

import asyncio
import time

import pymysql
import pytest
from django.db import OperationalError

from django_singlestore_async.pool import PoolTimeout, TooManyRequests
from tests.async_pool.util import eventually, make_pool, scalar
from tests.testbed import Endpoint


@pytest.mark.asyncio
async def test_max_size_caps_connections_and_a_release_serves_the_waiter(endpoint: Endpoint) -> None:
    async with make_pool(endpoint, max_size=2) as pool:
        first, second = await pool.acquire(), await pool.acquire()
        assert first.server_id != second.server_id
        waited_from = time.monotonic()
        third = asyncio.create_task(pool.acquire())
        await eventually(lambda: pool.get_stats()["requests_waiting"] == 1, what="a third task waits")
        assert pool.get_stats()["pool_size"] == 2 and not third.done()
        await asyncio.sleep(0.05)
        pool.release(first)
        got = await asyncio.wait_for(third, 15)
        # The wait is counted in milliseconds, and only the wait.
        assert 50 <= pool.get_stats()["requests_wait_ms"] <= (time.monotonic() - waited_from) * 1000
        assert got.server_id == first.server_id  # handed over, no third connection opened
        stats = pool.get_stats()
        assert stats["connections_num"] == 2 and stats["requests_queued"] == 1 and stats["in_use"] == 2
        pool.release(got)
        pool.release(second)


@pytest.mark.asyncio
async def test_acquire_timeout_names_the_pool_size_and_the_waiters(endpoint: Endpoint) -> None:
    async with make_pool(endpoint, max_size=1, timeout=30) as pool:
        held = await pool.acquire()
        other = asyncio.create_task(pool.acquire())
        await eventually(lambda: pool.get_stats()["requests_waiting"] == 1, what="a task waits")
        started = time.monotonic()
        with pytest.raises(PoolTimeout) as info:
            await pool.acquire(timeout=0.3)
        assert time.monotonic() - started >= 0.25
        message = str(info.value)
        assert "size 1/1" in message and "1 in use" in message and "1 other task(s) waiting" in message
        assert isinstance(info.value, OperationalError)  # Django's, so `except OperationalError` sees it
        stats = pool.get_stats()
        assert stats["timeouts"] == 1 and stats["requests_errors"] == 1 and stats["requests_waiting"] == 1
        pool.release(held)
        pool.release(await asyncio.wait_for(other, 15))


@pytest.mark.asyncio
async def test_max_waiting_refuses_one_more_waiter_at_once(endpoint: Endpoint) -> None:
    async with make_pool(endpoint, max_size=1, max_waiting=1, timeout=60) as pool:
        held = await pool.acquire()
        waiter = asyncio.create_task(pool.acquire())
        await eventually(lambda: pool.get_stats()["requests_waiting"] == 1, what="a task waits")
        started = time.monotonic()
        with pytest.raises(TooManyRequests, match=r"max_waiting=1"):
            await pool.acquire()
        assert time.monotonic() - started < 10  # at once, not after the 60 s timeout
        assert pool.get_stats()["too_many_waiting"] == 1 and pool.get_stats()["requests_errors"] == 1
        pool.release(held)
        pool.release(await asyncio.wait_for(waiter, 15))


@pytest.mark.asyncio
async def test_a_cancelled_waiter_strands_nothing(endpoint: Endpoint) -> None:
    async with make_pool(endpoint, max_size=1) as pool:
        held = await pool.acquire()
        waiter = asyncio.create_task(pool.acquire())
        await eventually(lambda: pool.get_stats()["requests_waiting"] == 1, what="a task waits")
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        pool.release(held)
        again = await pool.acquire(timeout=5)
        assert again.server_id == held.server_id
        stats = pool.get_stats()
        assert stats["pool_size"] == 1 and stats["in_use"] == 1 and stats["requests_waiting"] == 0
        pool.release(again)


@pytest.mark.asyncio
async def test_timeout_racing_a_handover_returns_the_connection(endpoint: Endpoint) -> None:
    """A waiter cancelled in the same instant a connection is handed to it passes the connection on."""
    async with make_pool(endpoint, max_size=1) as pool:
        held = await pool.acquire()
        waiter = asyncio.create_task(pool.acquire())
        await eventually(lambda: pool.get_stats()["requests_waiting"] == 1, what="a task waits")
        pool.release(held)  # resolves the waiter's future ...
        waiter.cancel()  # ... and cancels it before it runs
        with pytest.raises(asyncio.CancelledError):
            await waiter
        stats = pool.get_stats()
        assert stats["pool_available"] == 1 and stats["in_use"] == 0 and stats["pool_size"] == 1


@pytest.mark.asyncio
async def test_many_tasks_share_a_small_pool(endpoint: Endpoint) -> None:
    async with make_pool(endpoint, max_size=3) as pool:
        seen: set[int] = set()

        async def work(i: int) -> int:
            async with pool.connection() as conn:
                seen.add(conn.server_id)
                return int(await scalar(conn, "SELECT %s + 1", (i,)))

        results = await asyncio.gather(*(work(i) for i in range(40)))
        assert results == [i + 1 for i in range(40)]
        assert 1 <= len(seen) <= 3
        stats = pool.get_stats()
        assert stats["connections_num"] <= 3 and stats["requests_num"] == 40 and stats["in_use"] == 0


@pytest.mark.asyncio
async def test_failed_connects_free_their_slot(endpoint: Endpoint) -> None:
    bad = Endpoint(endpoint.host, endpoint.port, endpoint.user, "wrong-password", endpoint.database)
    async with make_pool(bad, max_size=1) as pool:
        for _ in range(2):
            with pytest.raises(pymysql.err.OperationalError) as info:
                await pool.acquire(timeout=15)
            assert info.value.args[0] == 1045  # access denied, not a pool timeout
        stats = pool.get_stats()
        assert stats["connections_errors"] == 2 and stats["pool_size"] == 0 and stats["requests_errors"] == 2
