"""VECTOR(n, F32) columns stored as SingleStore does: packed binary, JSON text on the wire.

SingleStore keeps a vector as n packed elements, accepts JSON text on INSERT and projects JSON text on
SELECT (``vector_type_project_format = JSON``, the default) [doc: vector-type]. The gateway does the same
on MariaDB (the column is a LONGBLOB, ddl.py):

* **Writes**: each table with F32 vector columns gets two triggers (``BEFORE INSERT``, ``BEFORE UPDATE``)
  that pack every vector column with the ``S2VEC_PACK`` UDF (tests/testbed/udf/s2vector.c), so every way
  of writing (INSERT, UPDATE, upserts, INSERT ... SELECT, LOAD DATA) stores packed elements. A value that
  is not a vector of n elements is refused with ``SIGNAL`` (code and text [assumption], see ``ERROR``).
  The triggers are created again after every DDL on the table (``sync_triggers_sql``).
* **Reads**: in the top-level select list of a SELECT (also INSERT ... SELECT), an item that is a plain
  reference to a vector column, or a ``*`` / ``t.*`` over a table with one, becomes
  ``CONVERT(S2VEC_JSON(col) USING utf8mb4) AS `col```. A vector used inside an expression stays packed, which is what the
  distance UDFs read fastest. Not rewritten (the client gets the packed bytes): a vector column
  selected in a derived table, a UNION's later branches or a CTE and read from the outer query.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.testbed.gateway.catalog import TableInfo, sql_literal
from tests.testbed.gateway.rules import aliased_table_refs
from tests.testbed.gateway.sqllex import (
    Token,
    find_top_level,
    ident_value,
    is_ident,
    is_kw,
    quote_ident,
    split_top_level_commas,
)

__all__ = ["ERROR", "TRIGGER_PREFIX", "json_of", "packed_vectors", "render_vectors", "sync_triggers_sql"]

TRIGGER_PREFIX = "__s2vec_"
#: The SIGNAL for a value that is no vector of the column's length: MariaDB's ER_TRUNCATED_WRONG_VALUE_FOR_FIELD
#: code; SingleStore's own code and text for it are not documented [assumption].
ERROR = (1366, "HY000")

Lookup = Callable[[str | None, str], TableInfo | None]


def json_of(expr: str) -> str:
    """JSON text of a packed vector, as a utf8mb4 string (a UDF's string result is binary)."""
    return f"CONVERT(S2VEC_JSON({expr}) USING utf8mb4)"


def packed_vectors(info: TableInfo) -> dict[str, int]:
    """The table's VECTOR(n, F32) columns (stored packed) -> n."""
    return {c: int(v[0]) for c, v in info.vectors.items() if v[1] == "F32"}


def sync_triggers_sql(info: TableInfo, existing: list[str]) -> list[str]:
    """Statements that replace the table's packing triggers (``existing``: their current names)."""
    db, table = quote_ident(info.db), quote_ident(info.name)
    out = [f"DROP TRIGGER IF EXISTS {db}.{quote_ident(name)}" for name in existing]
    columns = packed_vectors(info)
    if not columns:
        return out
    body = ["BEGIN", "DECLARE p LONGBLOB;"]
    for column, n in columns.items():
        q = quote_ident(column)
        message = sql_literal(f"Invalid VECTOR({n}, F32) value for column '{column}'")
        body.append(
            f"IF NEW.{q} IS NOT NULL THEN SET p = S2VEC_PACK(NEW.{q}, {n}); "
            f"IF p IS NULL THEN SIGNAL SQLSTATE '{ERROR[1]}' SET MESSAGE_TEXT = {message}, "
            f"MYSQL_ERRNO = {ERROR[0]}; END IF; SET NEW.{q} = p; END IF;"
        )
    body.append("END")
    for event, tag in (("INSERT", "bi"), ("UPDATE", "bu")):
        name = quote_ident(f"{TRIGGER_PREFIX}{tag}_{info.name}"[:64])
        out.append(
            f"CREATE TRIGGER {db}.{name} BEFORE {event} ON {db}.{table} FOR EACH ROW " + " ".join(body)
        )
    return out


def render_vectors(stmt: str, toks: list[Token], lookup: Lookup) -> str | None:
    """``stmt`` with the vector columns of its top-level select list rendered as JSON text (module
    docstring), or None when nothing changes."""
    select = 0 if is_kw(toks[0], "SELECT") else find_top_level(toks, 0, len(toks), "SELECT")
    if select < 0:
        return None
    refs: list[tuple[str, TableInfo]] = []  # (qualifier as written, table) in FROM order
    for db, name, alias in aliased_table_refs(toks):
        info = lookup(db, name)
        if info is not None:
            refs.append((alias or name, info))
    if not any(packed_vectors(info) for _, info in refs):
        return None
    start = select + 1
    while start < len(toks) and is_kw(
        toks[start], "DISTINCT", "ALL", "DISTINCTROW", "STRAIGHT_JOIN", "SQL_CALC_FOUND_ROWS", "SQL_NO_CACHE"
    ):
        start += 1
    end = find_top_level(toks, start, len(toks), "FROM")
    if end < 0:
        return None
    edits: list[tuple[int, int, str]] = []
    for a, b in split_top_level_commas(toks, start, end):
        new = _item(toks, a, b, refs)
        if new is not None:
            edits.append((toks[a].start, toks[b - 1].end, new))
    if not edits:
        return None
    out = stmt
    for s, e, text in reversed(edits):
        out = out[:s] + text + out[e:]
    return out


def _item(toks: list[Token], a: int, b: int, refs: list[tuple[str, TableInfo]]) -> str | None:
    """The rewritten select item ``toks[a:b]``, or None."""
    if b - a == 1 and toks[a].text == "*":
        return _star(refs, None)
    if b - a == 3 and is_ident(toks[a]) and toks[a + 1].text == "." and toks[a + 2].text == "*":
        return _star(refs, ident_value(toks[a]))
    # a (qualified) column reference, then an optional alias
    j = a
    parts: list[str] = []
    while j < b and is_ident(toks[j]):
        parts.append(ident_value(toks[j]))
        j += 1
        if j < b and toks[j].text == "." and j + 1 < b and is_ident(toks[j + 1]):
            j += 1
            continue
        break
    if not parts or len(parts) > 3:
        return None
    alias: str | None = None
    if j < b and is_kw(toks[j], "AS") and j + 1 == b - 1 and is_ident(toks[j + 1]):
        alias = ident_value(toks[j + 1])
    elif j == b - 1 and is_ident(toks[j]):
        alias = ident_value(toks[j])
    elif j != b:
        return None
    column = parts[-1]
    qualifier = parts[-2] if len(parts) > 1 else None
    if not _is_vector(refs, qualifier, column):
        return None
    ref = ".".join(quote_ident(p) for p in parts)
    return f"{json_of(ref)} AS {quote_ident(alias or column)}"


def _is_vector(refs: list[tuple[str, TableInfo]], qualifier: str | None, column: str) -> bool:
    low = column.lower()
    for q, info in refs:
        if qualifier is not None and q != qualifier and info.name != qualifier:
            continue
        if low in {c.lower() for c in packed_vectors(info)}:
            return True
    return False


def _star(refs: list[tuple[str, TableInfo]], qualifier: str | None) -> str | None:
    """``*`` / ``q.*`` spelled out, vector columns rendered; None when a table's columns are unknown or
    none of them is a vector."""
    chosen = [(q, info) for q, info in refs if qualifier is None or q == qualifier]
    if (
        not chosen
        or not any(packed_vectors(info) for _, info in chosen)
        or any(not i.columns for _, i in chosen)
    ):
        return None
    items: list[str] = []
    for q, info in chosen:
        vectors = {c.lower() for c in packed_vectors(info)}
        for column in info.columns:
            ref = (
                f"{quote_ident(q)}.{quote_ident(column)}"
                if len(chosen) > 1 or qualifier
                else quote_ident(column)
            )
            items.append(f"{json_of(ref)} AS {quote_ident(column)}" if column.lower() in vectors else ref)
    return ", ".join(items)
