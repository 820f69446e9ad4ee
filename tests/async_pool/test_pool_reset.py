"""What comes back to the pool: reset on return, and never handing out a poisoned connection."""

from __future__ import annotations

import asyncio

import pymysql
import pytest

from django_singlestore_async.pool import AsyncConnectionPool
from tests.async_pool.conftest import Admin
from tests.async_pool.util import eventually, make_pool, scalar
from tests.testbed import Endpoint


async def _with_table(pool: AsyncConnectionPool) -> None:
    async with pool.connection() as conn:
        await conn.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(10))")


async def _count(pool: AsyncConnectionPool) -> int:
    async with pool.connection() as conn:
        return int(await scalar(conn, "SELECT COUNT(*) FROM t"))


@pytest.mark.asyncio
async def test_new_connections_have_autocommit_on(endpoint: Endpoint) -> None:
    async with make_pool(endpoint) as pool, pool.connection() as conn:
        assert conn.raw.get_autocommit() and await scalar(conn, "SELECT @@autocommit") == 1


@pytest.mark.asyncio
async def test_autocommit_off_is_rolled_back_and_reset_on_return(endpoint: Endpoint) -> None:
    async with make_pool(endpoint, max_size=1) as pool:
        await _with_table(pool)
        async with pool.connection() as conn:
            first = conn.server_id
            await conn.raw.autocommit(False)
            await conn.execute("INSERT INTO t VALUES (1, 'x')")
        await eventually(lambda: pool.get_stats()["resets"] == 1, what="the reset ran")
        async with pool.connection() as conn:
            assert conn.server_id == first  # reset, not discarded
            assert conn.raw.get_autocommit() and not conn.in_transaction
            assert await scalar(conn, "SELECT @@autocommit") == 1
        assert await _count(pool) == 0  # the uncommitted insert was rolled back


@pytest.mark.asyncio
async def test_an_open_transaction_is_rolled_back_on_return(endpoint: Endpoint) -> None:
    async with make_pool(endpoint, max_size=1) as pool:
        await _with_table(pool)
        async with pool.connection() as conn:
            await conn.execute("BEGIN")
            await conn.execute("INSERT INTO t VALUES (1, 'x')")
            assert conn.in_transaction
        async with pool.connection() as conn:  # waits for the background reset: max_size=1
            assert not conn.in_transaction
        assert await _count(pool) == 0
        assert pool.get_stats()["resets"] == 1


@pytest.mark.asyncio
async def test_a_committed_transaction_is_kept(endpoint: Endpoint) -> None:
    async with make_pool(endpoint, max_size=1) as pool:
        await _with_table(pool)
        async with pool.connection() as conn:
            await conn.execute("BEGIN")
            await conn.execute("INSERT INTO t VALUES (1, 'x')")
            await conn.execute("COMMIT")
        assert await _count(pool) == 1
        assert pool.get_stats()["resets"] == 0


@pytest.mark.asyncio
async def test_a_cancelled_query_poisons_its_connection(endpoint: Endpoint, admin: Admin) -> None:
    async with make_pool(endpoint, max_size=1) as pool:
        conn = await pool.acquire()
        victim = conn.server_id
        task = asyncio.create_task(scalar(conn, "SELECT SLEEP(30)"))
        await eventually(
            lambda: (admin.running(victim) or "").startswith("SELECT SLEEP"), what="query running"
        )
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert conn.poisoned
        with pytest.raises(pymysql.err.InterfaceError, match="unusable"):
            await scalar(conn, "SELECT 1")
        pool.release(conn)
        async with pool.connection() as fresh:
            # max_size=1: the slot came back only once the server had ended the KILLed session.
            assert not admin.exists(victim) and conn.closed
            assert fresh.server_id != victim and await scalar(fresh, "SELECT 1") == 1
        stats = pool.get_stats()
        assert stats["returns_bad"] == 1 and stats["kills"] + stats["kills_gone"] == 1


@pytest.mark.asyncio
async def test_a_server_error_keeps_the_connection(endpoint: Endpoint) -> None:
    async with make_pool(endpoint, max_size=1) as pool:
        async with pool.connection() as conn:
            first = conn.server_id
            with pytest.raises(pymysql.err.ProgrammingError):
                await conn.execute("SELECT * FROM no_such_table")
            assert not conn.poisoned
            assert await scalar(conn, "SELECT 1") == 1
        async with pool.connection() as conn:
            assert conn.server_id == first
        assert pool.get_stats()["discards"] == 0


@pytest.mark.asyncio
async def test_a_connection_closed_by_the_borrower_is_discarded(endpoint: Endpoint) -> None:
    async with make_pool(endpoint, max_size=1) as pool:
        async with pool.connection() as conn:
            first = conn.server_id
            conn.raw.close()
        async with pool.connection() as conn:
            assert conn.server_id != first and await scalar(conn, "SELECT 1") == 1
        assert pool.get_stats()["returns_bad"] == 1


@pytest.mark.asyncio
async def test_releasing_twice_is_refused(endpoint: Endpoint) -> None:
    async with make_pool(endpoint) as pool:
        conn = await pool.acquire()
        pool.release(conn)
        with pytest.raises(ValueError, match="not borrowed"):
            pool.release(conn)


@pytest.mark.asyncio
async def test_binary_parameters_round_trip(endpoint: Endpoint) -> None:
    """aiomysql 0.3.2 + PyMySQL >= 1.2 crashes on bytes parameters (aio-libs/aiomysql#1080): pinned."""
    payload = bytes(range(256)) + b"\x00'\"\\%s"
    async with make_pool(endpoint) as pool, pool.connection() as conn:
        await conn.execute("CREATE TABLE b (id INT PRIMARY KEY, v LONGBLOB)")
        await conn.execute("INSERT INTO b VALUES (%s, %s)", (1, payload))
        async with conn.cursor() as cursor:
            await cursor.executemany("INSERT INTO b VALUES (%s, %s)", [(2, b""), (3, payload * 3)])
        assert await scalar(conn, "SELECT v FROM b WHERE id = 1") == payload
        assert await scalar(conn, "SELECT v FROM b WHERE id = %s", (3,)) == payload * 3
        assert await scalar(conn, "SELECT COUNT(*) FROM b WHERE v = %s", (payload,)) == 1
