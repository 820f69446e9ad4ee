"""A pooled connection: one aiomysql connection, what the pool knows about it, and the guard that
bounds each of its round trips.

Every round trip (query, ping, reset) runs inside `PooledConnection.round_trip()`: bounded by the
alias's read/write timeouts (aiomysql has none), and poisoning the connection when it is cancelled,
times out or fails in a way that leaves the protocol state unknown (a client-side error, code >=
2000). Server errors (an error packet, code < 2000) leave the connection usable, and so does a
statement that cannot be encoded (it is never sent). A cancelled or timed-out connection is handed
to its pool (`AsyncConnectionPool.abandon`), which ends its server session; any other poisoned
connection is closed at once. The pool discards it when it comes back.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any

import aiomysql
import pymysql

from django_singlestore.errors import error_code
from django_singlestore_async.pool_errors import (
    CLIENT_ERROR_BASE,
    CR_SERVER_LOST,
    ER_INVALID_CHARACTER_STRING,
)

if TYPE_CHECKING:
    from django_singlestore_async.pool import AsyncConnectionPool

__all__ = ["CR_SERVER_LOST", "PoolCursor", "PooledConnection", "leaves_connection_usable"]


def leaves_connection_usable(exc: BaseException) -> bool:
    """True for errors the server reported in an error packet (the connection stays in sync)."""
    if isinstance(exc, pymysql.err.MySQLError) and not isinstance(exc, pymysql.err.InterfaceError):
        code = error_code(exc)
        return isinstance(code, int) and 0 < code < CLIENT_ERROR_BASE
    return False


class PooledConnection:
    """One aiomysql connection and what the pool knows about it.

    Round trips go through `round_trip()` (the cursor wrappers do it), which bounds them by the read
    timeout and poisons the connection when one is cancelled, times out or fails in a way that leaves
    the protocol state unknown; the pool then discards it instead of handing it out again."""

    def __init__(self, raw: aiomysql.Connection, pool: AsyncConnectionPool, lifetime: float | None) -> None:
        self.raw = raw
        self._pool = weakref.ref(pool)
        now = time.monotonic()
        self.created_at = now
        self.returned_at = now
        self.expires_at = None if lifetime is None else now + lifetime
        self.poisoned: str | None = None
        self.server_id: int = raw.thread_id()
        self.node_id: int | None = None
        #: The pool's task ending this connection's server session (KILL, then the server's close);
        #: the connection keeps its slot until it is done.
        self.ending: asyncio.Task[Any] | None = None

    def __repr__(self) -> str:
        state = "closed" if self.closed else (f"poisoned: {self.poisoned}" if self.poisoned else "ok")
        return f"<PooledConnection id={self.server_id} {state}>"

    @property
    def closed(self) -> bool:
        return self.raw.closed

    @property
    def in_transaction(self) -> bool:
        return bool(self.raw.get_transaction_status())

    def expired(self, now: float | None = None) -> bool:
        return self.expires_at is not None and (now or time.monotonic()) >= self.expires_at

    def poison(self, reason: str) -> None:
        """Mark the connection unusable and close its socket now (sync: safe while being cancelled)."""
        if self.poisoned is None:
            self.poisoned = reason
        self.raw.close()

    def round_trip(self, what: str = "query") -> _RoundTrip:
        """`async with conn.round_trip(): await cursor.execute(...)`: one bounded, poison-on-cancel
        round trip."""
        return _RoundTrip(self, what)

    def cursor(self) -> PoolCursor:
        """A driver-level cursor whose round trips are guarded (`round_trip()`)."""
        return PoolCursor(self)

    async def execute(self, sql: str, params: Any = None) -> int:
        """Run one statement and discard its result; returns the affected row count."""
        async with self.cursor() as cursor:
            return await cursor.execute(sql, params)

    async def ping(self) -> None:
        async with self.round_trip("ping"):
            await self.raw.ping(reconnect=False)

    def _check_usable(self) -> None:
        if self.poisoned:
            raise pymysql.err.InterfaceError(
                0, f"connection unusable ({self.poisoned}); release it to the pool"
            )
        if self.closed:
            raise pymysql.err.InterfaceError(0, "connection already closed")


class _RoundTrip:
    """The guard of `PooledConnection.round_trip()`."""

    def __init__(self, conn: PooledConnection, what: str) -> None:
        self.conn = conn
        self.what = what
        pool = conn._pool()
        self.limit = pool.round_trip_timeout if pool is not None else None
        self._timeout: asyncio.Timeout | None = None

    async def __aenter__(self) -> None:
        self.conn._check_usable()
        if self.limit is not None:
            self._timeout = asyncio.timeout(self.limit)
            await self._timeout.__aenter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        if self._timeout is not None:
            try:
                await self._timeout.__aexit__(exc_type, exc, tb)
            except TimeoutError as timed_out:
                self._interrupted(f"{self.what} exceeded the read timeout of {self.limit:g}s")
                raise pymysql.err.OperationalError(
                    CR_SERVER_LOST,
                    f"Lost connection to server during {self.what} "
                    f"(read_timeout of {self.limit:g}s exceeded; connection discarded)",
                ) from timed_out
        if exc is None:
            return None
        if isinstance(exc, asyncio.CancelledError):
            self._interrupted(f"{self.what} cancelled")
        elif isinstance(exc, UnicodeEncodeError):
            # aiomysql encodes the whole statement before writing a byte of it: nothing was sent,
            # the connection is as it was.
            bad = exc.object[exc.start : exc.end]
            raise pymysql.err.DataError(
                ER_INVALID_CHARACTER_STRING,
                f"Invalid {exc.encoding} character string: {bad!r} at position {exc.start} of the "
                f"statement ({exc.reason}); the statement was not sent",
            ) from exc
        elif not leaves_connection_usable(exc):
            self.conn.poison(f"{self.what} failed: {exc!r}")
        return None

    def _interrupted(self, reason: str) -> None:
        """Cancelled or timed out: the server may still be running the statement. The pool ends the
        session (it owns kill-on-cancel); without a pool, closing the socket is all there is."""
        pool = self.conn._pool()
        if pool is None:
            self.conn.poison(reason)
        else:
            pool.abandon(self.conn, reason)


class PoolCursor:
    """A thin guarded facade over an aiomysql buffered cursor (fetches never do I/O)."""

    def __init__(self, conn: PooledConnection) -> None:
        self.connection = conn
        self._cursor: aiomysql.Cursor = aiomysql.Cursor(conn.raw)

    async def __aenter__(self) -> PoolCursor:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def raw(self) -> aiomysql.Cursor:
        return self._cursor

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return int(self._cursor.rowcount)

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    async def execute(self, sql: str, params: Any = None) -> int:
        async with self.connection.round_trip("query"):
            return int(await self._cursor.execute(sql, params))

    async def executemany(self, sql: str, param_list: Iterable[Any]) -> int:
        async with self.connection.round_trip("query"):
            return int(await self._cursor.executemany(sql, list(param_list)) or 0)

    async def nextset(self) -> bool | None:
        async with self.connection.round_trip("query"):
            return await self._cursor.nextset()

    async def fetchone(self) -> tuple[Any, ...] | None:
        return await self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        return list(await self._cursor.fetchmany(size))

    async def fetchall(self) -> list[tuple[Any, ...]]:
        return list(await self._cursor.fetchall())

    async def close(self) -> None:
        # A buffered cursor has nothing left on the wire unless a later result set is pending;
        # closing then reads it (I/O), so it goes through the guard when the connection is alive.
        if self.connection.poisoned or self.connection.closed:
            return
        async with self.connection.round_trip("cursor close"):
            await self._cursor.close()
