"""Where the server identifies itself: answer like SingleStore, in any statement.

``rewrite_identity`` turns ``VERSION()`` and the SingleStore system variables below into literals (or,
for ``@@transaction_isolation``, into MariaDB's ``@@tx_isolation``), case-insensitively and with the
``@@session.`` / ``@@global.`` / ``@@local.`` prefixes. When such an item is a whole select-list item
without an alias, the gateway adds ``AS `<original spelling>``` so the client sees the column name
SingleStore would send (the expression text, e.g. ``@@memsql_version`` or ``VERSION()``).

``handle_set`` implements the SET statements the gateway treats specially.

Variables (source; [unverified] = no real server checked):

=============================  =====================================================  ==============
item                           gateway answer                                         source
=============================  =====================================================  ==============
VERSION(), @@version           GatewayConfig.handshake_version ('5.7.32')             [code] 8.1.0 dump
@@version_comment              'SingleStoreDB source distribution (compatible; ...)'  [code] 8.1.0 dump
@@memsql_version,              GatewayConfig.memsql_version ('8.9.3')                 [code] dump;
@@singlestoredb_version                                                               interfaces.md
@@aggregator_id                0 on the master port, 1 on the child port              [unverified]
@@master_aggregator            'self' on the master; '127.0.0.1:<master_port>' on     [code] dump ('self');
                               the child                                              child [unverified]
@@default_table_type           'columnstore'                                          [code] 8.1.0 dump
@@table_name_case_sensitivity  1 (django-singlestore reads it)                        [code] 8.1.0 dump
@@regexp_format                'extended' until SET GLOBAL regexp_format = 'advanced' [doc] regular-
                               (global: one value for every connection)               expression-functions
@@transaction_isolation        rewritten to MariaDB's @@tx_isolation (READ-COMMITTED) [local] MariaDB
                                                                                      10.11 lacks it
@@character_set_*,             MariaDB's value with ``utf8mb3`` spelled ``utf8``      [doc] character-sets-
@@collation_* (and SHOW VARIABLES)  (``utf8_general_ci``)                             supported
=============================  =====================================================  ==============

MySQL-only variables Django reads, all [unverified] on SingleStore:

* ``@@sql_auto_is_null``: forwarded; MariaDB answers 0 (its default). Django only reads it to decide
  whether to ``SET SQL_AUTO_IS_NULL = 0``, which is forwarded too.
* ``@@lower_case_table_names``: forwarded; MariaDB answers 0 on Linux, consistent with SingleStore's
  ``table_name_case_sensitivity=1`` (names are case sensitive).
* ``@@default_storage_engine``: forwarded; MariaDB answers ``InnoDB``. Django's MySQL backend only uses
  it to detect MyISAM; SingleStore has no storage engines in the MySQL sense.
* ``SET [SESSION|GLOBAL] TRANSACTION ISOLATION LEVEL ...`` (and ``SET [@@]transaction_isolation`` /
  ``tx_isolation``): answered OK locally and ignored, so MariaDB stays READ-COMMITTED: SingleStore only
  provides READ COMMITTED ([doc] faqs/durability), django-singlestore never sends the statement.
  Whether a real server accepts or refuses other levels is [unverified].
* ``SET [SESSION] time_zone = ...``: dropped (answered OK when it was the only assignment): [doc]
  time-zone-engine-variables "Setting this variable does not do anything". Other assignments of the
  same SET are forwarded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tests.testbed.gateway.sqllex import Token, apply_edits, is_kw, significant, split_top_level_commas

__all__ = ["IDENTITY_TRIGGERS", "IdentityContext", "handle_set", "rewrite_identity"]

VERSION_COMMENT = "SingleStoreDB source distribution (compatible; MySQL Enterprise & MySQL Commercial)"

#: Lower-case byte strings whose presence means identity rewriting may apply.
IDENTITY_TRIGGERS = (b"@@", b"version")


@dataclass
class IdentityContext:
    role: str
    handshake_version: str
    memsql_version: str
    master_port: int
    regexp_format: str = "extended"


def _sql_str(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


_VARIABLES: dict[str, Callable[[IdentityContext], str]] = {
    "version": lambda c: _sql_str(c.handshake_version),
    "version_comment": lambda c: _sql_str(VERSION_COMMENT),
    "memsql_version": lambda c: _sql_str(c.memsql_version),
    "singlestoredb_version": lambda c: _sql_str(c.memsql_version),
    "aggregator_id": lambda c: "0" if c.role == "master" else "1",
    "master_aggregator": lambda c: _sql_str("self" if c.role == "master" else f"127.0.0.1:{c.master_port}"),
    "default_table_type": lambda c: _sql_str("columnstore"),
    "table_name_case_sensitivity": lambda c: "1",
    "regexp_format": lambda c: _sql_str(c.regexp_format),
}
_RENAMED = {"transaction_isolation": "tx_isolation"}
#: Character set / collation variables: MariaDB names the 3-byte set ``utf8mb3``, SingleStore ``utf8``
#: (``utf8_general_ci``; [doc] "Character Sets Supported" lists utf8 / utf8_general_ci, and "Implicit
#: Collation in Special Cases" shows SHOW VARIABLES' collation_* as utf8_general_ci).
_CHARSET_VARIABLES = ("character_set_", "collation_")
_PREFIXES = ("session.", "global.", "local.")

# Keywords after which a select-list item ends (so no alias follows).
_ITEM_END = frozenset(
    {
        "FROM", "INTO", "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "UNION", "FOR", "WINDOW", "LOCK",
        "EXCEPT", "INTERSECT", "PROCEDURE",
    }
)  # fmt: skip
_CLAUSES = frozenset(
    {
        "SELECT", "FROM", "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "SET", "VALUES", "VALUE", "INTO",
        "ON", "UNION", "WINDOW", "JOIN", "USING", "CALL", "DO", "RETURNING", "UPDATE",
    }
)  # fmt: skip


def _variable(tok: Token) -> tuple[str, str] | None:
    """(prefix, lower-case name) of an ``@@...`` token, or None."""
    if tok.kind != "var" or not tok.text.startswith("@@"):
        return None
    name = tok.text[2:].lower()
    prefix = ""
    for p in _PREFIXES:
        if name.startswith(p):
            prefix, name = tok.text[2 : 2 + len(p)], name[len(p) :]
            break
    return prefix, name


def rewrite_identity(text: str, ctx: IdentityContext, toks: list[Token] | None = None) -> str:
    """Return ``text`` with the identity items replaced (``text`` itself when nothing applies)."""
    if toks is None:
        toks = significant(text)
    edits: list[tuple[int, int, str]] = []
    clause: list[str] = [""]
    n = len(toks)
    i = 0
    while i < n:
        t = toks[i]
        if t.kind == "punct" and t.text == "(":
            clause.append("")
        elif t.kind == "punct" and t.text == ")":
            if len(clause) > 1:
                clause.pop()
        elif t.kind == "word" and t.upper in _CLAUSES:
            clause[-1] = t.upper
        repl: str | None = None
        last = i
        var = _variable(t)
        if var is not None:
            prefix, name = var
            if name in _VARIABLES:
                repl = _VARIABLES[name](ctx)
            elif name in _RENAMED:
                repl = "@@" + prefix + _RENAMED[name]
            elif name.startswith(_CHARSET_VARIABLES):
                repl = f"REPLACE(@@{prefix}{name}, 'utf8mb3', 'utf8')"
        elif (
            is_kw(t, "VERSION")
            and i + 2 < n
            and toks[i + 1].text == "("
            and toks[i + 2].text == ")"
            and not (i > 0 and toks[i - 1].text == ".")
        ):
            repl = _VARIABLES["version"](ctx)
            last = i + 2
        if repl is not None:
            start, end = t.start, toks[last].end
            if clause[-1] == "SELECT" and _whole_item(toks, i, last):
                repl = f"{repl} AS `{text[start:end].replace('`', '``')}`"
            edits.append((start, end, repl))
            i = last
        i += 1
    return apply_edits(text, edits) if edits else text


def _whole_item(toks: list[Token], first: int, last: int) -> bool:
    prev = toks[first - 1] if first > 0 else None
    nxt = toks[last + 1] if last + 1 < len(toks) else None
    if prev is None or not (prev.text == "," or is_kw(prev, "SELECT", "DISTINCT", "ALL", "DISTINCTROW")):
        return False
    if nxt is None:
        return True
    if nxt.kind == "punct" and nxt.text in (",", ";", ")"):
        return True
    return nxt.kind == "word" and nxt.upper in _ITEM_END


# --- SET ------------------------------------------------------------------------------------------
_IGNORED_VARIABLES = frozenset({"time_zone", "transaction_isolation", "tx_isolation"})
_SCOPES = ("SESSION", "GLOBAL", "LOCAL", "PERSIST")


@dataclass
class SetDecision:
    """``kind`` is 'ok' (answer OK locally), 'forward' (send ``sql``) or 'pass' (unchanged)."""

    kind: str
    sql: str = ""


def handle_set(text: str, toks: list[Token]) -> SetDecision:
    """Drop the assignments SingleStore ignores from a ``SET`` statement (``toks[0]`` is SET)."""
    if len(toks) < 2:
        return SetDecision("pass")
    i = 1
    if is_kw(toks[i], *_SCOPES) and i + 1 < len(toks) and is_kw(toks[i + 1], "TRANSACTION"):
        return SetDecision("ok")  # SET SESSION TRANSACTION ISOLATION LEVEL / READ ONLY ...
    if is_kw(toks[i], "TRANSACTION"):
        return SetDecision("ok")
    if is_kw(toks[i], "NAMES", "CHARACTER", "CHARSET", "PASSWORD", "ROLE", "DEFAULT", "STATEMENT"):
        return SetDecision("pass")
    parts = split_top_level_commas(toks, 1, len(toks))
    kept: list[str] = []
    orig_scope: str | None = None  # the scope in effect in the original statement
    new_scope: str | None = None  # the scope in effect in the rebuilt statement
    dropped = False
    for a, b in parts:
        scope: str | None = None
        j = a
        if is_kw(toks[j], *_SCOPES):
            scope = toks[j].upper
            j += 1
        name = ""
        if j < b:
            tok = toks[j]
            if tok.kind == "var" and tok.text.startswith("@@"):
                name = tok.text[2:].lower()
                for p in _PREFIXES:
                    if name.startswith(p):
                        name = name[len(p) :]
                        scope = p[:-1].upper()
                        break
            elif tok.kind in ("word", "bq"):
                name = tok.text.strip("`").lower()
        effective = scope or orig_scope
        orig_scope = effective
        if name in _IGNORED_VARIABLES:
            dropped = True
            continue
        piece = text[toks[a].start : toks[b - 1].end]
        if scope is None and effective != new_scope:
            piece = f"{effective} {piece}"
        new_scope = effective
        kept.append(piece)
    if not dropped:
        return SetDecision("pass")
    if not kept:
        return SetDecision("ok")
    return SetDecision("forward", "SET " + ", ".join(kept))


# --- SHOW VARIABLES -------------------------------------------------------------------------------
def show_variables(text: str, toks: list[Token], ctx: IdentityContext) -> str | None:
    """``SHOW [GLOBAL|SESSION] VARIABLES [LIKE 'p' | WHERE expr]`` -> an equivalent SELECT over
    information_schema's variables in which the identity variables carry SingleStore's values (and the
    SingleStore-only ones exist). Column names ``Variable_name`` / ``Value`` as in SHOW VARIABLES."""
    i = 1
    table = "SESSION_VARIABLES"
    if i < len(toks) and is_kw(toks[i], "GLOBAL", "SESSION", "LOCAL"):
        table = "GLOBAL_VARIABLES" if toks[i].upper == "GLOBAL" else table
        i += 1
    if i >= len(toks) or not is_kw(toks[i], "VARIABLES"):
        return None
    i += 1
    condition = ""
    if i < len(toks) and is_kw(toks[i], "LIKE"):
        condition = " WHERE Variable_name LIKE " + text[toks[i + 1].start : toks[-1].end]
    elif i < len(toks) and is_kw(toks[i], "WHERE"):
        condition = " WHERE " + text[toks[i + 1].start : toks[-1].end]
    elif i < len(toks):
        return None
    overrides = {name: build(ctx) for name, build in _VARIABLES.items()}
    names = ", ".join(_sql_str(n) for n in [*overrides, "transaction_isolation"])
    extra = " ".join(f"UNION ALL SELECT {_sql_str(n)}, {v}" for n, v in overrides.items())
    return (
        "SELECT Variable_name, Value FROM ("
        "SELECT LOWER(VARIABLE_NAME) AS Variable_name, REPLACE(VARIABLE_VALUE, 'utf8mb3', 'utf8') AS Value "
        f"FROM information_schema.{table} "
        f"WHERE LOWER(VARIABLE_NAME) NOT IN ({names}) "
        f"UNION ALL SELECT 'transaction_isolation', VARIABLE_VALUE FROM information_schema.{table} "
        f"WHERE VARIABLE_NAME = 'TX_ISOLATION' {extra}"
        f") AS v{condition} ORDER BY Variable_name"
    )
