"""The gateway's SQL engine: the interface the proxy (client/server.py) calls, and its dispatcher.

The proxy hands every COM_QUERY to ``Engine.handle_query`` and gets back a ``Decision``:

* ``Forward(sql)``: send these bytes to MariaDB (the original bytes object when nothing applies);
  ``after_ok`` is awaited when the server's answer ends in OK, before that OK reaches the client;
* ``Reject``: answer an ERR packet (SingleStore's code, SQLSTATE and text), MariaDB never sees it;
* ``LocalOK`` / ``LocalResult``: answer without MariaDB.

Pipeline for one statement (each step in its own module):

1. ``identity``: ``SET time_zone`` / ``SET ... TRANSACTION`` handling; ``VERSION()`` and
   SingleStore's system variables answered like SingleStore.
2. ``rules``: SingleStore's rules that MariaDB would accept (``Reject`` with ``errors.ERRORS``).
3. ``ddl``: SingleStore DDL -> MariaDB DDL, with the catalog update as ``after_ok``.
4. ``translate``: SingleStore-only spellings -> MariaDB; ``information_schema.TABLES`` -> the catalog view;
   AUTO_INCREMENT values on sharded tables; the optional "no implicit order" mode.

Multi-statement COM_QUERY: the text is split with the lexer and every statement is decided. If any
statement is rejected, the whole COM_QUERY is rejected and MariaDB runs none of it (SingleStore would
have run the statements before the failing one: documented difference). Statements answered locally
are replaced by a MariaDB no-op (``DO 0``) or, for a made-up result set, by an equivalent
``SELECT`` of literals, so the client still gets one result per statement. The ``after_ok`` hooks of
all statements run in order when the final answer is OK; when a later statement fails, MariaDB stops
there and no hook runs (the catalog can then miss a DDL that succeeded earlier in the same packet).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from tests.testbed.gateway import identity
from tests.testbed.gateway.errors import GatewayError
from tests.testbed.gateway.sqllex import Token, is_kw, significant, split_statements

log = logging.getLogger(__name__)

__all__ = [
    "AdminClient",
    "Decision",
    "Engine",
    "Forward",
    "GatewayConfig",
    "LocalOK",
    "LocalResult",
    "Reject",
    "SessionState",
]


@dataclass
class SessionState:
    """One per client connection; the proxy owns and updates it."""

    role: str  # "master" | "child"
    connection_id: int  # MariaDB's thread id (from the server handshake)
    database: str | None  # current schema
    autocommit: bool = True  # SERVER_STATUS_AUTOCOMMIT of the latest OK/EOF from the server
    in_transaction: bool = False  # SERVER_STATUS_IN_TRANS of the latest OK/EOF from the server
    status_flags: int = 0x0002  # the latest raw server status


@dataclass
class Forward:
    """Send this statement to MariaDB (possibly rewritten)."""

    sql: bytes
    after_ok: Callable[[], Awaitable[None]] | None = None


@dataclass
class Reject:
    """Answer with an ERR packet; MariaDB never sees the statement."""

    code: int
    sqlstate: str
    message: str


@dataclass
class LocalOK:
    """Answer OK without forwarding (e.g. SET time_zone, a no-op)."""

    affected_rows: int = 0
    info: str = ""


@dataclass
class LocalResult:
    """Answer with a text result set the gateway makes up (e.g. SHOW CREATE TABLE)."""

    columns: list[str]
    rows: list[tuple[str | None, ...]]


Decision = Forward | Reject | LocalOK | LocalResult


class AdminClient(Protocol):
    """The gateway's own MariaDB connection (implemented by client.AdminClient)."""

    async def query(self, sql: str) -> tuple[list[str], list[tuple[str | None, ...]]]: ...

    async def execute(self, sql: str) -> tuple[int, int]: ...


@dataclass
class GatewayConfig:
    memsql_version: str = "8.9.3"  # @@memsql_version the gateway reports
    handshake_version: str = "5.7.32"
    master_port: int = 0  # filled in once listening (for @@master_aggregator on the child)
    no_implicit_order: bool = False  # optional chaos mode for SELECTs without ORDER BY
    latency_ms: float = 0.0  # applied by the proxy; the engine ignores it
    #: "ignore" (default): FOREIGN KEY clauses are accepted and stripped before MariaDB, as SingleStore
    #: accepts them as unenforced, informational constraints ([doc] v8.9 "Unenforced Foreign Key
    #: Constraints"; FOREIGN KEY is in the CREATE TABLE grammar from 8.1 on; django-singlestore:
    #: "SingleStore does not enforce FOREIGN KEY constraints"). "reject": answer errors.ERRORS["foreign_key"]
    #: (for servers/versions that refuse them; [unverified]).
    foreign_keys: str = "ignore"


@dataclass
class _Out:
    """The decision for one statement, before it is turned into a ``Decision``."""

    kind: str  # "forward" | "reject" | "ok" | "result"
    sql: str = ""
    changed: bool = False
    after_ok: Callable[[], Awaitable[None]] | None = None
    reject: Reject | None = None
    result: LocalResult | None = None
    hooks: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


# Statements whose first keyword always needs a look.
_ALWAYS = frozenset(
    {
        b"CREATE", b"ALTER", b"DROP", b"RENAME", b"TRUNCATE", b"SHOW", b"SAVEPOINT", b"RELEASE",
        b"ROLLBACK", b"SET", b"KILL", b"INSERT", b"REPLACE", b"UPDATE", b"DELETE", b"LOAD", b"DESC",
        b"DESCRIBE", b"EXPLAIN",
    }
)  # fmt: skip
# Lower-case byte strings whose presence anywhere means a rewrite or rule may apply.
_TRIGGERS = (
    b"@@", b"version", b"date_trunc", b"json_", b":>", b"::", b"regexp_instr", b"information_schema",
    b"cume_dist", b"returning", b"for update", b"savepoint",
)  # fmt: skip
_HEAD_RE = re.compile(rb"(?:\s+|/\*(?![!M]).*?\*/|--[ \t][^\n]*\n?|#[^\n]*\n?|\()*([A-Za-z]+)", re.S)


class Engine:
    """Decides what happens to each client statement; keeps the catalog."""

    def __init__(self, admin: AdminClient, config: GatewayConfig) -> None:
        self.admin = admin
        self.config = config
        self._started = False

    async def start(self) -> None:
        """Create the ``_s2gw`` schema if missing and load the catalog."""
        self._started = True

    def on_session_start(self, session: SessionState) -> None:
        pass

    def on_session_end(self, session: SessionState) -> None:
        pass

    # -- entry point -----------------------------------------------------------------------------
    async def handle_query(self, sql: bytes, session: SessionState) -> Decision:
        if not self._needs_look(sql):
            return Forward(sql)
        text = sql.decode("utf-8", "surrogateescape")
        try:
            spans = split_statements(text)
            if len(spans) <= 1:
                out = await self._decide(text, session)
                return self._finish_single(sql, out)
            return await self._decide_multi(sql, text, spans, session)
        except GatewayError as exc:
            return Reject(exc.code, exc.sqlstate, exc.message)

    def _needs_look(self, sql: bytes) -> bool:
        m = _HEAD_RE.match(sql, 0, 4096)
        if m is None:
            return True
        head = m.group(1).upper()
        if head in _ALWAYS:
            return True
        if self.config.no_implicit_order and head in (b"SELECT", b"WITH"):
            return True
        low = sql.lower()
        return any(t in low for t in _TRIGGERS) or b"/*!" in sql or b"/*m!" in low

    def _finish_single(self, original: bytes, out: _Out) -> Decision:
        if out.kind == "reject":
            assert out.reject is not None
            return out.reject
        if out.kind == "ok":
            return LocalOK()
        if out.kind == "result":
            assert out.result is not None
            return out.result
        hook = _chain(out.hooks)
        if not out.changed:
            return Forward(original, hook)
        return Forward(out.sql.encode("utf-8", "surrogateescape"), hook)

    async def _decide_multi(
        self, original: bytes, text: str, spans: list[tuple[int, int]], session: SessionState
    ) -> Decision:
        pieces: list[str] = []
        hooks: list[Callable[[], Awaitable[None]]] = []
        changed = False
        pos = 0
        for start, end in spans:
            out = await self._decide(text[start:end], session)
            if out.kind == "reject":
                assert out.reject is not None
                return out.reject
            pieces.append(text[pos:start])
            if out.kind == "ok":
                pieces.append("DO 0")
                changed = True
            elif out.kind == "result":
                assert out.result is not None
                pieces.append(_result_as_select(out.result))
                changed = True
            else:
                pieces.append(out.sql if out.changed else text[start:end])
                changed = changed or out.changed
            hooks.extend(out.hooks)
            pos = end
        pieces.append(text[pos:])
        hook = _chain(hooks)
        if not changed:
            return Forward(original, hook)
        return Forward("".join(pieces).encode("utf-8", "surrogateescape"), hook)

    # -- one statement -----------------------------------------------------------------------------
    async def _decide(self, stmt: str, session: SessionState) -> _Out:
        toks = significant(stmt)
        if not toks:
            return _Out("forward", stmt)
        head = toks[0].upper
        if head == "SET":
            dec = identity.handle_set(stmt, toks)
            if dec.kind == "ok":
                return _Out("ok")
            if dec.kind == "forward":
                stmt = dec.sql
                toks = significant(stmt)
                changed = True
            else:
                changed = False
        else:
            changed = False
        _check_savepoint(toks)
        new = identity.rewrite_identity(stmt, self._identity_ctx(session), toks)
        if new is not stmt:
            changed = True
            stmt = new
        return _Out("forward", stmt, changed=changed)

    def _identity_ctx(self, session: SessionState) -> identity.IdentityContext:
        return identity.IdentityContext(
            role=session.role,
            handshake_version=self.config.handshake_version,
            memsql_version=self.config.memsql_version,
            master_port=self.config.master_port,
        )


def _check_savepoint(toks: list[Token]) -> None:
    """SAVEPOINT x / RELEASE SAVEPOINT x / ROLLBACK [WORK] TO [SAVEPOINT] x -> 1706."""
    first = toks[0]
    if is_kw(first, "SAVEPOINT") or (
        is_kw(first, "RELEASE") and len(toks) > 1 and is_kw(toks[1], "SAVEPOINT")
    ):
        raise GatewayError("savepoint")
    if is_kw(first, "ROLLBACK"):
        i = 1
        if i < len(toks) and is_kw(toks[i], "WORK"):
            i += 1
        if i < len(toks) and is_kw(toks[i], "TO"):
            raise GatewayError("savepoint")


def _chain(hooks: list[Callable[[], Awaitable[None]]]) -> Callable[[], Awaitable[None]] | None:
    if not hooks:
        return None
    if len(hooks) == 1:
        return hooks[0]

    async def run_all() -> None:
        for h in hooks:
            await h()

    return run_all


def _result_as_select(result: LocalResult) -> str:
    def lit(v: str | None) -> str:
        if v is None:
            return "NULL"
        return "'" + v.replace("\\", "\\\\").replace("'", "''") + "'"

    def alias(c: str) -> str:
        return "`" + c.replace("`", "``") + "`"

    if not result.rows:
        cols = ", ".join(f"NULL AS {alias(c)}" for c in result.columns)
        return f"SELECT {cols} FROM DUAL WHERE 0"
    selects = []
    for n, row in enumerate(result.rows):
        if n == 0:
            selects.append(
                "SELECT "
                + ", ".join(f"{lit(v)} AS {alias(c)}" for v, c in zip(row, result.columns, strict=True))
            )
        else:
            selects.append("SELECT " + ", ".join(lit(v) for v in row))
    return " UNION ALL ".join(selects)
