"""A small asyncio connection pool on `aiomysql`, one per (alias, event loop).

aiomysql's own `Pool` has no acquire timeout, no lifetime limit, no pre-ping and no reset on return
(a connection handed back with autocommit off reaches the next borrower that way), and its
`pool_recycle` counts idle time, not age. This pool keeps aiomysql's connections and replaces the
pool. Its knobs are `DATABASES[alias]["OPTIONS"]["pool"]` (psycopg_pool's names, see `PoolConfig`).

Rules the pool keeps, whatever the caller does:

* it never hands out a connection that is closed, in a transaction, has autocommit off, had a round
  trip cancelled or timed out ("poisoned"), or saw an error that leaves its protocol state unknown;
* a connection returned in a transaction or with autocommit off is rolled back and reset in the
  background (or discarded when that fails); a poisoned one is closed at once;
* every round trip on a pooled connection is bounded by the alias's `read_timeout`/`write_timeout`
  (aiomysql has no read timeout); a timed-out connection is discarded, as after a cancel;
* with `kill_on_cancel`, a cancelled or timed-out query is killed on the server from a side
  connection (`KILL QUERY <id> <node_id>`, SingleStore's form: a load balancer cannot send it to
  another aggregator), best effort: the outcome of a cancelled write or COMMIT stays unknown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import aiomysql
import pymysql
from django.core.exceptions import ImproperlyConfigured
from django.db.utils import OperationalError as DjangoOperationalError

from django_singlestore_async.connection import PooledConnection, leaves_connection_usable

logger = logging.getLogger("django_singlestore_async.pool")

__all__ = [
    "AsyncConnectionPool",
    "PoolClosed",
    "PoolConfig",
    "PoolError",
    "PoolTimeout",
    "TooManyRequests",
    "close_pools",
    "pool_for",
]

# --------------------------------------------------------------------------------------------------
# Configuration


@dataclass(frozen=True)
class PoolConfig:
    """`OPTIONS["pool"]`: `True` (all defaults) or a dict of these keys, and no other."""

    min_size: int = 0
    """Connections kept open even when idle. 0: connect lazily (Django never connects at import)."""
    max_size: int = 10
    """Hard cap of open connections per (alias, event loop, process)."""
    timeout: float = 30.0
    """Seconds `acquire()` may wait for a connection before raising `PoolTimeout`."""
    max_waiting: int = 0
    """Tasks allowed to wait for a connection at once; one more raises `TooManyRequests` at once.
    0: unbounded."""
    max_lifetime: float | None = 3600.0
    """Seconds since a connection was *opened* (minus up to 5% jitter, so that connections opened
    together do not expire together) before the pool closes it on return. None: forever. Keep it
    below the server's `wait_timeout`."""
    max_idle: float | None = 600.0
    """Seconds a connection may sit idle before it is closed, down to `min_size`. None: forever."""
    pre_ping: bool = False
    """Ping (COM_PING, no reconnect) an idle connection before handing it out; a dead one is
    discarded and replaced. The engine defaults it to the alias's CONN_HEALTH_CHECKS."""
    lifo: bool = True
    """Hand out the most recently returned connection first, so that `max_idle` can shrink the pool."""
    kill_on_cancel: bool = False
    """Kill the server-side query when its round trip is cancelled or times out (best effort)."""

    def __post_init__(self) -> None:
        def bad(key: str, why: str) -> ImproperlyConfigured:
            return ImproperlyConfigured(f'OPTIONS["pool"]["{key}"] {why} (got {getattr(self, key)!r})')

        for key in ("min_size", "max_size", "max_waiting"):
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise bad(key, "must be an integer >= 0")
        if self.max_size < 1:
            raise bad("max_size", "must be at least 1")
        if self.min_size > self.max_size:
            raise bad("min_size", f"must not exceed max_size ({self.max_size})")
        for key, optional in (("timeout", False), ("max_lifetime", True), ("max_idle", True)):
            value = getattr(self, key)
            if value is None and optional:
                continue
            if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
                raise bad(key, "must be a number of seconds > 0" + (" or None" if optional else ""))
        for key in ("pre_ping", "lifo", "kill_on_cancel"):
            if not isinstance(getattr(self, key), bool):
                raise bad(key, "must be True or False")

    @classmethod
    def keys(cls) -> frozenset[str]:
        return frozenset(f.name for f in fields(cls))

    @classmethod
    def from_options(cls, value: object, **defaults: Any) -> PoolConfig:
        """Validate `OPTIONS["pool"]` once: `True`/`None` or a dict; unknown keys raise naming the key.
        `defaults` fill keys the user left out (the engine passes `pre_ping=CONN_HEALTH_CHECKS`)."""
        if value is None or value is True:
            return cls(**defaults)
        if not isinstance(value, Mapping):
            raise ImproperlyConfigured(f'OPTIONS["pool"] must be True or a dict, not {type(value).__name__}')
        unknown = sorted(set(value) - cls.keys())
        if unknown:
            raise ImproperlyConfigured(
                f'OPTIONS["pool"] has unknown key {unknown[0]!r}; the keys are: {", ".join(sorted(cls.keys()))}'
            )
        return cls(**{**defaults, **value})


# --------------------------------------------------------------------------------------------------
# Errors: Django's OperationalError, so `except django.db.OperationalError` sees them.


class PoolError(DjangoOperationalError):
    """Base class of the pool's own errors."""


class PoolTimeout(PoolError):
    """No connection became available within `timeout` seconds."""


class TooManyRequests(PoolError):
    """`max_waiting` tasks already wait for a connection."""


class PoolClosed(PoolError):
    """The pool is closed (or closing)."""


# --------------------------------------------------------------------------------------------------
# The pool


class AsyncConnectionPool:
    """Connections to one database for one event loop.

    `connect_kwargs` go to `aiomysql.Connection` (the engine derives them from the same connection
    parameters as the sync backend). `session_init` statements run once per new connection.
    `connect_timeout` bounds the whole connect (TCP, TLS, handshake, session init: aiomysql's own
    covers only the TCP open); `read_timeout` + `write_timeout` bound every round trip."""

    def __init__(
        self,
        connect_kwargs: Mapping[str, Any],
        config: PoolConfig | None = None,
        *,
        name: str = "default",
        session_init: Sequence[str] = (),
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        write_timeout: float | None = None,
        ssl_required: bool | None = None,
        connection_class: type[aiomysql.Connection] = aiomysql.Connection,
    ) -> None:
        self.config = config or PoolConfig()
        self.connection_class = connection_class
        self.name = name
        self.connect_kwargs = dict(connect_kwargs)
        self.connect_kwargs.setdefault("autocommit", True)
        self.session_init = tuple(session_init)
        self.connect_timeout = connect_timeout
        # With an SSLContext aiomysql silently stays on plain TCP when the server offers no TLS;
        # only ssl_mode PREFERRED allows that.
        self.ssl_required = (
            self.connect_kwargs.get("ssl") is not None if ssl_required is None else ssl_required
        )
        self.round_trip_timeout = (read_timeout or 0) + (write_timeout or 0) or None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: deque[PooledConnection] = deque()
        self._in_use: set[PooledConnection] = set()
        self._size = 0  # open + opening + resetting connections
        self._waiters: deque[asyncio.Future[PooledConnection | None]] = deque()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._maintainer: asyncio.Task[None] | None = None
        self._all_returned: asyncio.Event | None = None
        self._opened = False
        self._closed = False
        self._replace_debt = 0
        self._last_connect_error: BaseException | None = None
        self.settings_key: Hashable = None  # set by pool_for()
        self._stats: dict[str, int] = dict.fromkeys(self._COUNTERS, 0)

    _COUNTERS = (
        "requests_num",  # acquire() calls
        "requests_queued",  # of which had to wait
        "requests_wait_ms",  # total time spent waiting
        "requests_errors",  # of which failed (timeout, too many waiting, closed, connect error)
        "timeouts",  # acquire timeouts
        "too_many_waiting",  # refused at once because of max_waiting
        "connections_num",  # connections opened
        "connections_ms",  # total time spent opening them
        "connections_errors",  # failed connection attempts
        "connections_lost",  # idle connections found dead by pre-ping
        "reconnects",  # connections opened to replace a discarded one
        "discards",  # connections closed by the pool, for any reason
        "returns_bad",  # returned poisoned, closed, or with a failed reset
        "resets",  # returned in a transaction / with autocommit off, and reset
        "expired",  # closed because of max_lifetime
        "idle_closed",  # closed because of max_idle
        "terminated",  # still borrowed when close() gave up waiting
        "kills",  # KILL QUERY sent for a cancelled/timed-out query
    )

    def __repr__(self) -> str:
        return f"<AsyncConnectionPool {self.name!r} size={self._size} idle={len(self._idle)} in_use={len(self._in_use)}>"

    # -- lifecycle ---------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

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
        if self._closed:
            return
        self._closed = True
        for fut in self._waiters:
            if not fut.done():
                fut.set_exception(PoolClosed(f"pool {self.name!r} terminated while waiting for a connection"))
        self._waiters.clear()
        if self._maintainer is not None:
            self._maintainer.cancel()
        for conn in self._idle:
            conn.poison("pool terminated")
        self._size -= len(self._idle)
        self._stats["discards"] += len(self._idle)
        self._idle.clear()

    async def close(self, timeout: float = 5.0) -> int:
        """Close the pool: refuse new requests, close idle connections, wait up to `timeout` seconds
        for borrowed ones to come back, then terminate those still out (returns how many)."""
        if self._closed:
            return 0
        self._closed = True
        for fut in self._waiters:
            if not fut.done():
                fut.set_exception(PoolClosed(f"pool {self.name!r} closed while waiting for a connection"))
        self._waiters.clear()
        if self._maintainer is not None:
            self._maintainer.cancel()
            await asyncio.wait([self._maintainer], timeout=1.0)
        idle, self._idle = list(self._idle), deque()
        self._size -= len(idle)
        self._stats["discards"] += len(idle)
        await self._close_gracefully(idle, timeout)
        terminated = 0
        if self._in_use:
            assert self._all_returned is not None
            self._all_returned.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._all_returned.wait()
        for conn in list(self._in_use):
            terminated += 1
            self._in_use.discard(conn)
            self._size -= 1
            self._stats["discards"] += 1
            conn.poison("terminated: the pool closed while it was borrowed")
        if terminated:
            self._stats["terminated"] += terminated
            logger.warning(
                "pool %r: %d connection(s) still borrowed after %gs; terminated",
                self.name,
                terminated,
                timeout,
            )
        tasks = [t for t in self._tasks if not t.done()]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1.0)
        return terminated

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
        self._stats["requests_num"] += 1
        limit = self.config.timeout if timeout is None else timeout
        deadline = asyncio.timeout(limit)
        try:
            async with deadline:
                return await self._acquire()
        except TimeoutError:
            if not deadline.expired():
                raise
            self._stats["timeouts"] += 1
            self._stats["requests_errors"] += 1
            raise PoolTimeout(
                f"pool {self.name!r}: no connection within {limit:g}s "
                f"(size {self._size}/{self.config.max_size}, {len(self._in_use)} in use, "
                f"{len(self._waiters)} other task(s) waiting)"
            ) from None
        except asyncio.CancelledError:
            raise
        except BaseException:
            self._stats["requests_errors"] += 1
            raise

    async def _acquire(self) -> PooledConnection:
        while True:
            conn = self._take_idle()
            if conn is None and self._size < self.config.max_size:
                conn = await self._open_connection()
                fresh = True
            elif conn is None:
                conn = await self._wait_for_connection()
                if conn is None:  # a slot was freed: try again
                    continue
                fresh = False
            else:
                fresh = False
            # Registered as borrowed before any further await, so a cancel below cannot strand it.
            self._in_use.add(conn)
            if self.config.pre_ping and not fresh:
                try:
                    await conn.ping()
                except asyncio.CancelledError:
                    self.release(conn)
                    raise
                except Exception as exc:
                    logger.info(
                        "pool %r: pre-ping failed on connection %s: %r", self.name, conn.server_id, exc
                    )
                    conn.poison(f"pre-ping failed: {exc!r}")
                    self._in_use.discard(conn)
                    self._discard(conn, "connections_lost")
                    continue
            return conn

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
            self._stats["too_many_waiting"] += 1
            raise TooManyRequests(
                f"pool {self.name!r}: {len(self._waiters)} task(s) already wait for a connection "
                f"(max_waiting={self.config.max_waiting}; size {self._size}/{self.config.max_size})"
            )
        fut: asyncio.Future[PooledConnection | None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        self._stats["requests_queued"] += 1
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
            self._stats["requests_wait_ms"] += int((time.monotonic() - started) * 1000)

    def release(self, conn: PooledConnection) -> None:
        """Give a borrowed connection back. Synchronous, so it is safe in `finally` while cancelled:
        anything that needs I/O (rollback, autocommit back on) happens in a background task."""
        if conn not in self._in_use:
            if self._closed and conn.poisoned:
                return  # terminated by close(): a late return is harmless
            raise ValueError(f"{conn!r} is not borrowed from pool {self.name!r}")
        self._in_use.discard(conn)
        if self._closed:
            self._size -= 1
            self._stats["discards"] += 1
            conn.poison("returned after the pool closed")
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
            self._size -= 1
            self._stats["discards"] += 1
            conn.poison("returned after the pool closed")
        elif conn.poisoned:
            self._discard(conn, "returns_bad")
        else:
            self._stats["resets"] += 1
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

    def _discard(self, conn: PooledConnection, reason: str) -> None:
        self._size -= 1
        self._stats["discards"] += 1
        self._stats[reason] += 1
        if reason in ("returns_bad", "expired", "connections_lost"):
            self._replace_debt += 1
        if conn.poisoned or conn.closed:
            conn.poison(conn.poisoned or reason)
        else:
            conn.poisoned = reason
            self._spawn(self._close_gracefully([conn], 5.0), f"pool-close-{conn.server_id}")
        self._wake_one_waiter()
        self._fill_to_min()

    # -- connecting --------------------------------------------------------------------------------

    async def _open_connection(self, reserved: bool = False) -> PooledConnection:
        """Open a connection in a slot (reserved by the caller, or here); the slot is released again
        on failure or cancel."""
        if not reserved:
            self._size += 1
        started = time.monotonic()
        raw = self.connection_class(**self.connect_kwargs)
        limit = self.connect_timeout or self.config.timeout
        try:
            async with asyncio.timeout(limit):
                await raw._connect()
                if self.ssl_required and raw._writer.get_extra_info("ssl_object") is None:
                    raise pymysql.err.OperationalError(
                        2026,
                        "SSL connection error: the server does not support TLS but OPTIONS['ssl'] is set",
                    )
                for statement in self.session_init:
                    async with raw.cursor() as cursor:
                        await cursor.execute(statement)
                if not raw.get_autocommit():
                    await raw.autocommit(True)
                conn = PooledConnection(raw, self, self._jittered_lifetime())
                if self.config.kill_on_cancel:
                    conn.server_id, conn.node_id = await self._session_ids(raw)
        except BaseException as exc:
            raw.close()
            self._size -= 1
            self._wake_one_waiter()
            if isinstance(exc, asyncio.CancelledError):
                raise
            self._stats["connections_errors"] += 1
            self._last_connect_error = exc
            if isinstance(exc, TimeoutError):
                raise pymysql.err.OperationalError(
                    2003,
                    f"Can't connect to server on {self.connect_kwargs.get('host')!r} "
                    f"(connect_timeout of {limit:g}s exceeded)",
                ) from exc
            raise
        self._stats["connections_num"] += 1
        self._stats["connections_ms"] += int((time.monotonic() - started) * 1000)
        if self._replace_debt:
            self._replace_debt -= 1
            self._stats["reconnects"] += 1
        return conn

    async def _session_ids(self, raw: aiomysql.Connection) -> tuple[int, int | None]:
        """`CONNECTION_ID()` and the aggregator the session is on (SingleStore's `@@aggregator_id`),
        for `KILL QUERY <id> <node_id>`. On MySQL/MariaDB (no such variable) the node id is None."""
        async with raw.cursor() as cursor:
            try:
                await cursor.execute("SELECT CONNECTION_ID(), @@aggregator_id")
            except pymysql.err.MySQLError as exc:
                if not leaves_connection_usable(exc):
                    raise
                await cursor.execute("SELECT CONNECTION_ID(), NULL")
            row = await cursor.fetchone()
        return int(row[0]), None if row[1] is None else int(row[1])

    def _jittered_lifetime(self) -> float | None:
        lifetime = self.config.max_lifetime
        return None if lifetime is None else lifetime * random.uniform(0.95, 1.0)

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
            self._size -= 1
            conn.poison("opened after the pool closed")
            return
        self._return_idle(conn)

    async def _close_gracefully(self, conns: list[PooledConnection], timeout: float) -> None:
        """COM_QUIT each connection (bounded), falling back to closing the socket."""
        for conn in conns:
            try:
                async with asyncio.timeout(timeout):
                    await conn.raw.ensure_closed()
            except Exception:
                pass
            finally:
                conn.raw.close()

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
                if self._size <= self.config.min_size:
                    break
                if now - conn.returned_at >= max_idle:
                    self._idle.remove(conn)
                    self._discard(conn, "idle_closed")
        self._fill_to_min()

    # -- kill on cancel ----------------------------------------------------------------------------

    def _kill_query_soon(self, conn: PooledConnection) -> None:
        self._spawn(self._kill_query(conn.server_id, conn.node_id), f"pool-kill-{conn.server_id}")

    async def _kill_query(self, server_id: int, node_id: int | None) -> None:
        """`KILL QUERY <id> <node_id>` from a side connection outside the pool's limits."""
        statement = f"KILL QUERY {int(server_id)}" + (f" {int(node_id)}" if node_id is not None else "")
        side = self.connection_class(**self.connect_kwargs)
        try:
            async with asyncio.timeout(self.connect_timeout or 10.0):
                await side._connect()
                async with side.cursor() as cursor:
                    await cursor.execute(statement)
            self._stats["kills"] += 1
            logger.info("pool %r: %s after a cancelled query", self.name, statement)
        except Exception as exc:
            logger.warning("pool %r: %s failed: %r", self.name, statement, exc)
        finally:
            side.close()

    # -- helpers -----------------------------------------------------------------------------------

    def _bind_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
            self._all_returned = asyncio.Event()
        elif self._loop is not loop:
            raise RuntimeError(
                f"pool {self.name!r} belongs to another event loop; use pool_for() to get this loop's pool"
            )

    def _spawn(self, coro: Awaitable[Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- statistics --------------------------------------------------------------------------------

    def get_stats(self) -> dict[str, int]:
        """Gauges (`pool_min`, `pool_max`, `pool_size`, `pool_available`, `in_use`,
        `requests_waiting`) and the counters since the last `pop_stats()` (psycopg_pool's style)."""
        gauges = {
            "pool_min": self.config.min_size,
            "pool_max": self.config.max_size,
            "pool_size": self._size,
            "pool_available": len(self._idle),
            "in_use": len(self._in_use),
            "requests_waiting": sum(1 for f in self._waiters if not f.done()),
        }
        return {**gauges, **self._stats}

    def pop_stats(self) -> dict[str, int]:
        """`get_stats()`, then reset the counters."""
        stats = self.get_stats()
        self._stats = dict.fromkeys(self._COUNTERS, 0)
        return stats


# --------------------------------------------------------------------------------------------------
# Registry: one pool per (alias, event loop)

_registry: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, AsyncConnectionPool]] = (
    weakref.WeakKeyDictionary()
)


def pool_for(
    alias: str, factory: Callable[[], AsyncConnectionPool], key: Hashable = None
) -> AsyncConnectionPool:
    """This event loop's pool for `alias`, built by `factory()` on first use. A new loop (a test, an
    `async_to_sync` call, a WSGI request) gets a new pool instead of one bound to a dead loop.

    `key` describes the settings the pool was built from; when it changes (the test runner renames
    NAME to the test database, `override_settings`), the old pool is terminated and a new one built."""
    loop = asyncio.get_running_loop()
    pools = _registry.setdefault(loop, {})
    pool = pools.get(alias)
    if pool is not None and not pool.closed and pool.settings_key != key:
        logger.info("pool %r: settings changed; terminating the old pool", alias)
        pool.terminate()
    if pool is None or pool.closed:
        pool = pools[alias] = factory()
        pool.settings_key = key
    return pool


def loop_pools() -> dict[str, AsyncConnectionPool]:
    """The pools of the running event loop, by alias."""
    return dict(_registry.get(asyncio.get_running_loop(), {}))


async def close_pools(alias: str | None = None, timeout: float = 5.0) -> int:
    """Close the running loop's pools (or the one of `alias`); returns how many borrowed connections
    had to be terminated. The ASGI lifespan wrapper calls it at shutdown."""
    pools = _registry.get(asyncio.get_running_loop(), {})
    names = [alias] if alias is not None else list(pools)
    terminated = 0
    for name in names:
        pool = pools.pop(name, None)
        if pool is not None:
            terminated += await pool.close(timeout)
    return terminated
