"""Recycling: max_lifetime (with jitter), max_idle trimming to min_size, pre-ping after a server KILL."""

from __future__ import annotations

import asyncio

import pymysql
import pytest

from tests.async_pool.conftest import Admin
from tests.async_pool.util import eventually, make_pool, scalar
from tests.testbed import Endpoint


@pytest.mark.asyncio
async def test_min_size_is_opened_up_front(endpoint: Endpoint) -> None:
    pool = make_pool(endpoint, min_size=2, max_size=4)
    await pool.open(wait=True)
    try:
        stats = pool.get_stats()
        assert stats["pool_size"] == 2 and stats["pool_available"] == 2 and stats["connections_num"] == 2
    finally:
        await pool.close()


@pytest.mark.asyncio
async def test_max_lifetime_replaces_an_old_connection(endpoint: Endpoint, admin: Admin) -> None:
    async with make_pool(endpoint, max_lifetime=0.5, max_idle=None) as pool:
        async with pool.connection() as conn:
            old = conn.server_id
        await asyncio.sleep(1.0)
        async with pool.connection() as conn:
            assert conn.server_id != old
            assert await scalar(conn, "SELECT 1") == 1
        stats = pool.get_stats()
        assert stats["expired"] >= 1 and stats["reconnects"] >= 1
        await eventually(lambda: not admin.exists(old), what="the expired session is closed on the server")


@pytest.mark.asyncio
async def test_lifetime_is_measured_from_creation_with_jitter(endpoint: Endpoint) -> None:
    async with make_pool(endpoint, max_size=6, max_lifetime=100) as pool:
        conns = [await pool.acquire() for _ in range(6)]
        spans = [conn.expires_at - conn.created_at for conn in conns if conn.expires_at is not None]
        assert len(spans) == 6
        assert all(95.0 <= s <= 100.0 for s in spans)  # up to 5% shorter
        assert len({round(s, 6) for s in spans}) > 1  # not all expiring together
        for conn in conns:
            pool.release(conn)


@pytest.mark.asyncio
async def test_returning_keeps_a_connection_young_only_until_its_lifetime(endpoint: Endpoint) -> None:
    """Age counts from creation, not last use: a connection used all the time still expires."""
    async with make_pool(endpoint, max_lifetime=0.6, max_idle=None) as pool:
        async with pool.connection() as conn:
            first = conn.server_id
        ids = set()
        for _ in range(15):
            async with pool.connection() as conn:
                ids.add(conn.server_id)
            await asyncio.sleep(0.1)
        assert first in ids and len(ids) >= 2


@pytest.mark.asyncio
async def test_max_idle_trims_down_to_min_size(endpoint: Endpoint, admin: Admin) -> None:
    async with make_pool(endpoint, min_size=1, max_size=4, max_idle=0.4, max_lifetime=None) as pool:
        # The min_size fill runs in the background; let it land first, or an acquire racing it opens
        # a connection of its own and the pool legitimately holds one more.
        await eventually(lambda: pool.get_stats()["pool_available"] == 1, what="min_size filled")
        conns = [await pool.acquire() for _ in range(3)]
        ids = [c.server_id for c in conns]
        for conn in conns:
            pool.release(conn)
        assert pool.get_stats()["pool_size"] == 3
        await eventually(lambda: pool.get_stats()["pool_size"] == 1, what="idle connections trimmed")
        await asyncio.sleep(1.0)  # several more maintenance passes: never below min_size
        stats = pool.get_stats()
        assert stats["pool_size"] == 1 and stats["pool_available"] == 1 and stats["idle_closed"] == 2
        # A trimmed connection's slot came back only once the server had closed its session.
        assert len([i for i in ids if admin.exists(i)]) == 1


@pytest.mark.asyncio
async def test_pre_ping_replaces_a_connection_the_server_killed(endpoint: Endpoint, admin: Admin) -> None:
    async with make_pool(endpoint, pre_ping=True, pre_ping_after_idle=0) as pool:
        async with pool.connection() as conn:
            killed = conn.server_id
        admin.kill(killed)
        await eventually(lambda: not admin.exists(killed), what="the server ended the session")
        async with pool.connection() as conn:
            assert conn.server_id != killed
            assert await scalar(conn, "SELECT 41 + 1") == 42
        stats = pool.get_stats()
        assert stats["connections_lost"] == 1 and stats["reconnects"] == 1 and stats["connections_num"] == 2


@pytest.mark.asyncio
async def test_without_pre_ping_a_dead_connection_fails_once_and_is_discarded(
    endpoint: Endpoint, admin: Admin
) -> None:
    async with make_pool(endpoint, pre_ping=False) as pool:
        async with pool.connection() as conn:
            killed = conn.server_id
        admin.kill(killed)
        await eventually(lambda: not admin.exists(killed), what="the server ended the session")
        with pytest.raises(pymysql.err.OperationalError):
            async with pool.connection() as conn:
                assert conn.server_id == killed
                await scalar(conn, "SELECT 1")
        assert conn.poisoned
        async with pool.connection() as conn:
            assert conn.server_id != killed and await scalar(conn, "SELECT 1") == 1
        stats = pool.get_stats()
        assert stats["returns_bad"] == 1 and stats["connections_lost"] == 0


@pytest.mark.asyncio
async def test_pre_ping_skips_connections_used_within_pre_ping_after_idle(endpoint: Endpoint) -> None:
    async with make_pool(endpoint, pre_ping=True, pre_ping_after_idle=0.5) as pool:
        for _ in range(5):  # back-to-back checkouts: the connection was just used, no ping
            async with pool.connection() as conn:
                assert await scalar(conn, "SELECT 1") == 1
        assert pool.get_stats()["pings"] == 0
        await asyncio.sleep(0.6)
        async with pool.connection() as conn:  # idle longer than 0.5 s: pinged first
            assert await scalar(conn, "SELECT 1") == 1
        stats = pool.get_stats()
        assert stats["pings"] == 1 and stats["connections_num"] == 1


@pytest.mark.asyncio
async def test_max_idle_counts_sessions_still_ending_as_gone(endpoint: Endpoint, admin: Admin) -> None:
    """min_size bounds the live connections: with two of four slots held by sessions still ending,
    a trim keeps the two idle connections past max_idle (closing them would leave none to serve)."""
    async with make_pool(endpoint, min_size=3, max_size=4, max_idle=3600, max_lifetime=None) as pool:
        await eventually(lambda: pool.get_stats()["pool_available"] == 3, what="min_size filled")
        conns = [await pool.acquire() for _ in range(4)]
        kept, broken = conns[:2], conns[2:]
        for conn in kept:
            pool.release(conn)
            conn.returned_at -= 7200  # idle for two hours: past max_idle
        for conn in broken:
            pool.abandon(conn, "test: a cancelled round trip")  # its session is KILLed in the background
            pool.release(conn)  # discarded; its slot is held until the server has ended the session
        pool.trim()
        stats = pool.get_stats()
        assert stats["idle_closed"] == 0 and stats["pool_available"] == 2
        assert all(admin.exists(conn.server_id) for conn in kept)


@pytest.mark.asyncio
async def test_max_idle_closes_only_connections_idle_past_it(endpoint: Endpoint, admin: Admin) -> None:
    async with make_pool(endpoint, min_size=0, max_size=3, max_idle=3600, max_lifetime=None) as pool:
        conns = [await pool.acquire() for _ in range(3)]
        old, fresh = conns[0], conns[1:]
        for conn in conns:
            pool.release(conn)
        old.returned_at -= 7200
        pool.trim()
        stats = pool.get_stats()
        assert stats["idle_closed"] == 1 and stats["pool_available"] == 2
        assert all(admin.exists(conn.server_id) for conn in fresh)
        await eventually(lambda: not admin.exists(old.server_id), what="the idle session is gone")


@pytest.mark.asyncio
async def test_max_idle_trims_to_min_size_counting_a_session_still_ending(endpoint: Endpoint) -> None:
    """Four slots, one held by a session still ending, three idle past max_idle, min_size 2: one idle
    connection is closed (three live minus one is min_size), the other two are kept."""
    async with make_pool(endpoint, min_size=2, max_size=4, max_idle=3600, max_lifetime=None) as pool:
        await eventually(lambda: pool.get_stats()["pool_available"] == 2, what="min_size filled")
        conns = [await pool.acquire() for _ in range(4)]
        for conn in conns[:3]:
            pool.release(conn)
            conn.returned_at -= 7200
        pool.abandon(conns[3], "test: a cancelled round trip")
        pool.release(conns[3])
        pool.trim()
        stats = pool.get_stats()
        assert stats["idle_closed"] == 1 and stats["pool_available"] == 2


@pytest.mark.asyncio
async def test_maintenance_closes_an_idle_connection_past_max_lifetime(
    endpoint: Endpoint, admin: Admin
) -> None:
    """Nobody borrows it again: the periodic pass, not the next checkout, ends the expired session."""
    async with make_pool(endpoint, min_size=0, max_lifetime=0.5, max_idle=None) as pool:
        async with pool.connection() as conn:
            server_id = conn.server_id
        await eventually(lambda: pool.get_stats()["expired"] == 1, what="the idle connection expired")
        await eventually(lambda: not admin.exists(server_id), what="its session is gone")
        assert pool.get_stats()["pool_size"] == 0
