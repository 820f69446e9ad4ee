"""What the async pool is made of besides its logic: its settings, its statistics, the connect
sequence and the event loop it belongs to (psycopg_pool's `BasePool`, for one loop)."""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Awaitable, Hashable, Mapping, Sequence
from typing import Any

import aiomysql
import pymysql

from django_singlestore_async.connection import PooledConnection
from django_singlestore_async.pool_config import PoolConfig
from django_singlestore_async.pool_errors import CR_SSL_CONNECTION_ERROR, ER_UNKNOWN_SYSTEM_VARIABLE
from django_singlestore_async.pool_kill import SessionKiller

__all__ = ["COUNTERS", "BasePool"]

COUNTERS = (
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
    "pings",  # pre-pings sent (only to connections idle longer than pre_ping_after_idle)
    "reconnects",  # connections opened to replace a discarded one
    "discards",  # connections closed by the pool, for any reason
    "returns_bad",  # returned poisoned, closed, or with a failed reset
    "resets",  # returned in a transaction / with autocommit off, and reset
    "expired",  # closed because of max_lifetime
    "idle_closed",  # closed because of max_idle
    "terminated",  # still borrowed when close() gave up waiting
    "abandoned",  # round trips cancelled or timed out (their sessions are ended)
    "kills",  # KILL CONNECTION sent and accepted
    "kills_gone",  # KILL answered 1094: the session had already ended
    "kills_failed",  # KILL not delivered (the slot is given back when the socket closes)
    "kill_connections_num",  # side connections opened for KILLs (at most one open at a time)
)


class BasePool:
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
        self.settings_key: Hashable = None  # set by pool_for()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: deque[PooledConnection] = deque()
        self._in_use: set[PooledConnection] = set()
        self._size = 0  # slots taken: open, opening, resetting and ending connections
        self._ending = 0  # of which held by connections whose server session is being ended
        self._waiters: deque[asyncio.Future[PooledConnection | None]] = deque()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._maintainer: asyncio.Task[None] | None = None
        self._all_returned: asyncio.Event | None = None
        self._opened = False
        self._closed = False
        self._replace_debt = 0
        self._last_connect_error: BaseException | None = None
        self._stats: dict[str, int] = dict.fromkeys(COUNTERS, 0)
        self._killer = SessionKiller(name, self._open_side_connection, connect_timeout or 10.0, self._count)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} size={self._size} idle={len(self._idle)} in_use={len(self._in_use)}>"

    @property
    def closed(self) -> bool:
        return self._closed

    async def _handshake(self, raw: aiomysql.Connection) -> tuple[int, int | None]:
        """Connect `raw` (TCP, TLS, handshake), then run the session's set-up; returns the session's
        ids for KILL (`CONNECTION_ID()` and SingleStore's `@@aggregator_id`, None on MySQL/MariaDB),
        read only with `kill_on_cancel`: one round trip per new connection."""
        await self._connect_tls(raw)
        ids: tuple[int, int | None] = (raw.thread_id(), None)
        if self.config.kill_on_cancel:
            ids = await self._session_ids(raw)
        for statement in self.session_init:
            async with raw.cursor() as cursor:
                await cursor.execute(statement)
        if not raw.get_autocommit():
            await raw.autocommit(True)
        return ids

    async def _connect_tls(self, raw: aiomysql.Connection) -> None:
        """TCP, TLS and the handshake, refusing plain TCP when TLS is required (`ssl_required`)."""
        await raw._connect()
        if self.ssl_required and raw._writer.get_extra_info("ssl_object") is None:
            raise pymysql.err.OperationalError(
                CR_SSL_CONNECTION_ERROR,
                "SSL connection error: the server does not support TLS but OPTIONS['ssl'] is set",
            )

    async def _open_side_connection(self) -> aiomysql.Connection:
        """A connection outside the pool's slots (the one that sends KILLs), on the same terms."""
        raw = self.connection_class(**self.connect_kwargs)
        try:
            await self._connect_tls(raw)
        except BaseException:
            raw.close()
            raise
        return raw

    async def _session_ids(self, raw: aiomysql.Connection) -> tuple[int, int | None]:
        """`CONNECTION_ID()` and the aggregator the session is on (SingleStore's `@@aggregator_id`),
        for `KILL CONNECTION <id> <node_id>`. On MySQL/MariaDB (no such variable) the node id is None."""
        async with raw.cursor() as cursor:
            try:
                await cursor.execute("SELECT CONNECTION_ID(), @@aggregator_id")
            except pymysql.err.MySQLError as exc:
                if not exc.args or exc.args[0] != ER_UNKNOWN_SYSTEM_VARIABLE:
                    raise
                await cursor.execute("SELECT CONNECTION_ID(), NULL")
            row = await cursor.fetchone()
        return int(row[0]), None if row[1] is None else int(row[1])

    def _jittered_lifetime(self) -> float | None:
        lifetime = self.config.max_lifetime
        return None if lifetime is None else lifetime * random.uniform(0.95, 1.0)

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

    def _count(self, counter: str, amount: int = 1) -> None:
        self._stats[counter] += amount

    # -- statistics --------------------------------------------------------------------------------

    def get_stats(self) -> dict[str, int]:
        """Gauges (`pool_min`, `pool_max`, `pool_size` (slots taken, `sessions_ending` included),
        `pool_available`, `in_use`, `requests_waiting`, `sessions_ending` (discarded connections whose
        server session has not ended yet), `kill_connection` (1 while the side connection for KILLs is
        open)) and the counters since the last `pop_stats()` (psycopg_pool's style)."""
        gauges = {
            "pool_min": self.config.min_size,
            "pool_max": self.config.max_size,
            "pool_size": self._size,
            "pool_available": len(self._idle),
            "in_use": len(self._in_use),
            "requests_waiting": sum(1 for f in self._waiters if not f.done()),
            "sessions_ending": self._ending,
            "kill_connection": int(self._killer.is_open),
        }
        return {**gauges, **self._stats}

    def pop_stats(self) -> dict[str, int]:
        """`get_stats()`, then reset the counters."""
        stats = self.get_stats()
        self._stats = dict.fromkeys(COUNTERS, 0)
        return stats
