"""A small asyncio connection pool on `aiomysql`, one per (alias, event loop).

aiomysql's own `Pool` has no acquire timeout, no lifetime limit, no pre-ping and no reset on return
(a connection handed back with autocommit off reaches the next borrower that way), and its
`pool_recycle` counts idle time, not age. This pool keeps aiomysql's connections and replaces the
pool. Its knobs are `DATABASES[alias]["OPTIONS"]["pool"]` (`PoolConfig`, psycopg_pool's names).

Rules the pool keeps, whatever the caller does:

* it never hands out a connection that is closed, in a transaction, has autocommit off, had a round
  trip cancelled or timed out ("poisoned"), or saw an error that leaves its protocol state unknown;
* a connection returned in a transaction or with autocommit off is rolled back and reset in the
  background (or discarded when that fails); a poisoned one is discarded;
* every round trip on a pooled connection is bounded by the alias's `read_timeout`/`write_timeout`
  (aiomysql has no read timeout); a timed-out connection is discarded, as after a cancel;
* `max_size` bounds server sessions: a slot is taken before a connect starts and given back only
  once the session is over. With `kill_on_cancel` (the default) a cancelled or timed-out connection
  is KILLed from the pool's one side connection and keeps its slot until the server has closed it
  (`pool_kill`); the outcome of a cancelled write or COMMIT stays unknown.

A connection leaves the pool through `_discard` (which counts why) and its slot comes back through
`_release_slot`, once its server session has ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import aiomysql
import pymysql

from django_singlestore_async.connection import PooledConnection
from django_singlestore_async.pool_base import BasePool
from django_singlestore_async.pool_config import PoolConfig
from django_singlestore_async.pool_errors import (
    CR_CONN_HOST_ERROR,
    PoolClosed,
    PoolError,
    PoolTimeout,
    TooManyRequests,
)
from django_singlestore_async.pool_kill import SESSION_END_TIMEOUT, kill_session, quit_session
from django_singlestore_async.pool_registry import close_pools, loop_pools, pool_for

logger = logging.getLogger("django_singlestore_async.pool")

__all__ = [
    "AsyncConnectionPool",
    "PoolClosed",
    "PoolConfig",
    "PoolError",
    "PoolTimeout",
    "TooManyRequests",
    "close_pools",
    "loop_pools",
    "pool_for",
]

#: Discard reasons after which a replacement connection counts as a reconnect.
_REPLACED = frozenset({"returns_bad", "expired", "connections_lost"})


class AsyncConnectionPool(BasePool):
    """Connections to one database for one event loop (the constructor is `BasePool`'s)."""

    # -- lifecycle ---------------------------------------------------------------------------------

    async def open(self, wait: bool = False, timeout: float | None = None) -> None:
        """Start the maintenance task and fill to `min_size` (waiting for it if `wait`)."""
        self._bind_loop()
        if self._closed:
            raise PoolClosed(f"pool {self.name!r} is closed")
        if not self._opened:
            self._opened = True
            self._maintainer = asyncio.get_running_loop().create_task(
                self._maintain(), name=f"pool-maintain-{self.name}"
            )
        fill = self._fill_to_min()
        if wait and fill:
            async with asyncio.timeout(timeout if timeout is not None else self.config.timeout):
                await asyncio.gather(*fill)
            if self._size < self.config.min_size:
                raise PoolError(
                    f"pool {self.name!r}: could not open min_size={self.config.min_size} connections "
                    f"(size {self._size}): {self._last_connect_error!r}"
                )

    async def __aenter__(self) -> AsyncConnectionPool:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def terminate(self) -> None:
        """Close at once, without I/O: fail the waiters, close idle sockets; borrowed connections are
        closed when they come back. For a pool whose settings changed under it."""
        if self._begin_closing("terminated"):
            for conn in self._take_all_idle():
                conn.poison("pool terminated")
                self._discard(conn, "discards")
            self._killer.close(finished=True)

    async def close(self, timeout: float = 5.0) -> int:
        """Close the pool: refuse new requests, close idle connections, wait up to `timeout` seconds
        for borrowed ones to come back, then terminate those still out (returns how many)."""
        if not self._begin_closing("closed"):
            return 0
        if self._maintainer is not None:
            await asyncio.wait([self._maintainer], timeout=1.0)
        for conn in self._take_all_idle():
            self._discard(conn, "discards")
        if self._in_use:
            assert self._all_returned is not None
            self._all_returned.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._all_returned.wait()
        terminated = list(self._in_use)
        for conn in terminated:
            self.abandon(conn, "terminated: the pool closed while it was borrowed")
            self._in_use.discard(conn)
            self._discard(conn, "terminated")
        if terminated:
            logger.warning(
                "pool %r: %d connection(s) still borrowed after %gs; terminated",
                self.name,
                len(terminated),
                timeout,
            )
        tasks = [t for t in self._tasks if not t.done()]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=timeout + SESSION_END_TIMEOUT)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1.0)
        self._killer.close(finished=True)
        return len(terminated)

    def _begin_closing(self, how: str) -> bool:
        """Refuse new requests and fail the waiters; False when already closed."""
        if self._closed:
            return False
        self._closed = True
        for fut in self._waiters:
            if not fut.done():
                fut.set_exception(PoolClosed(f"pool {self.name!r} {how} while waiting for a connection"))
        self._waiters.clear()
        if self._maintainer is not None:
            self._maintainer.cancel()
        return True

    def _take_all_idle(self) -> list[PooledConnection]:
        idle, self._idle = list(self._idle), deque()
        return idle

    # -- acquire / release -------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def connection(self, timeout: float | None = None) -> AsyncIterator[PooledConnection]:
        """`async with pool.connection() as conn:` borrow a connection and always return it."""
        conn = await self.acquire(timeout)
        try:
            yield conn
        finally:
            self.release(conn)

    async def acquire(self, timeout: float | None = None) -> PooledConnection:
        """A healthy connection with autocommit on and no open transaction. Raises `PoolTimeout`
        after `timeout` (default: the pool's) seconds, `TooManyRequests` when `max_waiting` tasks
        already wait, `PoolClosed` once closed, or the driver's OperationalError when connecting fails."""
        self._bind_loop()
        if self._closed:
            raise PoolClosed(f"pool {self.name!r} is closed")
        if not self._opened:
            await self.open()
        self._count("requests_num")
        limit = self.config.timeout if timeout is None else timeout
        deadline = asyncio.timeout(limit)
        try:
            async with deadline:
                return await self._acquire()
        except TimeoutError:
            if not deadline.expired():
                raise
            self._count("timeouts")
            self._count("requests_errors")
            raise PoolTimeout(
                f"pool {self.name!r}: no connection within {limit:g}s "
                f"(size {self._size}/{self.config.max_size}, {len(self._in_use)} in use, "
                f"{len(self._waiters)} other task(s) waiting)"
            ) from None
        except asyncio.CancelledError:
            raise
        except BaseException:
            self._count("requests_errors")
            raise

    async def _acquire(self) -> PooledConnection:
        while True:
            conn = self._take_idle()
            fresh = False
            if conn is None and self._size < self.config.max_size:
                conn, fresh = await self._open_connection(), True
            elif conn is None:
                conn = await self._wait_for_connection()
                if conn is None:  # a slot was freed: try again
                    continue
            # Registered as borrowed before any further await, so a cancel below cannot strand it.
            self._in_use.add(conn)
            if not fresh and self._needs_ping(conn) and not await self._pre_ping(conn):
                continue
            return conn

    def _needs_ping(self, conn: PooledConnection) -> bool:
        config = self.config
        return config.pre_ping and time.monotonic() - conn.returned_at >= config.pre_ping_after_idle

    async def _pre_ping(self, conn: PooledConnection) -> bool:
        """Ping a borrowed connection; a dead one is discarded (False)."""
        self._count("pings")
        try:
            await conn.ping()
        except asyncio.CancelledError:
            self.release(conn)
            raise
        except Exception as exc:
            logger.info("pool %r: pre-ping failed on connection %s: %r", self.name, conn.server_id, exc)
            conn.poison(f"pre-ping failed: {exc!r}")
            self._in_use.discard(conn)
            self._discard(conn, "connections_lost")
            return False
        return True

    def _take_idle(self) -> PooledConnection | None:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop() if self.config.lifo else self._idle.popleft()
            if conn.closed or conn.poisoned or conn.in_transaction or not conn.raw.get_autocommit():
                self._discard(conn, "returns_bad")
            elif conn.expired(now):
                self._discard(conn, "expired")
            else:
                return conn
        return None

    async def _wait_for_connection(self) -> PooledConnection | None:
        if self.config.max_waiting and len(self._waiters) >= self.config.max_waiting:
            self._count("too_many_waiting")
            raise TooManyRequests(
                f"pool {self.name!r}: {len(self._waiters)} task(s) already wait for a connection "
                f"(max_waiting={self.config.max_waiting}; size {self._size}/{self.config.max_size})"
            )
        fut: asyncio.Future[PooledConnection | None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        self._count("requests_queued")
        started = time.monotonic()
        try:
            return await fut
        except BaseException:
            # Timed out or cancelled: if a connection was handed over in the same instant, pass it on.
            if fut in self._waiters:
                self._waiters.remove(fut)
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                handed = fut.result()
                if handed is not None:
                    self._return_idle(handed)
                else:
                    self._wake_one_waiter()
            raise
        finally:
            self._count("requests_wait_ms", int((time.monotonic() - started) * 1000))

    def release(self, conn: PooledConnection) -> None:
        """Give a borrowed connection back. Synchronous, so it is safe in `finally` while cancelled:
        anything that needs I/O (rollback, autocommit back on, ending a session) happens in a
        background task."""
        if conn not in self._in_use:
            if self._closed and conn.poisoned:
                return  # terminated by close(): a late return is harmless
            raise ValueError(f"{conn!r} is not borrowed from pool {self.name!r}")
        self._in_use.discard(conn)
        if self._closed:
            self._discard(conn, "discards")
        elif conn.closed or conn.poisoned:
            self._discard(conn, "returns_bad")
        elif conn.expired():
            self._discard(conn, "expired")
        elif conn.in_transaction or not conn.raw.get_autocommit():
            self._spawn(self._reset(conn), f"pool-reset-{conn.server_id}")
        else:
            self._return_idle(conn)
        if not self._in_use and self._all_returned is not None:
            self._all_returned.set()

    async def _reset(self, conn: PooledConnection) -> None:
        """Roll back and turn autocommit back on, or discard the connection."""
        try:
            async with conn.round_trip("reset"):
                await conn.raw.rollback()
                await conn.raw.autocommit(True)
            if conn.in_transaction or not conn.raw.get_autocommit():
                raise RuntimeError("still in a transaction after ROLLBACK")
        except Exception as exc:
            logger.info("pool %r: could not reset connection %s: %r", self.name, conn.server_id, exc)
            conn.poison(f"reset failed: {exc!r}")
        if self._closed:
            self._discard(conn, "discards")
        elif conn.poisoned:
            self._discard(conn, "returns_bad")
        else:
            self._count("resets")
            self._return_idle(conn)

    def _return_idle(self, conn: PooledConnection) -> None:
        conn.returned_at = time.monotonic()
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(conn)
                return
        self._idle.append(conn)

    def _wake_one_waiter(self) -> None:
        """A slot became free: let the first waiter open a connection."""
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                return

    # -- ending connections: the one place slots are given back ------------------------------------

    def abandon(self, conn: PooledConnection, reason: str) -> None:
        """A round trip on `conn` was cancelled or timed out, so its session may still be running a
        statement. Poison it and, with `kill_on_cancel`, start ending its server session: the KILL
        goes out before the socket is closed. Synchronous (it runs while a task is being cancelled)."""
        if conn.poisoned is None:
            conn.poisoned = reason
            self._count("abandoned")
        if conn.ending is not None or conn.closed:
            return
        if not self.config.kill_on_cancel:
            conn.poison(reason)
            return
        conn.ending = self._kill_session(conn.raw, conn.server_id, conn.node_id)

    def _kill_session(
        self, raw: aiomysql.Connection, server_id: int, node_id: int | None
    ) -> asyncio.Task[Any]:
        return self._spawn(kill_session(self._killer, raw, server_id, node_id), f"pool-kill-{server_id}")

    def _discard(self, conn: PooledConnection, reason: str) -> None:
        """Take `conn` out of the pool for good (counted now); its slot comes back once its session
        has ended."""
        self._count("discards")
        if reason != "discards":
            self._count(reason)
        if reason in _REPLACED:
            self._replace_debt += 1
        if conn.ending is None and not conn.closed:
            conn.poisoned = conn.poisoned or reason
            conn.ending = self._spawn(quit_session(conn.raw), f"pool-close-{conn.server_id}")
        self._release_slot_after(conn.ending, refill=True)

    def _release_slot_after(self, ending: asyncio.Task[Any] | None, refill: bool) -> None:
        if ending is None or ending.done():
            self._release_slot(refill)
        else:
            self._ending += 1
            self._spawn(self._release_slot_when_done(ending, refill), "pool-release-slot")

    async def _release_slot_when_done(self, ending: asyncio.Task[Any], refill: bool) -> None:
        try:
            await asyncio.shield(ending)
        except BaseException:
            if not ending.done():
                raise  # this task was cancelled (the pool is closing); the slot is moot
        finally:
            if ending.done():
                self._ending -= 1
                self._release_slot(refill)

    def _release_slot(self, refill: bool) -> None:
        """The one place a slot is given back: a waiter is woken, the minimum refilled (not after a
        failed connect: the next acquire or maintenance pass retries, without a busy loop)."""
        self._size -= 1
        self._wake_one_waiter()
        if refill:
            self._fill_to_min()

    # -- connecting --------------------------------------------------------------------------------

    async def _open_connection(self, reserved: bool = False) -> PooledConnection:
        """Open a connection in a slot (reserved by the caller, or here); the slot is released again
        on failure or cancel (after the session was ended, when the handshake had created one)."""
        if not reserved:
            self._size += 1
        started = time.monotonic()
        raw = self.connection_class(**self.connect_kwargs)
        if self.config.kill_on_cancel:
            # aiomysql closes the socket when a read is cancelled, before the KILL could go out;
            # the pool closes it itself, after the KILL (`_failed_connect`, `abandon`).
            setattr(raw, "_close_on_cancel", lambda: None)  # noqa: B010 - mypy: no method assignment
        limit = self.connect_timeout or self.config.timeout
        try:
            async with asyncio.timeout(limit):
                server_id, node_id = await self._handshake(raw)
            conn = PooledConnection(raw, self, self._jittered_lifetime())
            conn.server_id, conn.node_id = server_id, node_id
            if self.config.kill_on_cancel:
                on_cancel = functools.partial(self.abandon, conn, "cancelled during a read")
                setattr(raw, "_close_on_cancel", on_cancel)  # noqa: B010
        except BaseException as exc:
            self._failed_connect(raw, exc)
            if isinstance(exc, TimeoutError):
                raise pymysql.err.OperationalError(
                    CR_CONN_HOST_ERROR,
                    f"Can't connect to server on {self.connect_kwargs.get('host')!r} "
                    f"(connect_timeout of {limit:g}s exceeded)",
                ) from exc
            raise
        self._count("connections_num")
        self._count("connections_ms", int((time.monotonic() - started) * 1000))
        if self._replace_debt:
            self._replace_debt -= 1
            self._count("reconnects")
        return conn

    def _failed_connect(self, raw: aiomysql.Connection, exc: BaseException) -> None:
        """A connect failed or was cancelled: its slot comes back, after the server session (if the
        handshake got that far) has been ended."""
        if not isinstance(exc, asyncio.CancelledError):
            self._count("connections_errors")
            self._last_connect_error = exc
        handshake = getattr(raw, "server_thread_id", None)
        if not handshake or raw._writer is None or not self.config.kill_on_cancel:
            raw.close()
            self._release_slot(refill=False)
        else:
            self._release_slot_after(self._kill_session(raw, handshake[0], None), refill=False)

    def _fill_to_min(self) -> list[asyncio.Task[Any]]:
        if self._closed or not self._opened:
            return []
        tasks = []
        while self._size < self.config.min_size:
            self._size += 1  # reserved now, so that repeated calls do not over-fill
            tasks.append(self._spawn(self._grow(), f"pool-grow-{self.name}"))
        return tasks

    async def _grow(self) -> None:
        """Open one connection in a slot `_fill_to_min` reserved, and make it idle."""
        try:
            conn = await self._open_connection(reserved=True)
        except Exception as exc:
            logger.warning("pool %r: could not open a connection: %r", self.name, exc)
            return
        if self._closed:
            self._discard(conn, "discards")
        else:
            self._return_idle(conn)

    # -- maintenance -------------------------------------------------------------------------------

    async def _maintain(self) -> None:
        """Close idle connections past `max_idle` (down to `min_size`) or `max_lifetime`; refill."""
        bounds = [b for b in (self.config.max_idle, self.config.max_lifetime) if b is not None]
        interval = min([*bounds, 120.0]) / 2
        while not self._closed:
            await asyncio.sleep(max(interval, 0.05))
            self.trim()

    def trim(self) -> None:
        """One maintenance pass (the maintenance task runs it periodically)."""
        now = time.monotonic()
        for conn in list(self._idle):
            if conn.expired(now):
                self._idle.remove(conn)
                self._discard(conn, "expired")
        max_idle = self.config.max_idle
        if max_idle is not None:
            # The oldest-returned first; never below min_size.
            for conn in sorted(self._idle, key=lambda c: c.returned_at):
                if self._size - self._ending <= self.config.min_size:
                    break
                if now - conn.returned_at >= max_idle:
                    self._idle.remove(conn)
                    self._discard(conn, "idle_closed")
        self._fill_to_min()
