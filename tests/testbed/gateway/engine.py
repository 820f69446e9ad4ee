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
   AUTO_INCREMENT values on sharded tables (and ``AGGREGATOR SYNC AUTO_INCREMENT``, which raises their
   counters); ``EXPLAIN JSON``; the optional "no implicit order" mode.

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
from dataclasses import dataclass, field, replace
from typing import Protocol

from tests.testbed.gateway import ddl, fulltext, identity, query_rules, rules, translate, vectors
from tests.testbed.gateway.catalog import Catalog, ColumnFact, TableInfo, sql_literal
from tests.testbed.gateway.errors import GatewayError
from tests.testbed.gateway.sqllex import (
    INSIGNIFICANT,
    Token,
    find_top_level,
    ident_value,
    is_ident,
    is_kw,
    matching_paren,
    parse_qualified_name,
    quote_ident,
    significant,
    split_statements,
    split_top_level_commas,
    string_value,
    tokenize,
)

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
    #: (schema, table, lower-case column) of JSON columns the answer may carry: the proxy sends their
    #: column definitions with MYSQL_TYPE_JSON (245) as SingleStore does, not MariaDB's 252.
    json_columns: frozenset[tuple[bytes, bytes, bytes]] | None = None


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
    #: Rules known only from the older backend's skip texts (errors.ASSUMPTION_RULES and the LIMIT-after-
    #: UNION reading, query_rules.py): on by default so the backend is held to them.
    assumption_rules: bool = True


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
        b"DESCRIBE", b"EXPLAIN", b"AGGREGATOR", b"OPTIMIZE",
    }
)  # fmt: skip
# Lower-case byte strings whose presence anywhere means a rewrite or rule may apply (with @@ :> ::).
_WORD_TRIGGERS = (
    b"version", b"date_trunc", b"json_", b"regexp", b"rlike", b"information_schema", b"cume_dist", b"returning",
    b"for update", b"savepoint", b"from (", b"from(", b"join (", b"join(", b"<*>", b"<->", b"against", b"bm25",
)  # fmt: skip
_DML = frozenset({b"INSERT", b"REPLACE", b"UPDATE", b"DELETE", b"LOAD"})
#: Statements whose answer may be a result set with table columns (for the JSON wire type).
_ROW_HEADS = frozenset({b"SELECT", b"WITH", b"TABLE", b"VALUES"})


def _has_triggers(sql: bytes, head: bytes = b"") -> bool:
    """Could a rewrite or rule apply? Cheap substring scans (memchr first for the two-byte needles)."""
    if b"@" in sql and b"@@" in sql:
        return True
    if b":" in sql and (b":>" in sql or b"::" in sql):
        return True
    if b"/*" in sql and (b"/*!" in sql or b"/*M!" in sql or b"/*m!" in sql):
        return True
    low = sql.lower()
    if any(t in low for t in _WORD_TRIGGERS) or query_rules.needs_query_rules(low, head):
        return True
    return b"limit" in low and translate.LIMITED_SUBQUERY_TRIGGER.search(sql) is not None


_HEAD_RE = re.compile(rb"(?:\s+|/\*(?![!M]).*?\*/|--[ \t][^\n]*\n?|#[^\n]*\n?|\()*([A-Za-z]+)", re.S)


class Engine:
    """Decides what happens to each client statement; keeps the catalog."""

    def __init__(self, admin: AdminClient, config: GatewayConfig) -> None:
        self.admin = admin
        self.config = config
        self.catalog = Catalog(admin)
        self._counters: dict[tuple[str, str, str], int] = {}
        #: (catalog version, lower-case names of tables with packed VECTOR columns)
        self._vector_names: tuple[int, frozenset[bytes]] = (-1, frozenset())
        #: SingleStore's global ``regexp_format`` ([doc] regular-expression-functions; default 'extended').
        self.regexp_format = "extended"

    async def start(self) -> None:
        """Create the ``_s2gw`` schema, table and view if missing and load the catalog."""
        await self.catalog.start()

    def on_session_start(self, session: SessionState) -> None:
        pass

    def on_session_end(self, session: SessionState) -> None:
        pass

    # -- entry point -----------------------------------------------------------------------------
    async def handle_query(self, sql: bytes, session: SessionState) -> Decision:
        decision = await self._handle_query(sql, session)
        if isinstance(decision, Forward):
            decision.json_columns = self._json_columns(decision.sql)
        return decision

    def _json_columns(self, sql: bytes) -> frozenset[tuple[bytes, bytes, bytes]] | None:
        """The JSON columns of the catalog's tables whose names occur in a row-returning statement
        (a substring test, so only statements near a JSON table pay for reading column definitions)."""
        by_name = self.catalog.json_by_name()
        if not by_name:
            return None
        m = _HEAD_RE.match(sql, 0, 4096)
        if m is None or m.group(1).upper() not in _ROW_HEADS:
            return None
        low = sql.lower()
        found = [cols for name, cols in by_name.items() if name in low]
        if not found:
            return None
        return frozenset().union(*found)

    async def _handle_query(self, sql: bytes, session: SessionState) -> Decision:
        m = _HEAD_RE.match(sql, 0, 4096)
        head = m.group(1).upper() if m is not None else b""
        if head not in _ALWAYS and not (self.config.no_implicit_order and head in (b"SELECT", b"WITH")):
            if m is not None and not _has_triggers(sql, head) and not self._mentions_vectors(sql):
                return Forward(sql)
        elif (
            head in _DML
            and b";" not in sql
            and not _has_triggers(sql, head)
            and self._dml_untouched(sql, session)
        ):
            return Forward(sql)
        text = sql.decode("utf-8", "surrogateescape")
        try:
            spans = split_statements(text) if ";" in text else [(0, len(text))]
            if len(spans) <= 1:
                out = await self._decide(text, session)
                return self._finish_single(sql, out)
            return await self._decide_multi(sql, text, spans, session)
        except GatewayError as exc:
            return Reject(exc.code, exc.sqlstate, exc.message)
        except Exception:
            # Malformed SQL the engine's parsers do not understand reaches MariaDB unchanged, so its own
            # error comes back intact (issue 2: "malformed SQL reaches MariaDB").
            log.warning("engine could not analyse %r; forwarded unchanged", sql[:200], exc_info=True)
            return Forward(sql)

    def _mentions_vectors(self, sql: bytes) -> bool:
        """Could ``sql`` read a table with packed VECTOR columns (whose select items are rendered as JSON,
        vectors.py)? A substring scan for those tables' names."""
        if self._vector_names[0] != self.catalog.version:
            names = frozenset(
                info.name.lower().encode()
                for info in self.catalog.tables.values()
                if vectors.packed_vectors(info)
            )
            self._vector_names = (self.catalog.version, names)
        names = self._vector_names[1]
        if not names:
            return False
        low = sql.lower()
        return any(name in low for name in names)

    async def _sync_vector_triggers(self, info: TableInfo, had_vectors: bool) -> None:
        """Re-create the packing triggers of a table with packed VECTOR columns (vectors.py)."""
        if not had_vectors and not vectors.packed_vectors(info):
            return
        prefix = vectors.TRIGGER_PREFIX.replace("_", "\\_")
        _, rows = await self.admin.query(
            "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS "
            f"WHERE EVENT_OBJECT_SCHEMA = {sql_literal(info.db)} AND EVENT_OBJECT_TABLE = {sql_literal(info.name)} "
            f"AND TRIGGER_NAME LIKE '{prefix}%'"
        )
        for sql in vectors.sync_triggers_sql(info, [r[0] for r in rows if r[0]]):
            await self.admin.execute(sql)

    def _dml_untouched(self, sql: bytes, session: SessionState) -> bool:
        """Fast path for big DML: True when no rule can apply to the statement's target tables.

        Only the statement's head (up to VALUES / SET / SELECT / WHERE, within 64 KiB) is tokenised,
        so a 20 MiB multi-row INSERT into an ordinary table is forwarded without a full parse.
        """
        prefix = sql[:65536].decode("utf-8", "surrogateescape")
        toks: list[Token] = []
        for tok in tokenize(prefix):
            if tok.kind in INSIGNIFICANT:
                continue
            if toks and tok.upper in ("VALUES", "VALUE", "SET", "SELECT", "WHERE", "WITH", "ON", "LIMIT"):
                break
            toks.append(tok)
            if len(toks) > 500:
                return False
        if not toks:
            return False
        targets = rules.write_targets(toks)
        if not targets:
            return False
        head = toks[0].upper
        for db, name in targets:
            info = self.catalog.get(db or session.database, name)
            if info is None:
                continue
            if (
                info.reference
                and session.role == "child"
                and (session.in_transaction or not session.autocommit)
            ):
                return False
            if head in ("INSERT", "REPLACE") and info.sharded and info.auto_increment is not None:
                return False
            if info.json_columns and head in ("INSERT", "REPLACE", "UPDATE"):
                return False  # rules.check_json_depth
            if head == "UPDATE" and info.sharded:
                return False
            if head in ("UPDATE", "DELETE") and info.reference and len(rules.table_refs(toks)) > 1:
                return False  # query_rules: multi-table UPDATE/DELETE with a reference target
        return True

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
        changed = False
        hooks: list[Callable[[], Awaitable[None]]] = []
        head = toks[0].upper
        if head == "SET":
            fmt = _REGEXP_FORMAT_SET.match(stmt)
            if fmt is not None:
                self.regexp_format = fmt.group(1).lower()
                return _Out("ok")
            dec = identity.handle_set(stmt, toks)
            if dec.kind == "ok":
                return _Out("ok")
            if dec.kind == "forward":
                stmt, toks, changed = dec.sql, significant(dec.sql), True
        _check_savepoint(toks)
        if head in ("CREATE", "ALTER", "RENAME"):
            _check_identifier_lengths(toks)
        if head == "EXPLAIN":
            explained = translate.translate_explain(stmt, toks)
            if explained is not None:
                stmt, toks, changed = explained, significant(explained), True
        db = session.database
        if head == "CREATE":
            out = await self._create(stmt, toks, db)
            if out is not None:
                stmt, hook = out
                changed = True
                if hook is not None:
                    hooks.append(hook)
        elif head == "ALTER":
            alter = ddl.parse_alter_table(stmt, toks)
            if alter is not None:
                info = self.catalog.get(alter.db or db, alter.table)
                facts: dict[str, ColumnFact] = {}
                if info is not None and any(s.action in ("modify", "change") for s in alter.specs):
                    facts = await self.catalog.column_facts(info.db, info.name)
                rules.check_alter(alter, info, facts, self.config.foreign_keys)
                if info is not None:
                    for spec in alter.specs:  # MariaDB has no vector index to drop
                        if spec.action == "drop_index" and spec.index_name in info.vector_indexes:
                            spec.mariadb_text = None
                alter_db = alter.db or db
                if alter_db is not None and any(
                    s.column is not None and s.column.computed is not None for s in alter.specs
                ):
                    # persisted computed columns reading CHAR columns: RTRIM() them (ddl docstring)
                    if not facts:
                        facts = await self.catalog.column_facts(alter_db, alter.table)
                    alter.unpad_computed({k for k, f in facts.items() if f.column_type.startswith("char(")})
                if info is not None:
                    await self._drop_hidden_fulltext(alter, info)
                new_sql = alter.mariadb_sql()
                if new_sql is None and any(
                    (s.key is not None and s.key.kind == "vector") or s.action == "drop_index"
                    for s in alter.specs
                ):
                    # only catalog changes (vector indexes): an OK from MariaDB runs the hook
                    hooks.append(self._after_alter_hook(alter, db))
                    return _Out("forward", "DO 0", changed=True, hooks=hooks)
                if new_sql is None:
                    return _Out("ok")
                if new_sql != stmt:
                    stmt, changed = new_sql, True
                hooks.append(self._after_alter_hook(alter, db))
        elif head == "DROP":
            dropped = await self._drop_fulltext_index(toks, db)
            if dropped is not None:
                stmt, toks, changed = dropped, significant(dropped), True
                alter = ddl.parse_alter_table(stmt, toks)
                assert alter is not None
                hooks.append(self._after_alter_hook(alter, db))
            else:
                hook = self._drop(toks, db)
                if hook is not None:
                    hooks.append(hook)
                    if self._drops_vector_index(toks, db):
                        return _Out("forward", "DO 0", changed=True, hooks=hooks)
        elif head == "OPTIMIZE":
            flushed = fulltext.rewrite_flush(toks)
            if flushed is not None:
                return _Out("forward", flushed, changed=True)
        elif head == "RENAME" and len(toks) > 1 and is_kw(toks[1], "TABLE", "TABLES"):
            hooks.append(self._rename_hook(toks, db))
        elif head == "SHOW":
            result = await self._show_create(toks, db)
            if result is None:
                result = await self._show_columns(stmt, toks, db)
            if result is not None:
                return _Out("result", result=result)
            shown_index = self._show_index(stmt, toks, db)
            if shown_index is not None:
                return _Out("forward", shown_index, changed=True)
            shown = identity.show_variables(stmt, toks, self._identity_ctx(session))
            if shown is not None:
                return _Out("forward", shown, changed=True)
        elif head in ("DESC", "DESCRIBE") and (described := await self._show_columns(stmt, toks, db)):
            return _Out("result", result=described)
        elif head == "AGGREGATOR":
            return await self._aggregator_sync(stmt, toks, session)
        elif head == "KILL":
            killed = translate.translate_kill(stmt, toks)
            if killed is not None:
                stmt, toks, changed = killed, significant(killed), True
        else:
            rules.check_statement(
                stmt,
                toks,
                self._lookup(db),
                role=session.role,
                in_transaction=session.in_transaction,
                autocommit=session.autocommit,
                assumptions=self.config.assumption_rules,
            )
            if head in ("INSERT", "REPLACE", "UPDATE"):
                for target_db, target in rules.write_targets(toks):
                    target_info = self.catalog.get(target_db or db, target)
                    if target_info is not None and target_info.json_columns:
                        rules.check_json_depth(toks, target_info)
            if head in ("SELECT", "INSERT", "REPLACE") and self._mentions_vectors(
                stmt.encode("utf-8", "surrogateescape")
            ):
                rendered = vectors.render_vectors(stmt, toks, self._lookup(db))
                if rendered is not None:
                    stmt, toks, changed = rendered, significant(rendered), True
            if self.config.assumption_rules and head == "SELECT":
                limited = query_rules.union_limit_rewrite(stmt, toks)
                if limited is not None:
                    stmt, toks, changed = limited, significant(limited), True
            if any(t in stmt.lower() for t in fulltext.TRIGGERS):
                searched = fulltext.rewrite_search(stmt, toks, self._lookup(db))
                if searched is not None:
                    stmt, toks, changed = searched, significant(searched), True
        low = stmt.lower()
        if self.regexp_format != "advanced" and ("regexp" in low or "rlike" in low):
            _check_regexp_backreferences(toks)
        if "@@" in low or "version" in low:
            new = identity.rewrite_identity(stmt, self._identity_ctx(session))
            if new is not stmt:
                stmt, changed = new, True
        if any(t.decode() in low for t in translate.TRANSLATE_TRIGGERS):
            new = translate.translate(stmt)
            if new is not stmt:
                stmt, changed = new, True
        if "limit" in low and translate.LIMITED_SUBQUERY_TRIGGER.search(
            stmt.encode("utf-8", "surrogateescape")
        ):
            new = translate.wrap_limited_in_subqueries(stmt)
            if new is not stmt:
                stmt, changed = new, True
        if head in ("INSERT", "REPLACE"):
            new_ins = await self._auto_increment(stmt, session, toks if not changed else None)
            if new_ins is not None:
                stmt, changed = new_ins, True
        if self.config.no_implicit_order and head == "SELECT":
            ordered = rules.add_random_order(stmt, significant(stmt))
            if ordered is not None:
                stmt, changed = ordered, True
        return _Out("forward", stmt, changed=changed, hooks=hooks)

    def _lookup(self, default_db: str | None) -> Callable[[str | None, str], TableInfo | None]:
        def lookup(db: str | None, name: str) -> TableInfo | None:
            return self.catalog.get(db or default_db, name)

        return lookup

    def _identity_ctx(self, session: SessionState) -> identity.IdentityContext:
        return identity.IdentityContext(
            role=session.role,
            handshake_version=self.config.handshake_version,
            memsql_version=self.config.memsql_version,
            master_port=self.config.master_port,
            regexp_format=self.regexp_format,
        )

    # -- DDL ----------------------------------------------------------------------------------------
    async def _create(
        self, stmt: str, toks: list[Token], db: str | None
    ) -> tuple[str, Callable[[], Awaitable[None]] | None] | None:
        if len(toks) > 2 and (is_kw(toks[1], "INDEX") or is_kw(toks[2], "INDEX")):
            ci = ddl.parse_create_index(stmt, toks)
            if ci is None:
                return None
            info = self.catalog.get(ci.db or db, ci.table)
            rules.check_create_index(ci, info, self.config.foreign_keys)
            spec = ddl.AlterSpec("add_key", key=ci.key, index_name=ci.key.name)
            alter = ddl.AlterTable(ci.db, ci.table, [spec], "")
            return ci.mariadb_sql, self._after_alter_hook(alter, db)
        if find_top_level(toks, 1, min(len(toks), 8), "TABLE") < 0:
            return None
        ct = ddl.parse_create_table(stmt, toks)
        if ct is None:
            return None
        rules.check_create_table(ct, self.config.foreign_keys)
        if_not_exists = any(is_kw(t, "EXISTS") for t in toks[:8])
        return ct.mariadb_sql, self._after_create_hook(ct, db, if_not_exists)

    def _after_create_hook(
        self, ct: ddl.CreateTable, default_db: str | None, if_not_exists: bool
    ) -> Callable[[], Awaitable[None]] | None:
        db = ct.db or default_db
        if ct.temporary or db is None:
            return None  # temporary tables are session-local: not in the catalog (documented)

        async def hook() -> None:
            if if_not_exists and self.catalog.get(db, ct.name) is not None:
                return
            self._forget_counters(db, ct.name)  # a new table's ids start at its range's start again
            if ct.like is not None:
                src = self.catalog.get(ct.like[0] or db, ct.like[1])
                info = replace(src, db=db, name=ct.name) if src is not None else TableInfo(db, ct.name)
            else:
                info = TableInfo(db, ct.name, storage=ct.storage, reference=ct.reference)
                for n, key in enumerate(ct.keys):
                    if key.kind == "shard":
                        info.shard_key = list(key.columns)
                        info.shard_key_name = key.name
                    elif key.kind == "sort":
                        info.sort_key = list(key.columns)
                    elif key.kind == "unique" and key.unenforced:
                        info.unenforced_keys[key.name or f"?{n}"] = list(key.columns)
                    if key.using_hash and key.kind in ("key", "unique") and not key.unenforced:
                        info.hash_keys[key.name or f"?{n}"] = list(key.columns)
                    if key.kind == "vector" and key.columns:
                        info.vector_indexes[key.name or key.columns[0]] = _vector_index(key)
                    if key.kind == "fulltext":
                        info.fulltext = fulltext.fulltext_fact(key)
                info.vectors = {c.name: [*c.vector] for c in ct.columns if c.vector is not None}
            info = await self.catalog.put(info)
            await self._sync_vector_triggers(info, had_vectors=False)

        return hook

    def _after_alter_hook(
        self, alter: ddl.AlterTable, default_db: str | None
    ) -> Callable[[], Awaitable[None]]:
        db = alter.db or default_db

        async def hook() -> None:
            if db is None:
                return
            info = self.catalog.get(db, alter.table)
            if info is None:
                return
            new = replace(
                info,
                hash_keys=dict(info.hash_keys),
                unenforced_keys=dict(info.unenforced_keys),
                shard_key=None if info.shard_key is None else list(info.shard_key),
                sort_key=None if info.sort_key is None else list(info.sort_key),
                vectors=dict(info.vectors),
                vector_indexes={k: dict(v) for k, v in info.vector_indexes.items()},
            )
            target: tuple[str, str] | None = None
            for n, spec in enumerate(alter.specs):
                key = spec.key
                col = spec.column
                if spec.action in ("add_column", "modify", "change") and col is not None:
                    _drop_vector(new, spec.old_name or col.name)
                    if col.vector is not None:
                        new.vectors[col.name] = [*col.vector]
                if spec.action == "add_key" and key is not None and key.kind == "vector":
                    if key.columns:
                        new.vector_indexes[key.name or key.columns[0]] = _vector_index(key)
                elif spec.action == "add_key" and key is not None:
                    name = key.name or f"?{n}"
                    if key.kind == "unique" and key.unenforced:
                        new.unenforced_keys[name] = list(key.columns)
                    elif key.using_hash and key.kind in ("key", "unique"):
                        new.hash_keys[name] = list(key.columns)
                    elif key.kind == "fulltext":
                        new.fulltext = fulltext.fulltext_fact(key)
                elif spec.action == "drop_index" and spec.index_name is not None:
                    new.hash_keys.pop(spec.index_name, None)
                    new.unenforced_keys.pop(spec.index_name, None)
                    new.vector_indexes.pop(spec.index_name, None)
                elif spec.action == "change" and col is not None and spec.old_name and spec.new_name:
                    _rename_column(new, spec.old_name, spec.new_name, vectors=False)
                elif spec.action in ("rename_column", "change") and spec.old_name and spec.new_name:
                    _rename_column(new, spec.old_name, spec.new_name)
                elif spec.action == "drop_column" and spec.old_name:
                    _drop_column(new, spec.old_name)
                elif spec.action == "rename_table" and spec.new_table is not None:
                    target = (spec.new_table[0] or db, spec.new_table[1])
            if target is not None and target != (db, alter.table):
                await self.catalog.drop(db, alter.table)
                self._move_counters(db, alter.table, *target)
                new.db, new.name = target
            new = await self.catalog.put(new)
            await self._sync_vector_triggers(new, had_vectors=bool(vectors.packed_vectors(info)))

        return hook

    def _drop(self, toks: list[Token], db: str | None) -> Callable[[], Awaitable[None]] | None:
        i = 1
        if i < len(toks) and is_kw(toks[i], "TEMPORARY"):
            return None
        if i < len(toks) and is_kw(toks[i], "DATABASE", "SCHEMA"):
            j = i + 1
            if j + 1 < len(toks) and is_kw(toks[j], "IF") and is_kw(toks[j + 1], "EXISTS"):
                j += 2
            if j >= len(toks):
                return None
            name = ident_value(toks[j])

            async def drop_db() -> None:
                await self.catalog.drop_database(name)
                self._forget_counters(name)

            return drop_db
        if i < len(toks) and is_kw(toks[i], "TABLE", "TABLES"):
            j = i + 1
            if j + 1 < len(toks) and is_kw(toks[j], "IF") and is_kw(toks[j + 1], "EXISTS"):
                j += 2
            names: list[tuple[str, str]] = []
            for a, _b in split_top_level_commas(toks, j, len(toks)):
                qn = parse_qualified_name(toks, a)
                if qn is not None and (qn[0] or db):
                    names.append((qn[0] or db or "", qn[1]))

            async def drop_tables() -> None:
                for d, n in names:
                    await self.catalog.drop(d, n)
                    self._forget_counters(d, n)

            return drop_tables
        target = ddl.index_target(toks, i)
        if target is not None:
            _on, qn = target
            index = ident_value(toks[i + 1])
            alter = ddl.AlterTable(qn[0], qn[1], [ddl.AlterSpec("drop_index", index_name=index)], "")
            rules.check_alter(alter, self.catalog.get(qn[0] or db, qn[1]), {}, self.config.foreign_keys)
            return self._after_alter_hook(alter, db)
        return None

    def _drops_vector_index(self, toks: list[Token], db: str | None) -> bool:
        """``DROP INDEX name ON t`` of a catalogued vector index (MariaDB has no such index)."""
        target = ddl.index_target(toks, 1)
        if target is None:
            return False
        _on, qn = target
        info = self.catalog.get(qn[0] or db, qn[1])
        return info is not None and ident_value(toks[2]) in info.vector_indexes

    async def _hidden_fulltext(self, info: TableInfo) -> list[str]:
        """Names of the table's hidden single-column FULLTEXT indexes (gateway/fulltext.py)."""
        _, rows = await self.admin.query(
            "SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS "
            f"WHERE TABLE_SCHEMA = {sql_literal(info.db)} AND TABLE_NAME = {sql_literal(info.name)} "
            f"AND INDEX_NAME LIKE {sql_literal(ddl.HIDDEN_FULLTEXT_PREFIX.replace('_', chr(92) + '_') + '%')}"
        )
        return [r[0] for r in rows if r[0] is not None]

    async def _drop_hidden_fulltext(self, alter: ddl.AlterTable, info: TableInfo) -> None:
        """``ALTER TABLE t DROP INDEX <the FULLTEXT index>`` also drops its hidden companions."""
        ft = info.fulltext
        if ft is None:
            return
        for spec in alter.specs:
            if spec.action == "drop_index" and (spec.index_name or "").lower() == str(ft["name"]).lower():
                hidden = await self._hidden_fulltext(info)
                spec.mariadb_text = (spec.mariadb_text or "") + "".join(
                    f", DROP INDEX {quote_ident(h)}" for h in hidden
                )
                return

    async def _drop_fulltext_index(self, toks: list[Token], db: str | None) -> str | None:
        """``DROP INDEX <the FULLTEXT index> ON t`` -> ``ALTER TABLE t DROP INDEX ...`` with the hidden
        companions; None for any other statement."""
        target = ddl.index_target(toks, 1)
        if target is None or len(toks) < 3:
            return None
        _on, (tdb, table, _j) = target
        info = self.catalog.get(tdb or db, table)
        index = ident_value(toks[2])
        if info is None or info.fulltext is None or index.lower() != str(info.fulltext["name"]).lower():
            return None
        hidden = await self._hidden_fulltext(info)
        if not hidden:
            return None
        drops = ", ".join(f"DROP INDEX {quote_ident(n)}" for n in [index, *hidden])
        return f"ALTER TABLE {quote_ident(info.db)}.{quote_ident(info.name)} {drops}"

    def _rename_hook(self, toks: list[Token], db: str | None) -> Callable[[], Awaitable[None]]:
        pairs: list[tuple[tuple[str, str], tuple[str, str]]] = []
        for a, _b in split_top_level_commas(toks, 2, len(toks)):
            src = parse_qualified_name(toks, a)
            if src is None or src[2] >= len(toks) or not is_kw(toks[src[2]], "TO"):
                continue
            dst = parse_qualified_name(toks, src[2] + 1)
            if dst is None:
                continue
            pairs.append(((src[0] or db or "", src[1]), (dst[0] or db or "", dst[1])))

        async def hook() -> None:
            for (d1, n1), (d2, n2) in pairs:
                await self.catalog.rename(d1, n1, d2, n2)
                self._move_counters(d1, n1, d2, n2)

        return hook

    def _move_counters(self, d1: str, n1: str, d2: str, n2: str) -> None:
        """A renamed table keeps its AUTO_INCREMENT counters (they are the table's state, not its
        name's); whatever counters the new name had belonged to a table that no longer exists."""
        self._forget_counters(d2, n2)
        for (db, table, role), value in list(self._counters.items()):
            if (db, table) == (d1, n1):
                del self._counters[(db, table, role)]
                self._counters[(d2, n2, role)] = value

    async def _show_create(self, toks: list[Token], db: str | None) -> LocalResult | None:
        if len(toks) < 4 or not (is_kw(toks[1], "CREATE") and is_kw(toks[2], "TABLE")):
            return None
        qn = parse_qualified_name(toks, 3)
        if qn is None:
            return None
        info = self.catalog.get(qn[0] or db, qn[1])
        if info is None:
            return None
        try:
            _, rows = await self.admin.query(
                f"SHOW CREATE TABLE {quote_ident(info.db)}.{quote_ident(info.name)}"
            )
        except Exception:  # MariaDB disagrees with the catalog: let it answer the client itself
            log.warning("SHOW CREATE TABLE %s.%s failed on the admin connection", info.db, info.name)
            return None
        if not rows or rows[0][1] is None:
            return None
        name, text = rows[0][0], rows[0][1]
        return LocalResult(["Table", "Create Table"], [(name, ddl.singlestore_show_create(text, info))])

    async def _show_columns(self, stmt: str, toks: list[Token], db: str | None) -> LocalResult | None:
        """``SHOW [FULL] {COLUMNS|FIELDS} {FROM|IN} t [{FROM|IN} db] [LIKE ... | WHERE ...]`` and
        ``DESC[RIBE] t`` of a catalogued table with JSON columns: MariaDB's answer (run on the admin
        connection) with ``json`` as the Type of those columns ([doc] "JSON Type": JSON is a column type
        of its own; MariaDB says ``longtext``). [assumption] the lower-case spelling, as MySQL prints it
        and as information_schema's DATA_TYPE does. A WHERE on ``Type`` sees MariaDB's type."""
        full = False
        rest = ""
        if is_kw(toks[0], "SHOW"):
            i = 1
            if len(toks) > 1 and is_kw(toks[1], "FULL"):
                full, i = True, 2
            if (
                len(toks) < i + 3
                or not is_kw(toks[i], "COLUMNS", "FIELDS")
                or not is_kw(toks[i + 1], "FROM", "IN")
            ):
                return None
            qn = parse_qualified_name(toks, i + 2)
            if qn is None:
                return None
            table_db, name, j = qn
            if j + 1 < len(toks) and is_kw(toks[j], "FROM", "IN") and is_ident(toks[j + 1]):
                table_db, j = ident_value(toks[j + 1]), j + 2
            if j < len(toks):
                if not is_kw(toks[j], "LIKE", "WHERE"):
                    return None
                rest = " " + stmt[toks[j].start : toks[-1].end]
        else:  # DESC / DESCRIBE t (with a column or pattern after it, MariaDB answers)
            qn = parse_qualified_name(toks, 1)
            if qn is None or qn[2] != len(toks):
                return None
            table_db, name = qn[0], qn[1]
        info = self.catalog.get(table_db or db, name)
        if info is None or not info.json_columns:
            return None
        try:
            cols, rows = await self.admin.query(
                f"SHOW {'FULL ' if full else ''}COLUMNS FROM {quote_ident(info.db)}.{quote_ident(info.name)}"
                + rest
            )
        except Exception:  # let MariaDB answer the client itself (its own error text)
            return None
        json_names = {c.lower() for c in info.json_columns}
        return LocalResult(
            cols, [(r[0], "json" if (r[0] or "").lower() in json_names else r[1], *r[2:]) for r in rows]
        )

    def _show_index(self, stmt: str, toks: list[Token], db: str | None) -> str | None:
        """``SHOW {INDEX|INDEXES|KEYS} {FROM|IN} t [{FROM|IN} db] [WHERE expr]`` for a catalogued table ->
        a SELECT over information_schema.STATISTICS in SingleStore's shape ([doc] "SHOW INDEX, SHOW
        INDEXES, SHOW KEYS" / "SHOW INDEXES"): 13 columns (no MariaDB ``Ignored``), Cardinality, Sub_part
        and Packed always NULL, Comment and Index_comment blank, and a columnstore table's shard key listed
        as ``__SHARDKEY`` with Index_type ``METADATA_ONLY``. Row order (PRIMARY first, then by name) and the
        absence of a SORT KEY row are [assumption]."""
        if (
            len(toks) < 4
            or not is_kw(toks[1], "INDEX", "INDEXES", "KEYS")
            or not is_kw(toks[2], "FROM", "IN")
        ):
            return None
        qn = parse_qualified_name(toks, 3)
        if qn is None:
            return None
        table_db, name, i = qn[0], qn[1], qn[2]
        if i + 1 < len(toks) and is_kw(toks[i], "FROM", "IN") and is_ident(toks[i + 1]):
            table_db, i = ident_value(toks[i + 1]), i + 2
        where = ""
        if i < len(toks) and is_kw(toks[i], "WHERE"):
            where = " WHERE " + stmt[toks[i + 1].start : toks[-1].end]
        elif i < len(toks):
            return None
        info = self.catalog.get(table_db or db, name)
        if info is None:
            return None  # not ours (or unknown): MariaDB answers, with its own 1146
        cols = (
            "TABLE_NAME AS `Table`, NON_UNIQUE AS `Non_unique`, INDEX_NAME AS `Key_name`, "
            "SEQ_IN_INDEX AS `Seq_in_index`, COLUMN_NAME AS `Column_name`, COLLATION AS `Collation`, "
            "NULL AS `Cardinality`, NULL AS `Sub_part`, NULL AS `Packed`, NULLABLE AS `Null`, "
            "INDEX_TYPE AS `Index_type`, '' AS `Comment`, '' AS `Index_comment`, "
            "IF(INDEX_NAME = 'PRIMARY', 0, 1) AS _s2gw_primary_last"
        )
        rows = (
            f"SELECT {cols} FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = {sql_literal(info.db)} "
            f"AND TABLE_NAME = {sql_literal(info.name)} "
            f"AND INDEX_NAME NOT LIKE {sql_literal(ddl.HIDDEN_FULLTEXT_PREFIX.replace('_', chr(92) + '_') + '%')}"
        )
        shard = info.effective_shard_key if info.sharded and info.columnstore else None
        for n, column in enumerate(shard or [], start=1):
            rows += (
                f" UNION ALL SELECT {sql_literal(info.name)}, 1, '__SHARDKEY', {n}, {sql_literal(column)}, "
                "NULL, NULL, NULL, NULL, '', 'METADATA_ONLY', '', '', 2"
            )
        return (
            "SELECT `Table`, `Non_unique`, `Key_name`, `Seq_in_index`, `Column_name`, `Collation`, "
            "`Cardinality`, `Sub_part`, `Packed`, `Null`, `Index_type`, `Comment`, `Index_comment` "
            f"FROM ({rows}) AS _s2gw_si{where} ORDER BY _s2gw_primary_last, `Key_name`, `Seq_in_index`"
        )

    # -- AUTO_INCREMENT ------------------------------------------------------------------------------
    async def _auto_increment(self, stmt: str, session: SessionState, toks: list[Token] | None) -> str | None:
        """Give the rows of an INSERT/REPLACE into a sharded AUTO_INCREMENT table the gateway's ids.

        The first generated value is written ``LAST_INSERT_ID(n)``, so MariaDB reports it both in the OK
        packet and to ``SELECT LAST_INSERT_ID()``: for a multi-row INSERT that is the FIRST id, as MySQL
        and SingleStore report it ([doc] SingleStore "LAST_INSERT_ID": "the first automatically generated
        value ... for the most recently executed INSERT"). ``INSERT ... SELECT`` gets its ids from a
        reserved block of the counter (``_inject_select``)."""
        if toks is None:
            toks = significant(stmt)
        targets = rules.write_targets(toks)
        if len(targets) != 1:
            return None
        info = self.catalog.get(targets[0][0] or session.database, targets[0][1])
        if info is None or not info.sharded or info.auto_increment is None:
            return None
        key = (info.db, info.name, session.role)
        if key not in self._counters:
            await self._init_counter(info, session.role)
        column = info.auto_increment
        first = True

        def gen() -> str:
            nonlocal first
            value = self._next_value(key)
            if first:
                first = False
                return f"LAST_INSERT_ID({value})"
            return str(value)

        injected = rules.inject_auto_increment(stmt, toks, column, info.columns, gen)
        if injected is None:
            injected = self._inject_select(stmt, toks, column, key)
        return injected

    def _forget_counters(self, db: str, table: str | None = None) -> None:
        """Drop the AUTO_INCREMENT counters of a dropped/created table (or database): a table created
        again starts its ranges afresh, as a new table does on SingleStore."""
        for key in [k for k in self._counters if k[0] == db and (table is None or k[1] == table)]:
            del self._counters[key]

    def _next_value(self, key: tuple[str, str, str]) -> int:
        """The next id of one aggregator's counter: unique and increasing, with gaps of 2..9 (only
        uniqueness is documented), except the very first, which is the range's first value. The gap is
        a fixed function of the counter, so a test run is reproducible (an explicit value a test inserts
        collides with a generated id, as SingleStore's docs warn, on every run or on none)."""
        current = self._counters[key]
        step = 1 if current in _RANGE_STARTS else 2 + ((current * 0x9E3779B1) >> 16) % 8
        self._counters[key] = current + step
        return current + step

    def _inject_select(
        self, stmt: str, toks: list[Token], column: str, key: tuple[str, str, str]
    ) -> str | None:
        """``INSERT [IGNORE] INTO t (cols) SELECT ...`` without the AUTO_INCREMENT column ->
        ``INSERT INTO t (cols, id) SELECT q.*, LAST_INSERT_ID(start + 1) + ROW_NUMBER() OVER () - 1
        FROM (SELECT ...) AS q``: the rows get ``start + 1 ... start + n`` and LAST_INSERT_ID the first.
        The counter moves past a block of ``INSERT_SELECT_BLOCK`` ids at once, since the row count is
        unknown before MariaDB runs it (gateway limit: a larger INSERT ... SELECT can collide with later
        ids; and a select list with two columns of one name cannot be a derived table: MariaDB's 1060).
        Shapes other than an explicit column list followed by SELECT/WITH/( are left to MariaDB."""
        i = find_top_level(toks, 1, len(toks), "INTO")
        if i < 0:
            return None
        qn = parse_qualified_name(toks, i + 1)
        if qn is None or qn[2] >= len(toks) or toks[qn[2]].text != "(":
            return None
        close = matching_paren(toks, qn[2])
        if close + 1 >= len(toks) or not (
            is_kw(toks[close + 1], "SELECT", "WITH") or toks[close + 1].text == "("
        ):
            return None
        cols = [ident_value(toks[a]).lower() for a, _ in split_top_level_commas(toks, qn[2] + 1, close)]
        if not cols or column.lower() in cols:
            return None
        end = close + 1
        while True:  # the SELECT ends at ON DUPLICATE KEY UPDATE / RETURNING (not at a join's ON)
            end = find_top_level(toks, end + 1, len(toks), "ON", "RETURNING")
            if (
                end < 0
                or is_kw(toks[end], "RETURNING")
                or is_kw(toks[min(end + 1, len(toks) - 1)], "DUPLICATE")
            ):
                break
        end = end if end >= 0 else len(toks)
        start = self._counters[key]
        self._counters[key] = start + INSERT_SELECT_BLOCK
        body = stmt[toks[close + 1].start : toks[end - 1].end]
        tail = stmt[toks[end - 1].end :]
        return (
            f"{stmt[: toks[close].start]}, {quote_ident(column)}) SELECT _s2gw_q.*, "
            f"LAST_INSERT_ID({start + 1}) + ROW_NUMBER() OVER () - 1 FROM ({body}) AS _s2gw_q{tail}"
        )

    async def _init_counter(self, info: TableInfo, role: str) -> None:
        """Per-aggregator ranges ([doc] semantics s1.6; AGGREGATOR SYNC AUTO_INCREMENT's example shows a
        sharded table's first value on the master as 1): master from 1, child above 2^50; after a
        (gateway) restart the counter jumps to the next multiple of 1,000,000 above the largest value
        of its range already in the table."""
        base, _ = _counter_range(role)
        current = await self._largest_in_range(info, role)
        key = (info.db, info.name, role)
        if current is None:
            self._counters[key] = base - 1 if role == "master" else base
        else:
            self._counters[key] = (current // 1_000_000 + 1) * 1_000_000

    async def _largest_in_range(self, info: TableInfo, role: str) -> int | None:
        base, limit = _counter_range(role)
        col = quote_ident(info.auto_increment or "")
        try:
            _, rows = await self.admin.query(
                f"SELECT MAX({col}) FROM {quote_ident(info.db)}.{quote_ident(info.name)} "
                f"WHERE {col} >= {base} AND {col} < {limit}"
            )
            return int(rows[0][0]) if rows and rows[0][0] is not None else None
        except Exception:
            return None

    async def _aggregator_sync(self, stmt: str, toks: list[Token], session: SessionState) -> _Out:
        """``AGGREGATOR SYNC AUTO_INCREMENT [ON db[.table]] [ALL]`` ([doc] aggregator-sync-auto-increment):
        raise this aggregator's (ALL: every aggregator's) AUTO_INCREMENT counters of the sharded tables
        named to the largest value already in the aggregator's range, never lowering a counter.
        Without ON every database is synced [unverified]. The command causes an implicit commit [doc],
        so MariaDB gets ``COMMIT`` and the counters move in its after_ok hook. An unknown table or
        database answers MySQL's 1146 / 1049 (SingleStore's texts [unverified]). Reference tables are
        left alone: their values come from MariaDB's own counter, which already follows explicit
        values ("Reference tables behave normally, like MySQL")."""
        parsed = _parse_aggregator_sync(toks)
        if parsed is None:
            return _Out("forward", stmt)  # not this statement: MariaDB's own error
        db, table, every = parsed
        if db is not None:
            where = f"SCHEMA_NAME = {sql_literal(db)}"
            probe = f"SELECT 1 FROM information_schema.SCHEMATA WHERE {where}"
            reject = Reject(1049, "42000", f"Unknown database '{db}'")
            if table is not None:
                where = f"TABLE_SCHEMA = {sql_literal(db)} AND TABLE_NAME = {sql_literal(table)}"
                probe = f"SELECT 1 FROM information_schema.TABLES WHERE {where}"
                reject = Reject(1146, "42S02", f"Table '{db}.{table}' doesn't exist")
            _, rows = await self.admin.query(probe)
            if not rows:
                return _Out("reject", reject=reject)
        roles = ("master", "child") if every else (session.role,)
        infos = [
            info
            for (d, n), info in self.catalog.tables.items()
            if (db is None or d == db)
            and (table is None or n == table)
            and info.sharded
            and info.auto_increment
        ]

        async def sync() -> None:
            for info in infos:
                for role in roles:
                    current = await self._largest_in_range(info, role)
                    key = (info.db, info.name, role)
                    if current is not None:
                        self._counters[key] = max(self._counters.get(key, current), current)

        return _Out("forward", "COMMIT", changed=True, hooks=[sync])


AUTO_INCREMENT_MASTER_BASE = 1
AUTO_INCREMENT_CHILD_BASE = 2**50
#: Counter values from which the next id is the first of its range (1 on the master).
_RANGE_STARTS = frozenset({AUTO_INCREMENT_MASTER_BASE - 1})
#: Ids an ``INSERT ... SELECT`` reserves at once (its row count is unknown beforehand).
INSERT_SELECT_BLOCK = 1_000_000


def _counter_range(role: str) -> tuple[int, int]:
    """[first, limit) of the AUTO_INCREMENT values an aggregator hands out on sharded tables."""
    if role == "master":
        return AUTO_INCREMENT_MASTER_BASE, AUTO_INCREMENT_CHILD_BASE
    return AUTO_INCREMENT_CHILD_BASE, AUTO_INCREMENT_CHILD_BASE * 2


def _parse_aggregator_sync(toks: list[Token]) -> tuple[str | None, str | None, bool] | None:
    """(database, table, ALL) of ``AGGREGATOR SYNC AUTO_INCREMENT [ON db[.table]] [ALL]``; None otherwise."""
    if len(toks) < 3 or not (is_kw(toks[1], "SYNC") and is_kw(toks[2], "AUTO_INCREMENT")):
        return None
    i = 3
    db = table = None
    if i < len(toks) and is_kw(toks[i], "ON"):
        qn = parse_qualified_name(toks, i + 1)
        if qn is None:
            return None
        db, table = (qn[1], None) if qn[0] is None else (qn[0], qn[1])
        i = qn[2]
    every = i < len(toks) and is_kw(toks[i], "ALL")
    i += 1 if every else 0
    return (db, table, every) if i == len(toks) else None


def _vector_index(key: ddl.KeyDef) -> dict[str, str | None]:
    return {"column": key.columns[0], "options": key.options}


def _drop_vector(info: TableInfo, column: str) -> None:
    """Forget that ``column`` is a VECTOR (its definition changes or it is dropped)."""
    for name in [n for n in info.vectors if n.lower() == column.lower()]:
        del info.vectors[name]


def _rename_column(info: TableInfo, old: str, new: str, *, vectors: bool = True) -> None:
    def ren(cols: list[str]) -> list[str]:
        return [new if c.lower() == old.lower() else c for c in cols]

    if vectors:  # a rename without a definition keeps the type
        info.vectors = {new if c.lower() == old.lower() else c: v for c, v in info.vectors.items()}
    for vkey in info.vector_indexes.values():
        if (vkey["column"] or "").lower() == old.lower():
            vkey["column"] = new

    if info.shard_key is not None:
        info.shard_key = ren(info.shard_key)
    if info.sort_key is not None:
        info.sort_key = ren(info.sort_key)
    info.hash_keys = {k: ren(v) for k, v in info.hash_keys.items()}
    info.unenforced_keys = {k: ren(v) for k, v in info.unenforced_keys.items()}


def _drop_column(info: TableInfo, old: str) -> None:
    def rm(cols: list[str]) -> list[str]:
        return [c for c in cols if c.lower() != old.lower()]

    if info.sort_key is not None:
        info.sort_key = rm(info.sort_key)
    _drop_vector(info, old)
    info.vector_indexes = {
        k: v for k, v in info.vector_indexes.items() if (v["column"] or "").lower() != old.lower()
    }
    info.hash_keys = {k: rm(v) for k, v in info.hash_keys.items() if rm(v)}
    info.unenforced_keys = {k: rm(v) for k, v in info.unenforced_keys.items() if rm(v)}


#: ``SET [GLOBAL] [@@global.]regexp_format = 'extended' | 'advanced'`` as a whole statement (the two
#: documented values; anything else reaches MariaDB, which answers 1193 unknown variable).
_REGEXP_FORMAT_SET = re.compile(
    r"(?is)\s*SET\s+(?:GLOBAL\s+|@@global\.)?regexp_format\s*=\s*'(extended|advanced)'\s*;?\s*$"
)
_BACKREFERENCE = re.compile(r"\\[1-9]")
_REGEXP_FUNCTIONS = frozenset({"REGEXP_INSTR", "REGEXP_SUBSTR", "REGEXP_REPLACE", "REGEXP_MATCH"})


def _check_regexp_backreferences(toks: list[Token]) -> None:
    """A literal pattern with a backreference (``\\1`` .. ``\\9``) under ``regexp_format = 'extended'``:
    refused ([doc] regular-expression-functions: the 'extended' format is POSIX ERE; backreferences
    belong to 'advanced'; the error itself is an assumption, errors.ERRORS["regexp_backreference"])."""
    for i, tok in enumerate(toks[:-1]):
        pattern: Token | None = None
        if is_kw(tok, "REGEXP", "RLIKE"):
            pattern = toks[i + 1]
        elif tok.kind == "word" and tok.upper in _REGEXP_FUNCTIONS and toks[i + 1].text == "(":
            close = matching_paren(toks, i + 1)
            args = split_top_level_commas(toks, i + 2, close)
            if len(args) >= 2 and args[1][1] - args[1][0] == 1:
                pattern = toks[args[1][0]]
        if pattern is not None and pattern.kind == "str" and _BACKREFERENCE.search(string_value(pattern)):
            raise GatewayError("regexp_backreference")


#: MariaDB's longest schema object name (NAME_CHAR_LEN); SingleStore's is longer.
MARIADB_NAME_LIMIT = 64


def _check_identifier_lengths(toks: list[Token]) -> None:
    """A DDL name longer than MariaDB's 64 characters: MariaDB's own 1059, reworded to say it is the
    test bed's limit (errors.ERRORS["identifier_gateway_limit"]), not SingleStore's."""
    for tok in toks:
        if tok.kind in ("word", "bq"):
            name = ident_value(tok)
            if len(name) > MARIADB_NAME_LIMIT:
                raise GatewayError("identifier_gateway_limit", name=name)


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
