"""Ending the server session of a connection whose round trip was cancelled or timed out.

Closing the socket is not enough: the server notices a client that hung up only when the statement
ends (a `SLEEP`, a lock wait or a long scan runs on), so the session outlives its slot. The pool
therefore sends `KILL CONNECTION <id> <node_id>` (SingleStore's form: a load balancer may put the side
connection on another aggregator) *before* it touches the victim's socket, then waits for the server
to close that socket, and only then gives the slot back. A KILL naming a session that has already
ended answers 1094 (unknown thread id): that is success, not an error.

The KILLs go through at most one side connection per pool, opened on first need, kept open while the
pool lives and serialized by a lock; `get_stats()["kill_connection"]` shows whether it is open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from collections.abc import Awaitable, Callable

import aiomysql
import pymysql
from pymysql.constants import COMMAND

from django_singlestore.errors import error_code
from django_singlestore_async.pool_errors import CLIENT_ERROR_BASE, ER_NO_SUCH_THREAD

__all__ = ["SESSION_END_TIMEOUT", "SessionKiller", "kill_session", "quit_session", "wait_for_server_close"]

logger = logging.getLogger("django_singlestore_async.pool")

#: A COM_QUIT packet (length 1, sequence 0).
_COM_QUIT = struct.pack("<i", 1) + bytes([COMMAND.COM_QUIT])

#: Seconds the server gets to close a session after COM_QUIT or a KILL before the pool stops waiting.
SESSION_END_TIMEOUT = 10.0


class SessionKiller:
    """The pool's one side connection for `KILL CONNECTION`, outside the pool's slots."""

    def __init__(
        self,
        name: str,
        connect: Callable[[], Awaitable[aiomysql.Connection]],
        timeout: float,
        count: Callable[[str], None],
    ) -> None:
        self.name = name
        self._connect = connect  # the pool's own connect (TLS rules included), without session set-up
        self.timeout = timeout
        self._count = count
        self._side: aiomysql.Connection | None = None
        self._lock = asyncio.Lock()
        self._finished = False  # the pool is gone: no side connection is opened any more

    @property
    def is_open(self) -> bool:
        return self._side is not None and not self._side.closed

    async def kill(self, server_id: int, node_id: int | None) -> bool:
        """KILL the session; True once it is ended or was already gone (1094). A side connection
        found broken is replaced once."""
        statement = f"KILL CONNECTION {int(server_id)}" + ("" if node_id is None else f" {int(node_id)}")
        if self._finished:
            self._count("kills_failed")
            return False
        async with self._lock:
            for attempt in (1, 2):
                try:
                    async with asyncio.timeout(self.timeout):
                        side = await self._connection()
                        async with side.cursor() as cursor:
                            await cursor.execute(statement)
                except (pymysql.err.MySQLError, OSError, TimeoutError) as exc:
                    code = error_code(exc) if isinstance(exc, pymysql.err.MySQLError) else None
                    if code == ER_NO_SUCH_THREAD:
                        self._count("kills_gone")
                        return True
                    # A server error leaves the side connection usable; anything else (a client-side
                    # error, the socket, the timeout) means a new one, tried once.
                    if not (isinstance(code, int) and 0 < code < CLIENT_ERROR_BASE):
                        self.close()
                        if attempt == 1:
                            continue
                    self._count("kills_failed")
                    logger.warning("pool %r: %s failed: %r", self.name, statement, exc)
                    return False
                except BaseException:
                    self.close()  # cancelled mid-KILL: the side connection's state is unknown
                    raise
                self._count("kills")
                logger.info("pool %r: %s after an interrupted round trip", self.name, statement)
                if self._finished:
                    self.close()  # the pool was terminated while this KILL was under way
                return True
        return False  # pragma: no cover - the loop always returns

    async def _connection(self) -> aiomysql.Connection:
        if not self.is_open:
            self.close()
            self._side = await self._connect()
            self._count("kill_connections_num")
        assert self._side is not None
        return self._side

    def close(self, *, finished: bool = False) -> None:
        """Close the side connection (`finished`: for good, the pool is closed)."""
        self._finished = self._finished or finished
        if self._side is not None:
            self._side.close()
            self._side = None


async def wait_for_server_close(raw: aiomysql.Connection, timeout: float) -> bool:
    """Discard what the server still sends on `raw` until it closes the connection (True), or until
    `timeout` (False). The socket is closed either way."""
    reader = raw._reader
    try:
        if reader is None or raw._writer is None:
            return True
        async with asyncio.timeout(timeout):
            while await reader.read(1 << 16):
                pass
        return True
    except TimeoutError:
        return False
    except OSError:
        return True  # reset by the peer: gone
    finally:
        raw.close()


async def kill_session(
    killer: SessionKiller, raw: aiomysql.Connection, server_id: int, node_id: int | None
) -> None:
    """KILL the session first, then wait for the server to close the socket (then close it)."""
    try:
        if await killer.kill(server_id, node_id):
            await wait_for_server_close(raw, SESSION_END_TIMEOUT)
    finally:
        raw.close()


async def quit_session(raw: aiomysql.Connection) -> None:
    """End an idle session: COM_QUIT, then wait (bounded) for the server to close the connection
    (aiomysql's `ensure_closed()` closes the socket without waiting, so the session could outlive
    its slot)."""
    writer = raw._writer
    if writer is not None:
        with contextlib.suppress(Exception):
            writer.write(_COM_QUIT)
    await wait_for_server_close(raw, SESSION_END_TIMEOUT)
