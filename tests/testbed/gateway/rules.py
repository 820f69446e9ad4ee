"""SingleStore's rules that MariaDB would otherwise accept, with SingleStore's codes and texts.

Every rule raises ``errors.GatewayError(<name>)``; the code, SQLSTATE, text and source of each name are in
``errors.ERRORS``. The rule decisions, with their sources:

CREATE TABLE (``check_create_table``)
  * ``CREATE COLUMNSTORE TABLE`` -> 1064: the keyword is not in the documented grammar.
  * ``CHECK`` (column or table level) -> rejected ([obs] 9.0.12 rejects CHECK DDL).
  * ``FOREIGN KEY`` / ``REFERENCES``: **ignored** by default (accepted, stripped before MariaDB). Why:
    from 8.1 the CREATE TABLE grammar lists ``FOREIGN KEY ... REFERENCES`` ([doc] create-table v8.1 to
    v10) and the 8.9+ docs describe them as *unenforced* foreign key constraints ([doc] v8.9
    specifying-unenforced-unique-constraints, "Unenforced Foreign Key Constraints"); django-singlestore
    says "SingleStore does not enforce FOREIGN KEY constraints". So a server accepts the clause and does
    not enforce it; MariaDB would enforce it, hence stripping. ``GatewayConfig.foreign_keys="reject"``
    refuses them instead (older servers). On an *existing columnstore* table, ``ALTER TABLE ADD
    FOREIGN KEY`` is refused like any unique/primary/foreign index ([code] text).
  * DATETIME/TIME/TIMESTAMP precision other than 0 or 6 -> rejected.
  * ``DEFAULT (expr)`` or ``DEFAULT f(...)`` other than NOW()/CURRENT_TIMESTAMP() -> rejected.
  * ``DESC`` in a PRIMARY/UNIQUE/KEY column list -> rejected (``SORT KEY (... DESC)`` is documented).
  * ``SORT KEY`` (or ``KEY ... USING CLUSTERED COLUMNSTORE``) on a ROWSTORE table -> rejected.
  * REFERENCE table without a PRIMARY KEY -> rejected.
  * AUTO_INCREMENT column that is not BIGINT on a sharded (non-reference) table -> rejected ([doc]
    "An AUTO_INCREMENT column in a distributed table must be a BIGINT").
  * sharded table: every enforced UNIQUE key and the PRIMARY KEY must contain all shard-key columns
    (shard key = SHARD KEY, else the PRIMARY KEY; keyless sharding has no columns to contain).
    ``UNENFORCED`` keys are exempt (not enforced); REFERENCE tables are exempt (no shard key).
  * columnstore: two or more enforced unique indexes (PRIMARY KEY included) with at least one
    multi-column one -> rejected. **Columnstore REFERENCE tables count**: the text names the storage
    ("on columnstore table"), not sharding, and the limit comes from columnstore hash indexes. The doc
    sentence "SingleStore supports unique constraints on both single-column and multiple-column keys in
    a columnstore reference table" is about *one* such key, which stays allowed.
  * two ``USING HASH`` indexes on the same column list (any storage) -> rejected.
  * FLOAT/DOUBLE/REAL column in the PRIMARY KEY of a columnstore table -> rejected.
  * FULLTEXT on a ROWSTORE table, or two FULLTEXT keys -> rejected (also on ALTER ADD FULLTEXT / CREATE
    FULLTEXT INDEX: a rowstore table, or a table that has one already); ``fulltext.py``.

ALTER TABLE / CREATE INDEX / DROP INDEX (``check_alter``), using the catalog and MariaDB's current
column facts (type, nullability, AUTO_INCREMENT):
  * ``RENAME INDEX|KEY`` -> 1064 ([obs] laravel-driver #63).
  * table ``COMMENT`` change -> rejected; ``AUTO_INCREMENT =`` on a sharded table -> rejected.
  * ``CHANGE`` that changes the type (any storage) -> 1706 ([obs]); on a REFERENCE table, ``CHANGE``
    renaming the AUTO_INCREMENT column -> rejected, with or without a column definition (SingleStore's
    own rename is ``CHANGE old new`` with none, [doc] alter-table; ddl.py turns it into MariaDB's
    ``RENAME COLUMN``).
  * adding a PRIMARY KEY to a table that has none -> "A primary key cannot be added ...". On a
    columnstore table that already has one, dropping or re-adding it -> "changes index `PRIMARY`".
  * columnstore: MODIFY/CHANGE to another type, NULL -> NOT NULL, adding or dropping AUTO_INCREMENT,
    adding a UNIQUE (enforced or not: "Adding or altering a unique index is not supported on existing
    columnstore tables" [doc]) / PRIMARY / FOREIGN index (also inline ``ADD COLUMN ... UNIQUE``),
    dropping the shard index (``DROP INDEX <shard key name>`` or dropping a shard-key column).
  * sharded rowstore: ADD UNIQUE / CREATE UNIQUE INDEX must contain the shard key.
  * the CREATE rules that apply to a single column or index (precision, DEFAULT (expr), DESC, CHECK,
    duplicate HASH index, BIGINT AUTO_INCREMENT).

Queries (``check_statement``; the query shapes of issue 21 are in ``query_rules.py``):
  * ``FOR UPDATE NOWAIT | SKIP LOCKED | OF ... | WAIT n`` -> 1064; ``FOR UPDATE`` in a statement with a
    join or subselect that involves a columnstore table -> 1706.
  * ``CUME_DIST(...)`` -> 1706; ``RETURNING`` in INSERT/REPLACE/DELETE -> 1064.
  * UPDATE whose SET list names a shard-key column of a sharded table -> rejected ([doc]).
  * child role only: a write (INSERT/REPLACE/UPDATE/DELETE/LOAD DATA) to a REFERENCE table while
    ``session.in_transaction`` or ``not session.autocommit`` -> 2549.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tests.testbed.gateway import fulltext
from tests.testbed.gateway.catalog import ColumnFact, TableInfo
from tests.testbed.gateway.ddl import (
    VECTOR_ELEMENT_TYPES,
    AlterSpec,
    AlterTable,
    ColumnDef,
    CreateIndex,
    CreateTable,
    KeyDef,
)
from tests.testbed.gateway.errors import GatewayError
from tests.testbed.gateway.sqllex import (
    Token,
    apply_edits,
    find_top_level,
    ident_value,
    is_ident,
    is_kw,
    matching_paren,
    parse_qualified_name,
    split_top_level_commas,
    string_value,
)

__all__ = [
    "add_random_order",
    "check_alter",
    "check_create_index",
    "check_create_table",
    "check_json_depth",
    "check_statement",
    "inject_auto_increment",
    "normalize_type",
    "table_refs",
    "write_targets",
]

_FLOATS = frozenset({"FLOAT", "DOUBLE", "REAL"})
Lookup = Callable[[str | None, str], TableInfo | None]


def _lower(cols: list[str]) -> list[str]:
    return [c.lower() for c in cols]


# --- column-level checks shared by CREATE and ALTER ----------------------------------------------
def _check_column(col: ColumnDef, *, sharded: bool, foreign_keys: str) -> None:
    if col.check:
        raise GatewayError("check_constraint")
    if col.references and foreign_keys == "reject":
        raise GatewayError("foreign_key")
    if col.type_name in ("DATETIME", "TIME", "TIMESTAMP") and col.fsp not in (None, 0, 6):
        raise GatewayError("datetime_precision", type=col.type_name)
    if col.default_expression:
        raise GatewayError("default_expression")
    if col.auto_increment and sharded and col.type_name != "BIGINT":
        raise GatewayError("auto_increment_not_bigint")
    if col.vector is not None and (col.vector[0] < 1 or col.vector[1] not in VECTOR_ELEMENT_TYPES):
        raise GatewayError("vector_type", type=col.type_text)


def _check_vector_index(
    key: KeyDef, rowstore: bool, columns: set[str], vectors: dict[str, list[int | str]]
) -> None:
    """A VECTOR index: columnstore only, one column, of type VECTOR(n, F32) ([doc] vector-indexing).
    ``columns``: the table's columns and ``vectors`` its VECTOR columns (-> [n, T]), lower-case names.
    MariaDB never sees the index, so the gateway also answers for a column that does not exist."""
    if rowstore:
        raise GatewayError("vector_index_rowstore")
    if len(key.columns) != 1:
        raise GatewayError("vector_index_columns", count=str(len(key.columns)))
    column = key.columns[0]
    if column.lower() not in columns:
        raise GatewayError("vector_index_unknown_column", column=column)
    vector = vectors.get(column.lower())
    if vector is None or vector[1] != "F32":
        raise GatewayError("vector_index_type", column=column)


def _check_key(key: KeyDef, *, foreign_keys: str) -> None:
    if key.kind == "check":
        raise GatewayError("check_constraint")
    if key.kind == "foreign" and foreign_keys == "reject":
        raise GatewayError("foreign_key")
    if key.desc and key.kind in ("primary", "unique", "key"):
        raise GatewayError("index_desc")


def check_create_table(ct: CreateTable, foreign_keys: str = "ignore") -> None:
    if ct.columnstore_keyword:
        raise GatewayError("columnstore_keyword", near=ct.columnstore_near)
    sharded = not ct.reference
    for col in ct.columns:
        _check_column(col, sharded=sharded, foreign_keys=foreign_keys)
    for key in ct.keys:
        _check_key(key, foreign_keys=foreign_keys)
    if ct.like is not None or (ct.as_select and not ct.columns):
        return
    vectors: dict[str, list[int | str]] = {c.name.lower(): [*c.vector] for c in ct.columns if c.vector}
    for key in ct.keys:
        if key.kind == "vector":
            _check_vector_index(key, ct.storage == "ROWSTORE", {c.name.lower() for c in ct.columns}, vectors)
    fulltext.check_create_fulltext(ct)
    sort_keys = [k for k in ct.keys if k.kind == "sort"]
    if sort_keys and ct.storage == "ROWSTORE":
        raise GatewayError("sort_key_rowstore")
    pk = _primary_key(ct)
    if ct.reference and pk is None:
        raise GatewayError("reference_without_pk")
    shard = next((k for k in ct.keys if k.kind == "shard"), None)
    shard_cols = _lower(shard.columns) if shard is not None else _lower(pk or [])
    uniques = _unique_keys(ct)
    if sharded and shard_cols:
        for name, cols in uniques:
            if not set(shard_cols) <= set(_lower(cols)):
                raise GatewayError("unique_without_shard_key", name=name)
    if ct.storage == "COLUMNSTORE":
        if len(uniques) >= 2 and any(len(cols) > 1 for _, cols in uniques):
            raise GatewayError("multiple_unique_columnstore")
        types = {c.name.lower(): c.type_name for c in ct.columns}
        if pk and any(types.get(c.lower()) in _FLOATS for c in pk):
            raise GatewayError("float_primary_key_columnstore")
    hashes = [_lower(k.columns) for k in ct.keys if k.using_hash and k.kind in ("key", "unique", "primary")]
    if len({tuple(h) for h in hashes}) < len(hashes):
        raise GatewayError("duplicate_hash_index")


def _primary_key(ct: CreateTable) -> list[str] | None:
    for key in ct.keys:
        if key.kind == "primary":
            return key.columns
    for col in ct.columns:
        if col.primary_key:
            return [col.name]
    return None


def _unique_keys(ct: CreateTable) -> list[tuple[str, list[str]]]:
    """Enforced unique indexes (PRIMARY included) as (name, columns), in MariaDB's naming."""
    out: list[tuple[str, list[str]]] = []
    pk = _primary_key(ct)
    if pk is not None:
        out.append(("PRIMARY", pk))
    for col in ct.columns:
        if col.unique and not col.primary_key:
            out.append((col.name, [col.name]))
    for key in ct.keys:
        if key.kind == "unique" and not key.unenforced:
            out.append((key.name or (key.columns[0] if key.columns else "?"), key.columns))
    return out


# --- ALTER ------------------------------------------------------------------------------------------
_INT_WIDTH = re.compile(r"^(tinyint|smallint|mediumint|int|bigint)\(\d+\)")
_ALIASES = {
    "integer": "int",
    "bool": "tinyint",
    "boolean": "tinyint",
    "numeric": "decimal",
    "dec": "decimal",
    "fixed": "decimal",
    "real": "double",
    "double precision": "double",
    "character varying": "varchar",
    "json": "longtext",  # MariaDB stores JSON as LONGTEXT (information_schema says longtext)
}


def normalize_type(type_text: str) -> str:
    """A comparable spelling of a column type ("INTEGER(11)" == "int", "DECIMAL" == "decimal(10,0)")."""
    t = " ".join(type_text.lower().replace(" (", "(").split())
    t = t.replace(" zerofill", "").replace(" signed", "")
    for alias, real in _ALIASES.items():
        if t == alias or t.startswith(alias + "(") or t.startswith(alias + " "):
            t = real + t[len(alias) :]
            break
    t = _INT_WIDTH.sub(r"\1", t)
    if t == "decimal" or t.startswith("decimal "):
        t = "decimal(10,0)" + t[len("decimal") :]
    t = re.sub(r"^decimal\((\d+)\)", r"decimal(\1,0)", t)
    for base in ("char", "binary"):
        if t == base:
            t = base + "(1)"
    t = re.sub(r"^(datetime|time|timestamp)\(0\)", r"\1", t)
    t = re.sub(r"\s*,\s*", ",", t)
    return t


def check_create_index(ci: CreateIndex, info: TableInfo | None, foreign_keys: str = "ignore") -> None:
    alter = AlterTable(ci.db, ci.table, [], "")
    alter.specs.append(AlterSpec("add_key", key=ci.key, index_name=ci.key.name, near=ci.mariadb_sql))
    check_alter(alter, info, {}, foreign_keys)


def check_alter(
    alter: AlterTable, info: TableInfo | None, facts: dict[str, ColumnFact], foreign_keys: str = "ignore"
) -> None:
    """Raise for the first refused spec. ``info`` None: table unknown to the catalog (MariaDB decides)."""
    for spec in alter.specs:
        if spec.action == "rename_index":
            raise GatewayError("rename_index", near=spec.near)
    if info is None:
        for spec in alter.specs:
            if spec.column is not None:
                _check_column(spec.column, sharded=False, foreign_keys=foreign_keys)
            if spec.key is not None:
                _check_key(spec.key, foreign_keys=foreign_keys)
        return
    fulltext.check_alter_fulltext(
        [
            s.key
            for s in alter.specs
            if s.action == "add_key" and s.key is not None and s.key.kind == "fulltext"
        ],
        info,
    )
    cs = info.columnstore
    shard = _lower(info.effective_shard_key)
    drops_pk = any(s.action == "drop_primary" for s in alter.specs)
    for spec in alter.specs:
        act = spec.action
        if act == "comment":
            raise GatewayError("alter_table_comment")
        if act == "auto_increment" and info.sharded:
            raise GatewayError("alter_auto_increment_sharded")
        if act == "alter_default" and spec.default_expression:
            raise GatewayError("default_expression")
        if spec.column is not None:
            _check_column(spec.column, sharded=info.sharded, foreign_keys=foreign_keys)
        if act in ("modify", "change") and spec.column is not None:
            _check_modify(spec.action, spec.old_name or spec.column.name, spec.column, info, facts)
        if act == "change" and spec.column is None and spec.old_name and spec.new_name:
            _check_rename(spec.old_name, spec.new_name, info, facts)
        if act == "add_column" and spec.column is not None:
            col = spec.column
            if col.primary_key:
                _adding_primary(info, drops_pk)
            if col.unique and cs:
                raise GatewayError("alter_columnstore_add_unique", index=col.name)
            if col.unique and info.sharded and not set(shard) <= {col.name.lower()}:
                raise GatewayError("unique_without_shard_key", name=col.name)
            if col.auto_increment and cs:
                raise GatewayError("alter_columnstore_auto_increment", column=col.name)
        if act == "add_key" and spec.key is not None and spec.key.kind == "vector":
            vectors = {c.lower(): v for c, v in info.vectors.items()}
            columns = {c.lower() for c in info.columns}
            for other in alter.specs:  # columns the same ALTER adds
                if other.action == "add_column" and other.column is not None:
                    columns.add(other.column.name.lower())
                    if other.column.vector is not None:
                        vectors[other.column.name.lower()] = [*other.column.vector]
            _check_vector_index(spec.key, not cs, columns, vectors)
        if act == "add_key" and spec.key is not None:
            key = spec.key
            _check_key(key, foreign_keys=foreign_keys)
            name = key.name or (key.columns[0] if key.columns else "")
            if key.kind == "primary":
                _adding_primary(info, drops_pk)
            elif key.kind == "unique" or (key.kind == "foreign" and cs):
                if cs:
                    raise GatewayError("alter_columnstore_add_unique", index=name)
                if (
                    key.kind == "unique"
                    and not key.unenforced
                    and info.sharded
                    and not set(shard) <= set(_lower(key.columns))
                ):
                    raise GatewayError("unique_without_shard_key", name=name)
            elif key.kind == "sort" and not cs:
                raise GatewayError("sort_key_rowstore")
            if key.using_hash:
                existing = [_lower(c) for c in info.hash_keys.values()]
                if _lower(key.columns) in existing:
                    raise GatewayError("duplicate_hash_index")
        if act == "drop_primary" and cs and info.primary_key:
            raise GatewayError("alter_columnstore_change_pk")
        if (
            act == "drop_index"
            and cs
            and info.sharded
            and spec.index_name is not None
            and info.shard_key_name is not None
            and spec.index_name.lower() == info.shard_key_name.lower()
        ):
            raise GatewayError("alter_columnstore_drop_shard_index", index=spec.index_name)
        if act == "drop_column" and cs and info.sharded and (spec.old_name or "").lower() in shard:
            raise GatewayError("alter_columnstore_drop_shard_index", index=info.shard_key_name or "PRIMARY")


def _adding_primary(info: TableInfo, drops_pk: bool) -> None:
    if info.primary_key and info.columnstore:
        raise GatewayError("alter_columnstore_change_pk")
    if not info.primary_key or drops_pk:
        raise GatewayError("add_primary_key")


def _check_rename(old: str, new: str, info: TableInfo, facts: dict[str, ColumnFact]) -> None:
    """``CHANGE old new`` (SingleStore's rename, no definition): only the REFERENCE table rule applies;
    the column keeps its type, so no type or columnstore rule can fire."""
    fact = facts.get(old.lower())
    if fact is not None and info.reference and fact.auto_increment and new.lower() != old.lower():
        raise GatewayError("change_reference_auto_increment_name")


def _check_modify(
    action: str, old: str, col: ColumnDef, info: TableInfo, facts: dict[str, ColumnFact]
) -> None:
    fact = facts.get(old.lower())
    if fact is None:
        return  # unknown column: MariaDB answers
    type_changed = normalize_type(col.type_text) != normalize_type(fact.column_type)
    vector = next((v for c, v in info.vectors.items() if c.lower() == old.lower()), None)
    if col.vector is not None or vector is not None:  # MariaDB's type is the storage, not VECTOR
        type_changed = vector != (None if col.vector is None else [*col.vector])
    if action == "change" and type_changed:
        raise GatewayError("change_column_type")
    if action == "change" and info.reference and fact.auto_increment and col.name.lower() != old.lower():
        raise GatewayError("change_reference_auto_increment_name")
    if not info.columnstore:
        return
    if type_changed:
        raise GatewayError("alter_columnstore_type", column=col.name)
    if fact.nullable and col.not_null:
        raise GatewayError("alter_columnstore_not_null", column=col.name)
    if fact.auto_increment != col.auto_increment:
        raise GatewayError("alter_columnstore_auto_increment", column=col.name)


# --- statements ------------------------------------------------------------------------------------
_FROM_END = frozenset(
    {"WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "UNION", "FOR", "WINDOW", "LOCK", "INTO", "SET", "ON",
     "USING", "PROCEDURE", "EXCEPT", "INTERSECT", "VALUES", "SELECT", "RETURNING"}
)  # fmt: skip
_JOIN_WORDS = frozenset({"JOIN", "STRAIGHT_JOIN"})


def table_refs(toks: list[Token]) -> list[tuple[str | None, str]]:
    """Tables named after FROM / JOIN / UPDATE / INTO (and comma joins), at any depth."""
    return [(db, name) for db, name, _alias in aliased_table_refs(toks)]


_NOT_ALIAS = _FROM_END | _JOIN_WORDS | {"INNER", "LEFT", "RIGHT", "CROSS", "NATURAL", "OUTER", "PARTITION", "FORCE",
                                        "USE", "IGNORE", "STRAIGHT_JOIN", "DUPLICATE"}  # fmt: skip


def aliased_table_refs(toks: list[Token]) -> list[tuple[str | None, str, str | None]]:
    """Like ``table_refs``, with the alias of each reference (or None)."""
    refs: list[tuple[str | None, str, str | None]] = []
    in_from: list[bool] = [False]
    i = 0
    n = len(toks)
    while i < n:
        t = toks[i]
        if t.kind == "punct" and t.text == "(":
            in_from.append(False)
            i += 1
            continue
        if t.kind == "punct" and t.text == ")":
            if len(in_from) > 1:
                in_from.pop()
            i += 1
            continue
        u = t.upper
        take = False
        if u in ("FROM", "UPDATE", "INTO", "TABLE") or u in _JOIN_WORDS:
            take = True
            in_from[-1] = u in ("FROM", "UPDATE") or u in _JOIN_WORDS or in_from[-1]
        elif u in _FROM_END:
            in_from[-1] = False
        elif t.kind == "punct" and t.text == "," and in_from[-1]:
            take = True
        if take and i + 1 < n:
            j = i + 1
            while j < n and is_kw(toks[j], "IGNORE", "LOW_PRIORITY", "QUICK", "ONLY"):
                j += 1
            qn = parse_qualified_name(toks, j)
            if qn is not None and not is_kw(toks[j], "SELECT", "WITH", "DUAL", "LATERAL"):
                k = qn[2]
                alias: str | None = None
                if k + 1 < n and is_kw(toks[k], "AS") and is_ident(toks[k + 1]):
                    alias, k = ident_value(toks[k + 1]), k + 2
                elif k < n and is_ident(toks[k]) and toks[k].upper not in _NOT_ALIAS:
                    alias, k = ident_value(toks[k]), k + 1
                refs.append((qn[0], qn[1], alias))
                i = k
                continue
        i += 1
    return refs


def write_targets(toks: list[Token]) -> list[tuple[str | None, str]]:
    """The tables a write statement modifies (best effort)."""
    head = toks[0].upper
    if head in ("INSERT", "REPLACE"):
        i = find_top_level(toks, 1, len(toks), "INTO")
        i = i + 1 if i >= 0 else 1
        while i < len(toks) and is_kw(toks[i], "LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY", "IGNORE"):
            i += 1
        qn = parse_qualified_name(toks, i)
        return [(qn[0], qn[1])] if qn else []
    if head == "LOAD":
        i = find_top_level(toks, 1, len(toks), "TABLE")
        qn = parse_qualified_name(toks, i + 1) if i >= 0 else None
        return [(qn[0], qn[1])] if qn else []
    if head == "UPDATE":
        end = find_top_level(toks, 1, len(toks), "SET")
        return table_refs(toks[: end if end > 0 else len(toks)])
    if head == "DELETE":
        frm = find_top_level(toks, 1, len(toks), "FROM")
        if frm > 1:  # DELETE t1, t2 FROM ... : the targets (tables or aliases) are listed before FROM
            aliases = {alias: (db, name) for db, name, alias in aliased_table_refs(toks[frm:]) if alias}
            out = []
            for a, _ in split_top_level_commas(toks, 1, frm):
                qn = parse_qualified_name(toks, a)
                if qn is not None and not is_kw(toks[a], "LOW_PRIORITY", "QUICK", "IGNORE"):
                    out.append(aliases.get(qn[1], (qn[0], qn[1])) if qn[0] is None else (qn[0], qn[1]))
            return out
        end = find_top_level(toks, 1, len(toks), "WHERE", "ORDER", "LIMIT", "USING", "RETURNING")
        return table_refs(toks[: end if end > 0 else len(toks)])
    return []


def check_statement(
    text: str,
    toks: list[Token],
    lookup: Lookup,
    *,
    role: str,
    in_transaction: bool,
    autocommit: bool,
    assumptions: bool = True,
) -> None:
    head = toks[0].upper
    # CUME_DIST
    for i, t in enumerate(toks[:-1]):
        if is_kw(t, "CUME_DIST") and toks[i + 1].text == "(":
            raise GatewayError("cume_dist")
    # RETURNING
    if head in ("INSERT", "REPLACE", "DELETE"):
        r = find_top_level(toks, 1, len(toks), "RETURNING")
        if r >= 0:
            raise GatewayError("returning", near=text[toks[r].start :])
    # FOR UPDATE options / joins
    for i, t in enumerate(toks[:-1]):
        if is_kw(t, "FOR") and is_kw(toks[i + 1], "UPDATE"):
            nxt = toks[i + 2] if i + 2 < len(toks) else None
            if is_kw(nxt, "NOWAIT", "SKIP", "OF", "WAIT"):
                assert nxt is not None
                raise GatewayError("for_update_option", near=text[nxt.start :])
            _check_for_update_join(toks, lookup)
    if head == "UPDATE":
        _check_update_shard_key(toks, lookup)
    writes = head in ("INSERT", "REPLACE", "UPDATE", "DELETE", "LOAD")
    if role == "child" and writes and (in_transaction or not autocommit):
        for db, name in write_targets(toks):
            info = lookup(db, name)
            if info is not None and info.reference:
                raise GatewayError("reference_write_child")
    from tests.testbed.gateway.query_rules import check_query_shapes  # issue 21's query shapes

    check_query_shapes(text, toks, lookup, assumptions=assumptions)


def _check_for_update_join(toks: list[Token], lookup: Lookup) -> None:
    selects = sum(1 for t in toks if is_kw(t, "SELECT"))
    refs = table_refs(toks)
    joined = any(t.upper in _JOIN_WORDS for t in toks) or len(refs) > 1 or selects > 1
    if not joined:
        return
    for db, name in refs:
        info = lookup(db, name)
        if info is not None and info.columnstore:
            raise GatewayError("for_update_columnstore_join")


def _check_update_shard_key(toks: list[Token], lookup: Lookup) -> None:
    set_i = find_top_level(toks, 1, len(toks), "SET")
    if set_i < 0:
        return
    targets = aliased_table_refs(toks[:set_i])
    end = find_top_level(toks, set_i + 1, len(toks), "WHERE", "ORDER", "LIMIT")
    end = end if end >= 0 else len(toks)
    for a, _b in split_top_level_commas(toks, set_i + 1, end):
        if not is_ident(toks[a]):
            continue
        qn = parse_qualified_name(toks, a)
        assert qn is not None
        # `t`.`col` or `col` (a three-part db.t.col is rare; its last part is the column)
        col = qn[1]
        qualifier = qn[0]
        if qn[2] < len(toks) and toks[qn[2]].text == "." and qn[2] + 1 < len(toks):
            col = ident_value(toks[qn[2] + 1])
            qualifier = qn[1]
        for db, name, alias in targets:
            if qualifier is not None and qualifier not in (name, alias):
                continue
            info = lookup(db, name)
            if info is not None and info.sharded and col.lower() in _lower(info.effective_shard_key):
                raise GatewayError("update_shard_key")


# --- AUTO_INCREMENT values on sharded tables ---------------------------------------------------------
def _is_generate(toks: list[Token], a: int, b: int) -> bool:
    """NULL, 0 or DEFAULT: SingleStore (and MariaDB) generate a value for these."""
    if b - a != 1:
        return False
    t = toks[a]
    return is_kw(t, "NULL", "DEFAULT") or (t.kind == "num" and t.text in ("0", "0.0"))


def inject_auto_increment(
    text: str, toks: list[Token], column: str, table_columns: list[str], gen: Callable[[], int | str]
) -> str | None:
    """Give every row of an INSERT/REPLACE that lets ``column`` be generated an explicit value from ``gen``.

    Handles ``VALUES``/``VALUE`` lists with or without a column list and the ``SET`` form; returns None
    when nothing changes (``INSERT ... SELECT`` and unparseable shapes are left to MariaDB, which then
    generates consecutive values: documented limitation).
    """
    i = find_top_level(toks, 1, len(toks), "INTO")
    i = i + 1 if i >= 0 else 1
    while i < len(toks) and is_kw(toks[i], "LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY", "IGNORE"):
        i += 1
    qn = parse_qualified_name(toks, i)
    if qn is None:
        return None
    i = qn[2]
    if i < len(toks) and is_kw(toks[i], "PARTITION"):
        return None
    edits: list[tuple[int, int, str]] = []
    low = column.lower()
    cols: list[str] | None = None
    if (
        i < len(toks)
        and toks[i].text == "("
        and not is_kw(toks[i + 1] if i + 1 < len(toks) else None, "SELECT", "WITH")
    ):
        close = _match(toks, i)
        cols = [ident_value(toks[a]).lower() for a, _ in split_top_level_commas(toks, i + 1, close)]
        if low not in cols:
            sep = ", " if cols else ""
            edits.append((toks[close].start, toks[close].start, f"{sep}`{column.replace('`', '``')}`"))
        i = close + 1
    if i >= len(toks):
        return None
    if is_kw(toks[i], "VALUES", "VALUE"):
        order = cols if cols is not None else [c.lower() for c in table_columns]
        pos = order.index(low) if low in order else None
        j = i + 1
        while j < len(toks) and toks[j].text == "(":
            close = _match(toks, j)
            args = split_top_level_commas(toks, j + 1, close)
            if cols is not None and pos is None:
                sep = ", " if args else ""
                edits.append((toks[close].start, toks[close].start, f"{sep}{gen()}"))
            elif pos is not None and pos < len(args) and len(args) == len(order):
                a, b = args[pos]
                if _is_generate(toks, a, b):
                    edits.append((toks[a].start, toks[b - 1].end, str(gen())))
            elif pos is None:
                return None
            j = close + 1
            if j < len(toks) and toks[j].text == ",":
                j += 1
            else:
                break
    elif is_kw(toks[i], "SET") and cols is None:
        end = find_top_level(toks, i + 1, len(toks), "ON", "RETURNING")
        end = end if end >= 0 else len(toks)
        found = False
        for a, b in split_top_level_commas(toks, i + 1, end):
            if (
                is_ident(toks[a])
                and ident_value(toks[a]).lower() == low
                and b - a >= 3
                and toks[a + 1].text in ("=", ":=")
            ):
                found = True
                if _is_generate(toks, a + 2, b):
                    edits.append((toks[a + 2].start, toks[b - 1].end, str(gen())))
        if not found:
            edits.append((toks[end - 1].end, toks[end - 1].end, f", `{column.replace('`', '``')}` = {gen()}"))
    else:
        return None
    if not edits:
        return None
    return apply_edits(text, edits)


def _match(toks: list[Token], i: int) -> int:
    return min(matching_paren(toks, i), len(toks) - 1)


# --- "no implicit order" chaos mode -------------------------------------------------------------------
def add_random_order(text: str, toks: list[Token]) -> str | None:
    """Top-level SELECT without ORDER BY -> ``ORDER BY RAND()`` (before LIMIT / FOR UPDATE / LOCK / INTO)."""
    if not toks or not is_kw(toks[0], "SELECT"):
        return None
    if find_top_level(toks, 1, len(toks), "FROM") < 0:
        return None
    if find_top_level(toks, 1, len(toks), "ORDER") >= 0:
        return None
    at = find_top_level(toks, 1, len(toks), "LIMIT", "FOR", "LOCK", "INTO", "PROCEDURE")
    if at >= 0 and is_kw(toks[at], "INTO") and find_top_level(toks, 1, at, "FROM") < 0:
        at = find_top_level(toks, at + 1, len(toks), "LIMIT", "FOR", "LOCK", "PROCEDURE")
    pos = toks[at].start if at >= 0 else toks[-1].end
    return (
        text[:pos].rstrip() + " ORDER BY RAND() " + text[pos:].lstrip()
        if at >= 0
        else text[:pos] + " ORDER BY RAND()" + text[pos:]
    )


#: The deepest JSON MariaDB's JSON_VALID accepts ([local] MariaDB 10.11: 31 nested arrays are valid, 32
#: are not; its json_lib's JSON_DEPTH_LIMIT is 32, counted from 1 below the top).
MARIADB_JSON_DEPTH = 31


def json_depth(text: str) -> int:
    """Nesting depth of a JSON document (brackets inside JSON strings ignored); 0 for a scalar."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def check_json_depth(toks: list[Token], info: TableInfo) -> None:
    """A string literal written into a table with JSON columns and nested deeper than MariaDB accepts
    (32 levels or more): ``json_depth_gateway_limit`` (the test bed's limit, said as such) instead of MariaDB's bare
    CHECK failure. The literal is not matched to its column; the table's first JSON column is named."""
    for t in toks:
        if t.kind != "str" or t.text.count("[") + t.text.count("{") <= MARIADB_JSON_DEPTH:
            continue
        value = string_value(t).lstrip()
        if value[:1] in ("[", "{") and json_depth(value) > MARIADB_JSON_DEPTH:
            raise GatewayError("json_depth_gateway_limit", column=info.json_columns[0])
