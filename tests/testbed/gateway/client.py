"""A minimal asyncio MySQL client: the gateway's own connection to MariaDB for its catalog.

It implements `engine.AdminClient`: text queries only, `mysql_native_password` (with auth switch),
autocommit on, one statement at a time behind an `asyncio.Lock`, and a transparent reconnect when
MariaDB was restarted (or SIGKILLed) between two statements. Stdlib only, so the gateway has no
dependency beyond Python itself.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time

from tests.testbed.gateway import packets as p

log = logging.getLogger(__name__)

_CLIENT_CAPS = (
    p.CLIENT_LONG_PASSWORD
    | p.CLIENT_FOUND_ROWS
    | p.CLIENT_PROTOCOL_41
    | p.CLIENT_TRANSACTIONS
    | p.CLIENT_SECURE_CONNECTION
    | p.CLIENT_MULTI_RESULTS
    | p.CLIENT_PLUGIN_AUTH
)


class ServerError(Exception):
    """MariaDB answered with an ERR packet."""

    def __init__(self, code: int, sqlstate: str, message: str) -> None:
        super().__init__(code, sqlstate, message)
        self.code = code
        self.sqlstate = sqlstate
        self.message = message

    def __str__(self) -> str:
        return f"({self.code}, {self.sqlstate}) {self.message}"


class ConnectionLost(ConnectionError):
    """The connection to MariaDB broke while a statement was in flight (it may or may not have run)."""


def native_password_scramble(password: str, salt: bytes) -> bytes:
    """mysql_native_password: SHA1(pw) XOR SHA1(salt + SHA1(SHA1(pw)))."""
    if not password:
        return b""
    stage1 = hashlib.sha1(password.encode("utf-8")).digest()
    stage2 = hashlib.sha1(stage1).digest()
    mask = hashlib.sha1(salt[:20] + stage2).digest()
    return bytes(a ^ b for a, b in zip(stage1, mask, strict=True))


class AdminClient:
    """One autocommit MariaDB session for the gateway's own statements.

    `query()` returns (column names, rows of text values or None); `execute()` returns
    (affected_rows, last_insert_id). Both raise `ServerError` on an ERR packet.

    Reconnecting: a connection found closed before a statement is replaced silently (MariaDB
    restarted while we were idle). If the connection breaks after the statement was sent and before
    any answer byte arrived, the statement is retried once on a new connection: MariaDB closed the
    socket without reading it. Breaks in the middle of an answer raise `ConnectionLost`.
    """

    def __init__(
        self,
        host: str,
        port: int,
        user: str,
        password: str,
        database: str | None = None,
        *,
        connect_timeout: float = 10.0,
        reconnect_window: float = 20.0,
    ) -> None:
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.connect_timeout = connect_timeout
        #: How long to keep retrying to connect when MariaDB is (re)starting, in seconds.
        self.reconnect_window = reconnect_window
        self.connection_id = 0
        self.server_version = ""
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._lock = asyncio.Lock()

    # -- public API ----------------------------------------------------------------------------------
    async def query(self, sql: str) -> tuple[list[str], list[tuple[str | None, ...]]]:
        columns, rows, _, _ = await self._run(sql)
        return columns, rows

    async def execute(self, sql: str) -> tuple[int, int]:
        _, _, affected, insert_id = await self._run(sql)
        return affected, insert_id

    async def close(self) -> None:
        async with self._lock:
            await self._close_quietly(send_quit=True)

    # -- connection management ------------------------------------------------------------------------
    async def connect(self) -> None:
        """Connect and authenticate, retrying for `reconnect_window` seconds while MariaDB is down."""
        deadline = time.monotonic() + self.reconnect_window
        while True:
            try:
                await asyncio.wait_for(self._connect_once(), self.connect_timeout)
                return
            except ServerError:
                await self._close_quietly()
                raise
            except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
                await self._close_quietly()
                if time.monotonic() >= deadline:
                    raise ConnectionLost(
                        f"cannot connect to MariaDB at {self.host}:{self.port}: {exc}"
                    ) from exc
                await asyncio.sleep(0.1)

    async def _connect_once(self) -> None:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        self._reader, self._writer = reader, writer
        _, payload = await p.read_packet(reader)
        if payload[:1] == b"\xff":
            err = p.parse_err(payload)
            raise ServerError(err.code, err.sqlstate, err.message)
        hs = p.Handshake.parse(payload)
        self.connection_id = hs.connection_id
        self.server_version = hs.server_version.decode("ascii", "replace")
        caps = _CLIENT_CAPS | (p.CLIENT_CONNECT_WITH_DB if self.database else 0)
        body = [
            (caps).to_bytes(4, "little"),
            (1 << 24).to_bytes(4, "little"),
            bytes((p.UTF8MB4_GENERAL_CI,)),
            bytes(23),
            self.user.encode("utf-8") + b"\x00",
        ]
        auth = native_password_scramble(self.password, hs.scramble())
        body.append(bytes((len(auth),)) + auth)
        if self.database:
            body.append(self.database.encode("utf-8") + b"\x00")
        body.append(b"mysql_native_password\x00")
        writer.write(p.frame(b"".join(body), 1))
        while True:
            seq, payload = await p.read_packet(reader)
            head = payload[:1]
            if head == b"\x00":
                return
            if head == b"\xff":
                err = p.parse_err(payload)
                raise ServerError(err.code, err.sqlstate, err.message)
            if head == b"\xfe":  # auth switch request: plugin name, NUL, new salt
                plugin, pos = p.read_nul_str(payload, 1)
                if plugin != b"mysql_native_password":
                    raise ServerError(1251, "08004", f"unsupported auth plugin {plugin!r}")
                salt = payload[pos:].rstrip(b"\x00")
                writer.write(p.frame(native_password_scramble(self.password, salt), seq + 1))
                continue
            raise p.ProtocolError(f"unexpected packet during authentication: {payload[:16]!r}")

    async def _close_quietly(self, *, send_quit: bool = False) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is None:
            return
        try:
            if send_quit and not writer.is_closing():
                writer.write(p.frame(bytes((p.COM_QUIT,)), 0))
            writer.close()
            await writer.wait_closed()
        except (OSError, RuntimeError):
            pass

    def _is_usable(self) -> bool:
        return (
            self._reader is not None
            and self._writer is not None
            and not self._reader.at_eof()
            and not self._writer.is_closing()
        )

    # -- one statement ------------------------------------------------------------------------------------
    async def _run(self, sql: str) -> tuple[list[str], list[tuple[str | None, ...]], int, int]:
        async with self._lock:
            for attempt in (1, 2):
                if not self._is_usable():
                    await self._close_quietly()
                    await self.connect()
                try:
                    return await self._exchange(sql)
                except _NoAnswer as exc:
                    await self._close_quietly()
                    if attempt == 2:
                        raise ConnectionLost(f"MariaDB closed the connection: {exc}") from exc
                    log.info("admin connection lost before an answer; reconnecting and retrying once")
                except (OSError, asyncio.IncompleteReadError, p.ProtocolError) as exc:
                    await self._close_quietly()
                    raise ConnectionLost(f"connection to MariaDB lost mid-answer: {exc}") from exc
        raise AssertionError("unreachable")

    async def _exchange(self, sql: str) -> tuple[list[str], list[tuple[str | None, ...]], int, int]:
        reader, writer = self._reader, self._writer
        assert reader is not None and writer is not None
        try:
            writer.write(p.frame(bytes((p.COM_QUERY,)) + sql.encode("utf-8", "surrogateescape"), 0))
            await writer.drain()
            _, first, _ = await p.read_logical_packet(reader)
        except (OSError, asyncio.IncompleteReadError) as exc:
            raise _NoAnswer(str(exc)) from exc
        result: tuple[list[str], list[tuple[str | None, ...]], int, int] | None = None
        error: ServerError | None = None
        payload = first
        while True:  # one iteration per result (MULTI_RESULTS: a CALL may produce several)
            more, res, err = await self._read_result(reader, payload)
            if result is None and error is None:
                result, error = res, err
            if not more:
                break
            _, payload, _ = await p.read_logical_packet(reader)
        if error is not None:
            raise error
        assert result is not None
        return result

    async def _read_result(
        self, reader: asyncio.StreamReader, payload: bytes
    ) -> tuple[bool, tuple[list[str], list[tuple[str | None, ...]], int, int] | None, ServerError | None]:
        """Read one result whose first packet is `payload`: (more results follow, result, error)."""
        head = payload[0]
        if head == 0xFF:
            err = p.parse_err(payload)
            return False, None, ServerError(err.code, err.sqlstate, err.message)
        if head == 0x00:
            affected, pos = p.read_lenenc_int(payload, 1)
            insert_id, pos = p.read_lenenc_int(payload, pos)
            status, _ = p.ok_status(payload)
            return bool(status & p.SERVER_MORE_RESULTS_EXISTS), ([], [], affected or 0, insert_id or 0), None
        if head == 0xFB:
            raise p.ProtocolError("LOCAL INFILE is not supported by the admin client")
        count, _ = p.read_lenenc_int(payload, 0)
        columns: list[str] = []
        for _ in range(count or 0):
            _, coldef, _ = await p.read_logical_packet(reader)
            pos = 0
            for _ in range(4):  # catalog, schema, table, org_table
                _, pos = p.read_lenenc_str(coldef, pos)
            name, _ = p.read_lenenc_str(coldef, pos)
            columns.append((name or b"").decode("utf-8", "replace"))
        _, eof, _ = await p.read_logical_packet(reader)  # EOF after the definitions (no DEPRECATE_EOF)
        if eof[:1] == b"\xff":
            err = p.parse_err(eof)
            return False, None, ServerError(err.code, err.sqlstate, err.message)
        rows: list[tuple[str | None, ...]] = []
        while True:
            _, row, _ = await p.read_logical_packet(reader)
            if row[:1] == b"\xfe" and len(row) < 9:
                status = p.eof_status(row)
                return bool(status & p.SERVER_MORE_RESULTS_EXISTS), (columns, rows, 0, 0), None
            if row[:1] == b"\xff":
                err = p.parse_err(row)
                return False, None, ServerError(err.code, err.sqlstate, err.message)
            values: list[str | None] = []
            pos = 0
            for _ in columns:
                raw, pos = p.read_lenenc_str(row, pos)
                values.append(None if raw is None else raw.decode("utf-8", "surrogateescape"))
            rows.append(tuple(values))


class _NoAnswer(Exception):
    """The statement got no answer byte at all: the connection was already dead."""
