"""Following MariaDB's responses without changing them: where each one ends, and the session flags.

The proxy relays the server's bytes untouched; `ResponseTracker` sees only packet headers, first bytes
and the few small payloads (OK / EOF / ERR / column counts) it needs to know when a response ends
(so an `after_ok` hook runs before the final OK reaches the client, and a local answer never lands in
the middle of a relayed response) and what the latest status flags are (autocommit, in-transaction).
`skip_rows` is the hot loop over row packets of large results.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tests.testbed.gateway import packets as p
from tests.testbed.gateway.engine import SessionState

log = logging.getLogger(__name__)

Hook = Callable[[], Awaitable[None]]


@dataclass
class Pending:
    """A command sent to MariaDB whose response has not ended yet."""

    command: int
    after_ok: Hook | None = None
    #: The schema the session is in once this command succeeds (COM_INIT_DB, USE, COM_CHANGE_USER).
    database: str | None = None
    #: (schema, table, lower-case column) of the JSON columns the statement may return
    #: (`engine.Forward.json_columns`): their column definitions are retyped to MYSQL_TYPE_JSON.
    json_columns: frozenset[tuple[bytes, bytes, bytes]] | None = None


IDLE, FIRST, DEFS, DEFS_EOF, ROWS, BLIND, FIELDS, AUTH, ONE = range(9)


class ResponseTracker:
    """A state machine over the server's packets, one pending command at a time, in order.

    A response is OK | ERR | LOCAL INFILE request (then OK/ERR) | column count → definitions →
    [EOF unless DEPRECATE_EOF] → rows → EOF (or OK with header 0xFE); SERVER_MORE_RESULTS_EXISTS
    in a final OK/EOF means another result follows. Prepared-statement, field-list, statistics and
    change-user answers have their own shapes. The tracker sees each packet's first byte and length,
    and the payload only where `needs_payload()` says so (OK/EOF/ERR and column counts: all small).
    """

    def __init__(self, session: SessionState, client_caps: int) -> None:
        self.session = session
        self.deprecate_eof = bool(client_caps & p.CLIENT_DEPRECATE_EOF)
        # The end of rows is 0xFE with a short payload: < 9 bytes for EOF, or (DEPRECATE_EOF) any OK
        # that is not a 16 MiB chunk; a row starting with 0xFE (a 2^24+ byte value) is always one.
        self._end_limit = p.MAX_CHUNK if self.deprecate_eof else 9
        self.pending: deque[Pending] = deque()
        self.state = IDLE
        self.remaining = 0
        #: Set while the client uploads a LOCAL INFILE (its packets do not start commands).
        self.infile = False
        #: Set by `on_packet` when the column definition just seen must go out as MYSQL_TYPE_JSON (the
        #: proxy patches its type byte, `payload[-6]`, and clears the flag).
        self.retype_json = False
        #: Set when no response is outstanding and everything received has been relayed.
        self.idle = asyncio.Event()
        self.idle.set()

    def expect(self, pending: Pending) -> None:
        if pending.command in p.NO_RESPONSE_COMMANDS:
            return
        self.pending.append(pending)
        self.idle.clear()
        if self.state == IDLE:
            self._begin()

    def settle(self) -> None:
        """Called after the relayed bytes were written: mark idle if nothing is outstanding."""
        if not self.pending:
            self.idle.set()

    def _begin(self) -> None:
        if not self.pending:
            self.state = IDLE
            return
        self.state = {
            p.COM_STATISTICS: ONE,
            p.COM_FIELD_LIST: FIELDS,
            p.COM_CHANGE_USER: AUTH,
            p.COM_STMT_FETCH: ROWS,
        }.get(self.pending[0].command, FIRST)

    def set_status(self, status: int) -> None:
        s = self.session
        s.status_flags = status
        s.autocommit = bool(status & p.SERVER_STATUS_AUTOCOMMIT)
        s.in_transaction = bool(status & p.SERVER_STATUS_IN_TRANS)

    def _finish(self, ok: bool) -> Hook | None:
        done = self.pending.popleft()
        self._begin()
        if not ok:
            return None
        if done.database is not None:
            self.session.database = done.database
        return done.after_ok

    def needs_payload(self, first: int, length: int) -> bool:
        state = self.state
        if state in (FIRST, DEFS_EOF):
            return True
        if state == DEFS:
            return self.pending[0].json_columns is not None
        if state == ROWS:
            return first == 0xFF or (first == 0xFE and length < self._end_limit)
        if state == FIELDS:
            return first == 0xFE or first == 0xFF
        if state == AUTH:
            return first == 0x00 or first == 0xFF
        return False

    def on_packet(self, first: int, payload: bytes | None) -> Hook | None:
        """Advance over one packet. Returns the hook to await before relaying it, if any."""
        try:
            return self._advance(first, payload)
        except (IndexError, ValueError, p.ProtocolError):
            log.warning("unparsable server packet in state %d: %r", self.state, (payload or b"")[:32])
            if self.pending:
                self._finish(False)
            return None

    def _advance(self, first: int, payload: bytes | None) -> Hook | None:
        state = self.state
        if state == ROWS:
            if payload is None:
                return None  # a row
            if first == 0xFF:
                return self._finish(False)
            status = p.ok_status(payload)[0] if self.deprecate_eof else p.eof_status(payload)
            return self._end_of_result(status)
        if state == DEFS:
            self.remaining -= 1
            wanted = self.pending[0].json_columns
            if wanted is not None and payload is not None:
                origin = p.column_origin(payload)
                if origin is not None and (origin[0], origin[1], origin[2].lower()) in wanted:
                    self.retype_json = True
            if self.remaining == 0:
                self.state = ROWS if self.deprecate_eof else DEFS_EOF
            return None
        if state == FIRST:
            assert payload is not None
            return self._first(first, payload)
        if state == DEFS_EOF:
            assert payload is not None
            if first == 0xFF:
                return self._finish(False)
            status = p.eof_status(payload)
            self.set_status(status)
            if self.pending[0].command == p.COM_STMT_EXECUTE and status & p.SERVER_STATUS_CURSOR_EXISTS:
                return self._finish(True)  # rows come later, through COM_STMT_FETCH
            self.state = ROWS
            return None
        if state == BLIND:
            self.remaining -= 1
            return self._finish(True) if self.remaining == 0 else None
        if state == FIELDS:
            return None if payload is None else self._finish(first != 0xFF)
        if state == AUTH:
            if payload is None:
                return None  # auth switch or more auth data: the client answers, we wait
            if first == 0x00:
                self.set_status(p.ok_status(payload)[0])
            return self._finish(first == 0x00)
        if state == ONE:
            return self._finish(True)
        return None  # IDLE: a packet nobody asked for (e.g. MariaDB's ERR before it disconnects)

    def _first(self, first: int, payload: bytes) -> Hook | None:
        if first == 0x00:
            if self.pending[0].command == p.COM_STMT_PREPARE:
                columns = int.from_bytes(payload[5:7], "little")
                params = int.from_bytes(payload[7:9], "little")
                eofs = 0 if self.deprecate_eof else (params > 0) + (columns > 0)
                self.remaining = params + columns + eofs
                if self.remaining:
                    self.state = BLIND
                    return None
                return self._finish(True)
            return self._end_of_result(p.ok_status(payload)[0])
        if first == 0xFF:
            return self._finish(False)
        if first == 0xFB:  # LOCAL INFILE request: the client sends the file, then OK/ERR follows
            self.infile = True
            return None
        if first == 0xFE:  # EOF-style answer (COM_SET_OPTION, COM_DEBUG)
            if len(payload) >= 5:
                self.set_status(p.eof_status(payload))
            return self._finish(True)
        count, _ = p.read_lenenc_int(payload, 0)
        if not count:
            raise p.ProtocolError("a result set without columns")
        self.remaining = count
        self.state = DEFS
        return None

    def _end_of_result(self, status: int) -> Hook | None:
        self.set_status(status)
        if status & p.SERVER_MORE_RESULTS_EXISTS:
            self.state = FIRST
            return None
        return self._finish(True)


def skip_rows(data: bytes | bytearray, i: int, n: int) -> tuple[int, int]:
    """The hot path of large results: step over whole row packets from `i`.

    Stops before a packet that could end the result (first byte 0xFE or 0xFF), a 16 MiB chunk or a
    header cut by the end of the read; returns (new position, payload bytes of a row cut by it).
    """
    while n - i >= 5:
        length = data[i] | data[i + 1] << 8 | data[i + 2] << 16
        if length == 0 or length >= p.MAX_CHUNK or data[i + 4] >= 0xFE:
            return i, 0
        end = i + 4 + length
        if end > n:
            return n, end - n
        i = end
    return i, 0
