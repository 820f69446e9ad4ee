"""Parse the SingleStore DDL the backend emits and turn it into MariaDB DDL.

Handled statements (everything else is forwarded untouched):

* ``CREATE [ROWSTORE] [REFERENCE | TEMPORARY | GLOBAL TEMPORARY] TABLE [IF NOT EXISTS] t (...)``
  with ``SHARD KEY [name] [USING HASH] (cols) [METADATA_ONLY]`` / ``SHARD KEY ()``, ``SORT KEY (cols)``,
  ``KEY ... USING HASH``, ``KEY ... USING CLUSTERED COLUMNSTORE`` (the legacy sort key),
  ``UNIQUE KEY ... UNENFORCED [RELY|NORELY]``, ``COLUMN GROUP``, ``FULLTEXT USING VERSION n``,
  ``FOREIGN KEY``, inline column keys, ``AUTO_INCREMENT [AS SEQUENCE]``, ``SPARSE``,
  ``SERIES TIMESTAMP`` and the table options ``AUTOSTATS_*`` / ``COMPRESSION``;
  ``CREATE TABLE ... LIKE`` and ``CREATE TABLE ... [AS] SELECT``;
* ``CREATE [UNIQUE] INDEX``, ``DROP INDEX ... ON``, ``ALTER TABLE`` (the specs Django's MySQL schema
  editor emits), ``DROP TABLE``, ``RENAME TABLE``, ``DROP DATABASE``.

Transform rules (SingleStore -> MariaDB):

==============================================  =================================================
SingleStore                                     MariaDB
==============================================  =================================================
ROWSTORE / REFERENCE / GLOBAL before TABLE      dropped (kept in the catalog)
SHARD KEY ..., SORT KEY ..., COLUMN GROUP ...   dropped (kept in the catalog)
KEY ... USING CLUSTERED COLUMNSTORE             dropped (it is the legacy spelling of SORT KEY)
UNIQUE KEY k (c) UNENFORCED [RELY|NORELY]       KEY k (c): SingleStore does not enforce it
KEY k (c) USING HASH                            unchanged (InnoDB accepts and ignores USING HASH)
FOREIGN KEY ... / col REFERENCES t(c)           dropped: SingleStore accepts them unenforced
METADATA_ONLY, SPARSE, SERIES TIMESTAMP         dropped
AUTO_INCREMENT AS SEQUENCE                      AUTO_INCREMENT
FULLTEXT USING VERSION n                        FULLTEXT
AUTOSTATS_* = v, COMPRESSION = v (options)      dropped
col AS (expr) PERSISTED type                    col type AS (expr) PERSISTENT
 ... a CHAR column c of the table in expr       ... RTRIM(c) in expr  (see below)
ALTER TABLE t CHANGE old new  (no definition)   ALTER TABLE t RENAME COLUMN old TO new
col VECTOR(n[, F32])                            col LONGBLOB: n packed little-endian F32 elements,
                                                packed by the table's BEFORE triggers (vectors.py)
col VECTOR(n, T)  (T other than F32)            col LONGTEXT ascii_bin CHECK (JSON_VALID(col) AND
                                                JSON_LENGTH(col) = n): JSON text
VECTOR {INDEX|KEY} [name] (col) [INDEX_OPTIONS]  dropped (kept in the catalog; queries are exact)
==============================================  =================================================

The VECTOR type itself is kept in the catalog. See the vector rows of translate.TRANSLATIONS for what
differs from SingleStore.

CHAR columns in a persisted computed column's expression (CREATE TABLE, ALTER TABLE ADD/MODIFY/CHANGE):
MariaDB refuses a PERSISTENT (stored) generated column whose expression depends on a CHAR column through
a string function or a cast (error 1901, ER_GENERATED_COLUMN_FUNCTION_IS_NOT_ALLOWED; seen on the
private MariaDB 10.11 with Django 6.1's model_fields models), because a CHAR value read back depends on
the session's sql_mode PAD_CHAR_TO_FULL_LENGTH and a stored value must not depend on sql_mode.
VARCHAR sources, VIRTUAL columns and ``RTRIM(c)`` are accepted. SingleStore has no such mode and
accepts the column. The gateway wraps each reference to a CHAR(n) column of the same table in
``RTRIM(...)``. Semantic note: without PAD_CHAR_TO_FULL_LENGTH (MariaDB's default; the private MariaDB's
sql_mode is STRICT_ALL_TABLES and nothing in the test bed sets the flag) a CHAR value already reads back
without its trailing spaces, so ``RTRIM(c)`` is exactly ``c`` and the computed value is unchanged. The
CHAR columns are those of the CREATE TABLE itself, or for ALTER TABLE the table's current columns
(information_schema.COLUMNS, read by the engine) plus the CHAR columns the same ALTER adds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tests.testbed.gateway.catalog import TableInfo, sql_literal
from tests.testbed.gateway.sqllex import (
    Token,
    apply_edits,
    find_top_level,
    ident_value,
    is_ident,
    is_kw,
    matching_paren,
    parse_qualified_name,
    quote_ident,
    significant,
    split_top_level_commas,
    string_value,
)

__all__ = [
    "AlterSpec",
    "AlterTable",
    "ColumnDef",
    "CreateIndex",
    "CreateTable",
    "KeyDef",
    "parse_alter_table",
    "parse_column_def",
    "parse_create_index",
    "parse_create_table",
    "rtrim_char_references",
    "singlestore_show_create",
]

_ALLOWED_DEFAULT_FUNCS = frozenset({"CURRENT_TIMESTAMP", "NOW", "LOCALTIME", "LOCALTIMESTAMP"})
_TEMPORAL = frozenset({"DATETIME", "TIME", "TIMESTAMP"})


@dataclass
class ColumnDef:
    name: str
    type_name: str  # upper-case base type, e.g. BIGINT, VARCHAR, DOUBLE
    type_text: str  # the type as written, e.g. "bigint(20) unsigned"
    fsp: int | None = None  # fractional-seconds precision of DATETIME/TIME/TIMESTAMP
    not_null: bool = False
    auto_increment: bool = False
    primary_key: bool = False
    unique: bool = False
    key: bool = False
    default_expression: bool = False
    check: bool = False
    references: bool = False
    mariadb_text: str = ""  # the definition with SingleStore-only words removed
    computed: str | None = None  # the persisted computed column's "(expr)" as written
    #: VECTOR(n, T): (n, element type); n is 0 / T is not a known type when written so (rules refuse it)
    vector: tuple[int, str] | None = None

    @property
    def is_char(self) -> bool:
        """A fixed-length CHAR column (its read-back value depends on PAD_CHAR_TO_FULL_LENGTH)."""
        if self.type_name in ("CHAR", "NCHAR"):
            return True
        return self.type_name == "CHARACTER" and "VARYING" not in self.type_text.upper()

    def unpad_computed(self, char_columns: set[str]) -> bool:
        """Wrap the CHAR columns (lower-case names) referenced by the computed expression in RTRIM()
        (see the module docstring); True if the MariaDB text changed."""
        if self.computed is None or not char_columns:
            return False
        new = rtrim_char_references(self.computed, char_columns)
        if new == self.computed:
            return False
        old_part, new_part = f" AS {self.computed} PERSISTENT", f" AS {new} PERSISTENT"
        if old_part not in self.mariadb_text:
            return False
        self.mariadb_text = self.mariadb_text.replace(old_part, new_part, 1)
        self.computed = new
        return True


@dataclass
class KeyDef:
    kind: str  # primary unique key shard sort fulltext foreign check group other
    name: str | None = None
    columns: list[str] = field(default_factory=list)
    desc: bool = False
    using_hash: bool = False
    unenforced: bool = False
    mariadb_text: str | None = None  # None: dropped for MariaDB
    options: str | None = None  # VECTOR INDEX ... INDEX_OPTIONS '<json>': the JSON text
    version: int | None = None  # FULLTEXT USING VERSION n


@dataclass
class CreateTable:
    db: str | None
    name: str
    storage: str = "COLUMNSTORE"
    reference: bool = False
    temporary: bool = False
    columnstore_keyword: bool = False
    columnstore_near: str = ""  # the statement from the COLUMNSTORE keyword on (for the 1064 text)
    like: tuple[str | None, str] | None = None
    as_select: bool = False
    columns: list[ColumnDef] = field(default_factory=list)
    keys: list[KeyDef] = field(default_factory=list)
    mariadb_sql: str = ""


def _index_columns(toks: list[Token], open_i: int) -> tuple[list[str], bool, int]:
    """Parse ``(a, b(10) DESC, ...)`` at ``toks[open_i]``: (names, any DESC, index after ``)``)."""
    close = matching_paren(toks, open_i)
    cols: list[str] = []
    desc = False
    for a, b in split_top_level_commas(toks, open_i + 1, close):
        if is_ident(toks[a]):
            cols.append(ident_value(toks[a]))
        if any(is_kw(t, "DESC") for t in toks[a:b]):
            desc = True
    return cols, desc, close + 1


#: Hidden single-column FULLTEXT indexes beside a multi-column one (gateway/fulltext.py).
HIDDEN_FULLTEXT_PREFIX = "__s2gw_ft_"


def hidden_index_clauses(key: KeyDef) -> list[str]:
    """``FULLTEXT `__s2gw_ft_<n>` (`col`)`` per column of a FULLTEXT key over two or more columns, so that
    MariaDB's MATCH can search any one column (gateway/fulltext.py)."""
    if key.kind != "fulltext" or len(key.columns) < 2:
        return []
    return [
        f"FULLTEXT {quote_ident(f'{HIDDEN_FULLTEXT_PREFIX}{n}')} ({quote_ident(c)})"
        for n, c in enumerate(key.columns, 1)
    ]


def parse_column_def(text: str, toks: list[Token], a: int, b: int) -> ColumnDef:
    """Parse one column definition ``toks[a:b]`` (the column name is ``toks[a]``)."""
    name = ident_value(toks[a])
    i = a + 1
    computed: str | None = None
    if i + 1 < b and is_kw(toks[i], "AS") and toks[i + 1].text == "(":
        # SingleStore's persisted computed column: `col AS (expr) PERSISTED type ...`
        close = matching_paren(toks, i + 1)
        computed = text[toks[i + 1].start : toks[min(close, b - 1)].end]
        i = close + 1
        if i < b and is_kw(toks[i], "PERSISTED"):
            i += 1
    elif i + 1 < b and is_kw(toks[i], "AS"):
        # `col AS expr PERSISTED type`: the parentheses are optional ([doc] "Persistent Computed
        # Columns": "<computed_column_name> AS <computed_column_definition> PERSISTED <data_type>")
        persisted = find_top_level(toks, i + 1, b, "PERSISTED")
        if persisted > i + 1:
            computed = "(" + text[toks[i + 1].start : toks[persisted - 1].end] + ")"
            i = persisted + 1
    type_name = toks[i].upper if i < b else ""
    type_start = i
    i += 1
    fsp: int | None = None
    if type_name == "DOUBLE" and i < b and is_kw(toks[i], "PRECISION"):
        i += 1
    if i < b and toks[i].text == "(":
        close = matching_paren(toks, i)
        if type_name in _TEMPORAL and close == i + 2 and toks[i + 1].kind == "num":
            fsp = int(toks[i + 1].text)
        i = close + 1
    while i < b and is_kw(toks[i], "UNSIGNED", "SIGNED", "ZEROFILL"):
        i += 1
    type_text = text[toks[type_start].start : toks[i - 1].end] if i > type_start else ""
    col = ColumnDef(name, type_name, type_text, fsp, computed=computed)
    if type_name == "VECTOR" and computed is None:
        col.vector = _vector_type(toks, type_start + 1, i)
    drop: list[tuple[int, int]] = []  # token index ranges removed for MariaDB
    while i < b:
        t = toks[i]
        u = t.upper
        if u == "NOT" and i + 1 < b and is_kw(toks[i + 1], "NULL"):
            col.not_null = True
            i += 2
            continue
        if u == "AUTO_INCREMENT":
            col.auto_increment = True
            if i + 2 < b and is_kw(toks[i + 1], "AS") and is_kw(toks[i + 2], "SEQUENCE"):
                drop.append((i + 1, i + 3))
                i += 3
                continue
        elif u == "PRIMARY" and i + 1 < b and is_kw(toks[i + 1], "KEY"):
            col.primary_key = True
            i += 2
            continue
        elif u == "UNIQUE":
            col.unique = True
        elif u == "KEY":
            col.key = True
        elif u == "DEFAULT" and i + 1 < b:
            nxt = toks[i + 1]
            if nxt.text == "(" or (
                nxt.kind == "word"
                and i + 2 < b
                and toks[i + 2].text == "("
                and nxt.upper not in _ALLOWED_DEFAULT_FUNCS
            ):
                col.default_expression = True
        elif u == "CHECK" and i + 1 < b and toks[i + 1].text == "(":
            col.check = True
        elif u in ("SPARSE",):
            drop.append((i, i + 1))
        elif u == "SERIES" and i + 1 < b and is_kw(toks[i + 1], "TIMESTAMP"):
            drop.append((i, i + 2))
            i += 2
            continue
        elif u == "REFERENCES":
            col.references = True
            drop.append((i, b))
            break
        elif t.text == "(":
            i = matching_paren(toks, i) + 1
            continue
        i += 1
    if computed is not None:
        # MariaDB: `col type AS (expr) PERSISTENT ...`
        type_end = type_start
        while type_end < b and toks[type_end].end <= toks[type_start].start + len(type_text):
            type_end += 1
        full_type = type_text
        while type_end < b and is_kw(toks[type_end], "CHARACTER", "CHARSET", "COLLATE"):
            step = 3 if is_kw(toks[type_end], "CHARACTER") else 2
            last = min(type_end + step, b) - 1
            full_type = text[toks[type_start].start : toks[last].end]
            type_end = last + 1
        rest = _render(text, toks, type_end, b, drop) if type_end < b else ""
        col.mariadb_text = (
            f"{text[toks[a].start : toks[a].end]} {full_type} AS {computed} PERSISTENT {rest}".rstrip()
        )
        return col
    col.mariadb_text = _render(text, toks, a, b, drop)
    if col.vector is not None:
        head = text[toks[a].start : toks[a].end]
        rest = col.mariadb_text[len(head) :].lstrip()[len(type_text) :]
        q = quote_ident(name)
        if col.vector[1] == "F32":
            # packed binary; LONGBLOB because a BEFORE trigger sees the JSON text the client sent in the
            # column's own type first (a VARBINARY(4n) would refuse it as too long before the trigger)
            col.mariadb_text = f"{head} LONGBLOB{rest}"
        else:
            # JSON text with the element count checked; ascii: digits, signs, e, [ , ]
            col.mariadb_text = (
                f"{head} LONGTEXT CHARACTER SET ascii COLLATE ascii_bin{rest} "
                f"CHECK (JSON_VALID({q}) AND JSON_LENGTH({q}) = {col.vector[0]})"
            )
    return col


VECTOR_ELEMENT_TYPES = ("F32", "F64", "I8", "I16", "I32", "I64", "F16")


def _vector_type(toks: list[Token], i: int, end: int) -> tuple[int, str]:
    """``(n[, T])`` after VECTOR: (n, T); (0, ...) when n is missing or not a number, T upper-cased
    (default F32 [doc] vector-type)."""
    if i >= end or toks[i].text != "(":
        return 0, "F32"
    inner = [t for t in toks[i + 1 : matching_paren(toks, i)] if t.text != ","]
    n = int(inner[0].text) if inner and inner[0].kind == "num" and inner[0].text.isdigit() else 0
    element = inner[1].upper if len(inner) > 1 else "F32"
    if len(inner) > 2:
        element = "?"
    return n, element


def rtrim_char_references(expr: str, char_columns: set[str]) -> str:
    """``expr`` with each column reference (``c``, ```c```, ``t.c``) whose name is in ``char_columns``
    (lower-case) wrapped in ``RTRIM(...)``. Function names, cast target types and JSON keys
    (``j::k``) are not column references."""
    toks = significant(expr)
    edits: list[tuple[int, int, str]] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if not is_ident(t):
            i += 1
            continue
        prev = toks[i - 1] if i > 0 else None
        j = i
        while j + 2 < len(toks) and toks[j + 1].text == "." and is_ident(toks[j + 2]):
            j += 2
        nxt = toks[j + 1] if j + 1 < len(toks) else None
        is_ref = not (
            (nxt is not None and nxt.text == "(")  # a function call
            or (prev is not None and prev.kind == "op" and (prev.text == ":>" or prev.text.startswith("::")))
            or (t.kind == "word" and is_kw(prev, "AS"))  # CAST(x AS type)
        )
        if is_ref and ident_value(toks[j]).lower() in char_columns:
            edits.append((t.start, toks[j].end, f"RTRIM({expr[t.start : toks[j].end]})"))
        i = j + 1
    return apply_edits(expr, edits)


def _render(text: str, toks: list[Token], a: int, b: int, drop: list[tuple[int, int]]) -> str:
    """The original text of ``toks[a:b]`` without the token ranges in ``drop``."""
    if a >= b:
        return ""
    pieces: list[str] = []
    pos = toks[a].start
    for da, db in sorted(drop):
        if da >= b:
            continue
        pieces.append(text[pos : toks[da].start])
        pos = toks[db - 1].end if db - 1 < len(toks) else toks[b - 1].end
    pieces.append(text[pos : toks[b - 1].end])
    return " ".join(p.strip() for p in pieces if p.strip())


def parse_key_def(text: str, toks: list[Token], a: int, b: int) -> KeyDef | None:
    """Parse a table-level key/constraint definition; None if ``toks[a:b]`` is a column."""
    i = a
    constraint_name: str | None = None
    if is_kw(toks[i], "CONSTRAINT"):
        i += 1
        if (
            i < b
            and is_ident(toks[i])
            and not is_kw(toks[i], "PRIMARY", "UNIQUE", "FOREIGN", "CHECK", "SHARD")
        ):
            constraint_name = ident_value(toks[i])
            i += 1
    u = toks[i].upper if i < b else ""
    kind: str
    if u == "PRIMARY":
        kind, i = "primary", i + 2
    elif u == "UNIQUE":
        kind, i = "unique", i + 1
        if i < b and is_kw(toks[i], "KEY", "INDEX"):
            i += 1
    elif u in ("KEY", "INDEX"):
        kind, i = "key", i + 1
    elif u == "SHARD" and i + 1 < b and is_kw(toks[i + 1], "KEY"):
        kind, i = "shard", i + 2
    elif u == "SORT" and i + 1 < b and is_kw(toks[i + 1], "KEY"):
        kind, i = "sort", i + 2
    elif u == "FULLTEXT":
        kind, i = "fulltext", i + 1
    elif u == "FOREIGN" and i + 1 < b and is_kw(toks[i + 1], "KEY"):
        kind, i = "foreign", i + 2
    elif u == "CHECK":
        return KeyDef("check", constraint_name, mariadb_text=None)
    elif u == "COLUMN" and i + 1 < b and is_kw(toks[i + 1], "GROUP"):
        return KeyDef("group", mariadb_text=None)
    elif u == "VECTOR" and i + 1 < b and is_kw(toks[i + 1], "INDEX", "KEY"):
        return _vector_key(text, toks, i + 2, b)
    elif u in ("SPATIAL", "VECTOR", "MULTI"):
        return KeyDef("other", mariadb_text=text[toks[a].start : toks[b - 1].end])
    elif constraint_name is not None:
        return KeyDef("other", constraint_name, mariadb_text=text[toks[a].start : toks[b - 1].end])
    else:
        return None
    key = KeyDef(kind, constraint_name)
    drop: list[tuple[int, int]] = []
    # optional USING VERSION n (FULLTEXT), [INDEX|KEY], name, USING x before the column list
    while i < b and toks[i].text != "(":
        t = toks[i]
        if is_kw(t, "USING") and i + 1 < b:
            if is_kw(toks[i + 1], "VERSION"):
                if i + 2 < b and toks[i + 2].kind == "num":
                    key.version = int(toks[i + 2].text)
                drop.append((i, i + 3))
                i += 3
                continue
            if is_kw(toks[i + 1], "HASH"):
                key.using_hash = True
            i += 2
            continue
        if is_kw(t, "INDEX", "KEY") and kind == "fulltext":
            i += 1
            continue
        if is_ident(t):
            key.name = ident_value(t)
        i += 1
    if i < b and toks[i].text == "(":
        key.columns, key.desc, i = _index_columns(toks, i)
    clustered = False
    while i < b:
        t = toks[i]
        if is_kw(t, "USING") and i + 1 < b:
            if is_kw(toks[i + 1], "HASH"):
                key.using_hash = True
            elif is_kw(toks[i + 1], "CLUSTERED"):
                clustered = True
            i += 2
            continue
        if is_kw(t, "UNENFORCED"):
            key.unenforced = True
            end = i + 1
            if end < b and is_kw(toks[end], "RELY", "NORELY"):
                end += 1
            drop.append((i, end))
            i = end
            continue
        if is_kw(t, "METADATA_ONLY"):
            drop.append((i, i + 1))
        i += 1
    if kind in ("shard", "sort", "foreign") or clustered:
        if clustered:
            key.kind = "sort"
        key.mariadb_text = None
        return key
    rendered = _render(text, toks, a, b, drop)
    if key.unenforced and kind == "unique":
        # MariaDB gets a plain KEY with the same name and columns.
        name = f"`{key.name.replace('`', '``')}` " if key.name else ""
        cols = rendered[rendered.index("(") :] if "(" in rendered else ""
        rendered = f"KEY {name}{cols}"
    key.mariadb_text = rendered
    return key


def _vector_key(text: str, toks: list[Token], i: int, b: int) -> KeyDef:
    """``VECTOR {INDEX|KEY} [name] (col, ...) [INDEX_OPTIONS [=] '<json>']`` from after INDEX/KEY:
    dropped for MariaDB (no ANN index: queries are answered exactly), kept in the catalog."""
    key = KeyDef("vector", mariadb_text=None)
    if i < b and is_ident(toks[i]) and toks[i].text != "(":
        key.name = ident_value(toks[i])
        i += 1
    if i < b and toks[i].text == "(":
        key.columns, key.desc, i = _index_columns(toks, i)
    if i < b and is_kw(toks[i], "INDEX_OPTIONS"):
        i += 1
        if i < b and toks[i].text == "=":
            i += 1
        if i < b and toks[i].kind == "str":
            key.options = string_value(toks[i])
    return key


_TABLE_OPTION_DROP = frozenset(
    {
        "AUTOSTATS_ENABLED", "AUTOSTATS_CARDINALITY_MODE", "AUTOSTATS_HISTOGRAM_MODE",
        "AUTOSTATS_SAMPLING", "COMPRESSION",
    }
)  # fmt: skip


def parse_create_table(text: str, toks: list[Token]) -> CreateTable | None:
    """Parse ``CREATE ... TABLE``; None when ``toks`` is not a CREATE TABLE statement."""
    i = 1
    storage = "COLUMNSTORE"
    reference = temporary = columnstore_kw = False
    columnstore_pos = 0
    prefix_words: list[str] = []
    while i < len(toks) and not is_kw(toks[i], "TABLE"):
        u = toks[i].upper
        if u == "ROWSTORE":
            storage = "ROWSTORE"
        elif u == "REFERENCE":
            reference = True
        elif u == "TEMPORARY":
            temporary = True
            prefix_words.append("TEMPORARY")
        elif u == "COLUMNSTORE":
            columnstore_kw = True
            columnstore_pos = toks[i].start
        elif u in ("GLOBAL", "OR", "REPLACE"):
            if u != "GLOBAL":
                prefix_words.append(u)
        else:
            return None
        i += 1
    if i >= len(toks):
        return None
    i += 1
    if_not_exists = ""
    if (
        i + 2 < len(toks)
        and is_kw(toks[i], "IF")
        and is_kw(toks[i + 1], "NOT")
        and is_kw(toks[i + 2], "EXISTS")
    ):
        if_not_exists = "IF NOT EXISTS "
        i += 3
    qn = parse_qualified_name(toks, i)
    if qn is None:
        return None
    db, name, i = qn
    ct = CreateTable(db, name, storage, reference, temporary, columnstore_kw, text[columnstore_pos:])
    head = "CREATE " + "".join(w + " " for w in prefix_words) + "TABLE " + if_not_exists
    name_text = text[toks[i - (3 if db is not None else 1)].start : toks[i - 1].end]
    # CREATE TABLE t LIKE s / CREATE TABLE t (LIKE s)
    like_i = i + 1 if i < len(toks) and toks[i].text == "(" else i
    if like_i < len(toks) and is_kw(toks[like_i], "LIKE"):
        src = parse_qualified_name(toks, like_i + 1)
        if src is not None:
            ct.like = (src[0], src[1])
        ct.mariadb_sql = head + name_text + text[toks[i - 1].end : toks[-1].end]
        return ct
    body_parts: list[str] = []
    rest_start = i
    if i < len(toks) and toks[i].text == "(":
        close = matching_paren(toks, i)
        # "(SELECT ...)" is a parenthesised query, not a definition list
        if not is_kw(toks[i + 1] if i + 1 < len(toks) else None, "SELECT", "WITH"):
            for a, b in split_top_level_commas(toks, i + 1, close):
                key = parse_key_def(text, toks, a, b)
                if key is not None:
                    ct.keys.append(key)
                    if key.mariadb_text is not None:
                        body_parts.append(key.mariadb_text)
                        body_parts.extend(hidden_index_clauses(key))
                    continue
                col = parse_column_def(text, toks, a, b)
                ct.columns.append(col)
                body_parts.append(col.mariadb_text)
            char_columns = {c.name.lower() for c in ct.columns if c.is_char}
            for col in ct.columns:
                if col.computed is not None:
                    before = col.mariadb_text
                    if col.unpad_computed(char_columns):
                        body_parts[body_parts.index(before)] = col.mariadb_text
            rest_start = close + 1
    # table options and an optional [AS] SELECT
    tail: list[str] = []
    j = rest_start
    sel = find_top_level(toks, rest_start, len(toks), "SELECT", "WITH")
    opt_end = sel if sel >= 0 else len(toks)
    if sel >= 0:
        ct.as_select = True
        if sel > 0 and is_kw(toks[sel - 1], "AS"):
            opt_end = sel - 1
    while j < opt_end:
        t = toks[j]
        if t.upper in _TABLE_OPTION_DROP:
            j += 1
            if j < opt_end and toks[j].text == "=":
                j += 1
            j += 1
            continue
        k = j + 1
        tail.append(text[t.start : toks[k - 1].end])
        j = k
    sql = head + name_text
    if body_parts:
        sql += " (\n  " + ",\n  ".join(body_parts) + "\n)"
    if tail:
        sql += " " + " ".join(tail)
    if sel >= 0:
        sql += " " + text[toks[opt_end].start : toks[-1].end]
    ct.mariadb_sql = sql
    return ct


@dataclass
class CreateIndex:
    db: str | None
    table: str
    key: KeyDef
    mariadb_sql: str


def index_target(toks: list[Token], i: int) -> tuple[int, tuple[str | None, str, int]] | None:
    """For ``INDEX name ... ON [db.]tbl`` with ``INDEX`` at ``toks[i]`` (CREATE INDEX, DROP INDEX):
    the index of ``ON`` and ``(db, table, index after the name)``, or None."""
    if i >= len(toks) or not is_kw(toks[i], "INDEX"):
        return None
    on = find_top_level(toks, i, len(toks), "ON")
    if on < 0:
        return None
    qn = parse_qualified_name(toks, on + 1)
    return None if qn is None else (on, qn)


def parse_create_index(text: str, toks: list[Token]) -> CreateIndex | None:
    """``CREATE [UNIQUE|FULLTEXT] INDEX name [USING t] ON tbl (cols) [USING t] [UNENFORCED ...]``."""
    i = 1
    kind = "key"
    if is_kw(toks[i], "UNIQUE"):
        kind, i = "unique", i + 1
    elif is_kw(toks[i], "FULLTEXT", "SPATIAL"):
        kind, i = "fulltext", i + 1
    target = index_target(toks, i)
    if target is None:
        return None
    on, (db, table, j) = target
    key = KeyDef(kind, ident_value(toks[i + 1]) if i + 1 < on and is_ident(toks[i + 1]) else None)
    if any(is_kw(t, "HASH") for t in toks[i:]):
        key.using_hash = True
    if j < len(toks) and toks[j].text == "(":
        key.columns, key.desc, _ = _index_columns(toks, j)
    drop: list[tuple[int, int]] = []
    for n in range(j, len(toks)):
        if is_kw(toks[n], "UNENFORCED"):
            key.unenforced = True
            end = n + 2 if n + 1 < len(toks) and is_kw(toks[n + 1], "RELY", "NORELY") else n + 1
            drop.append((n, end))
    sql = _render(text, toks, 0, len(toks), drop)
    if key.unenforced and kind == "unique":
        sql = _render(text, toks, 2, len(toks), drop)
        sql = "CREATE " + sql
    key.mariadb_text = sql
    return CreateIndex(db, table, key, sql)


@dataclass
class AlterSpec:
    action: str  # add_column modify change drop_column add_key drop_index drop_primary rename_index
    #              rename_column rename_table comment auto_increment alter_default drop_foreign
    #              drop_constraint other
    column: ColumnDef | None = None
    old_name: str | None = None  # CHANGE old / RENAME COLUMN old / DROP COLUMN / ALTER COLUMN
    new_name: str | None = None
    key: KeyDef | None = None
    index_name: str | None = None
    new_table: tuple[str | None, str] | None = None
    default_expression: bool = False
    near: str = ""
    mariadb_text: str | None = ""  # None: dropped for MariaDB


@dataclass
class AlterTable:
    db: str | None
    table: str
    specs: list[AlterSpec]
    head: str  # "ALTER TABLE `t`" as written

    def unpad_computed(self, table_char_columns: set[str]) -> None:
        """RTRIM() the CHAR columns in the specs' persisted computed expressions (module docstring);
        ``table_char_columns``: the table's current CHAR columns (lower-case names)."""
        char_columns = set(table_char_columns)
        for spec in self.specs:
            if spec.column is not None and spec.column.is_char:
                char_columns.add(spec.column.name.lower())
        for spec in self.specs:
            col = spec.column
            if col is None or col.computed is None or spec.mariadb_text is None:
                continue
            before = col.mariadb_text
            if col.unpad_computed(char_columns) and spec.mariadb_text.endswith(before):
                spec.mariadb_text = (
                    spec.mariadb_text[: len(spec.mariadb_text) - len(before)] + col.mariadb_text
                )

    def mariadb_sql(self) -> str | None:
        kept = [s.mariadb_text for s in self.specs if s.mariadb_text is not None]
        if not kept:
            return None
        return self.head + " " + ", ".join(kept)


def parse_alter_table(text: str, toks: list[Token]) -> AlterTable | None:
    i = 1
    while i < len(toks) and is_kw(toks[i], "ONLINE", "OFFLINE", "IGNORE"):
        i += 1
    if i >= len(toks) or not is_kw(toks[i], "TABLE"):
        return None
    i += 1
    if i + 1 < len(toks) and is_kw(toks[i], "IF") and is_kw(toks[i + 1], "EXISTS"):
        i += 2
    qn = parse_qualified_name(toks, i)
    if qn is None:
        return None
    db, table, i = qn
    alter = AlterTable(db, table, [], text[toks[0].start : toks[i - 1].end])
    for a, b in split_top_level_commas(toks, i, len(toks)):
        alter.specs.append(_parse_alter_spec(text, toks, a, b))
    return alter


def _skip_if(toks: list[Token], i: int, b: int) -> int:
    if i + 1 < b and is_kw(toks[i], "IF") and is_kw(toks[i + 1], "EXISTS"):
        return i + 2
    if i + 2 < b and is_kw(toks[i], "IF") and is_kw(toks[i + 1], "NOT") and is_kw(toks[i + 2], "EXISTS"):
        return i + 3
    return i


def _parse_alter_spec(text: str, toks: list[Token], a: int, b: int) -> AlterSpec:
    raw = text[toks[a].start : toks[b - 1].end]
    spec = AlterSpec("other", near=raw, mariadb_text=raw)
    u = toks[a].upper
    u2 = toks[a + 1].upper if a + 1 < b else ""
    if u == "ADD":
        i = a + 1
        if is_kw(toks[i], "COLUMN"):
            i += 1
        i = _skip_if(toks, i, b)
        key = parse_key_def(text, toks, i, b)
        if key is not None:
            spec.action, spec.key = "add_key", key
            spec.index_name = key.name
            spec.mariadb_text = None if key.mariadb_text is None else "ADD " + key.mariadb_text
            if spec.mariadb_text is not None:
                spec.mariadb_text += "".join(f", ADD {c}" for c in hidden_index_clauses(key))
            return spec
        if toks[i].text == "(":  # ADD (col, col)
            spec.action = "other"
            return spec
        col = parse_column_def(text, toks, i, b)
        spec.action, spec.column = "add_column", col
        spec.mariadb_text = text[toks[a].start : toks[i].start] + col.mariadb_text
        return spec
    if u == "MODIFY" or u == "CHANGE":
        i = a + 1
        if is_kw(toks[i], "COLUMN"):
            i += 1
        i = _skip_if(toks, i, b)
        if u == "CHANGE":
            spec.old_name = ident_value(toks[i])
            i += 1
            if i + 1 == b and is_ident(toks[i]):
                # SingleStore's rename: `CHANGE old new` without a column definition ([doc] alter-table
                # grammar "CHANGE <old_column_name> <new_column_name>"). MariaDB needs the definition
                # with CHANGE, so it gets `RENAME COLUMN old TO new` (MariaDB >= 10.5.2), which keeps
                # the type, attributes and indexes of the column: the same effect.
                spec.action, spec.new_name = "change", ident_value(toks[i])
                old_text = text[toks[i - 1].start : toks[i - 1].end]
                new_text = text[toks[i].start : toks[i].end]
                spec.mariadb_text = f"RENAME COLUMN {old_text} TO {new_text}"
                return spec
        col = parse_column_def(text, toks, i, b)
        spec.action, spec.column = ("modify" if u == "MODIFY" else "change"), col
        spec.old_name = spec.old_name or col.name
        spec.new_name = col.name
        spec.mariadb_text = text[toks[a].start : toks[i].start] + col.mariadb_text
        return spec
    if u == "DROP":
        i = a + 1
        if is_kw(toks[i], "PRIMARY"):
            spec.action = "drop_primary"
        elif is_kw(toks[i], "INDEX", "KEY"):
            j = _skip_if(toks, i + 1, b)
            spec.action, spec.index_name = "drop_index", ident_value(toks[j])
        elif is_kw(toks[i], "FOREIGN"):
            j = _skip_if(toks, i + 2, b)
            spec.action, spec.index_name = "drop_foreign", ident_value(toks[j])
        elif is_kw(toks[i], "CONSTRAINT", "CHECK"):
            j = _skip_if(toks, i + 1, b)
            spec.action, spec.index_name = "drop_constraint", ident_value(toks[j])
        else:
            if is_kw(toks[i], "COLUMN"):
                i += 1
            i = _skip_if(toks, i, b)
            spec.action, spec.old_name = "drop_column", ident_value(toks[i])
        return spec
    if u == "RENAME":
        if u2 in ("INDEX", "KEY"):
            spec.action = "rename_index"
            spec.near = text[toks[a + 1].start :]  # MySQL quotes the statement from the failing token
        elif u2 == "COLUMN":
            spec.action = "rename_column"
            spec.old_name = ident_value(toks[a + 2])
            spec.new_name = ident_value(toks[a + 4]) if a + 4 < b else None
        else:
            i = a + 1
            if is_kw(toks[i], "TO", "AS"):
                i += 1
            qn = parse_qualified_name(toks, i)
            if qn is not None:
                spec.action, spec.new_table = "rename_table", (qn[0], qn[1])
        return spec
    if u == "ALTER":
        i = a + 1
        if is_kw(toks[i], "COLUMN"):
            i += 1
        spec.action, spec.old_name = "alter_default", ident_value(toks[i])
        if i + 2 < b and is_kw(toks[i + 1], "SET") and is_kw(toks[i + 2], "DEFAULT"):
            nxt = toks[i + 3] if i + 3 < b else None
            if nxt is not None and (
                nxt.text == "("
                or (
                    nxt.kind == "word"
                    and i + 4 < b
                    and toks[i + 4].text == "("
                    and nxt.upper not in _ALLOWED_DEFAULT_FUNCS
                )
            ):
                spec.default_expression = True
        return spec
    if u == "COMMENT":
        spec.action = "comment"
        return spec
    if u == "AUTO_INCREMENT":
        spec.action = "auto_increment"
        return spec
    if u in ("DEFAULT", "CHARACTER", "CHARSET", "COLLATE", "ENGINE", "CONVERT", "ORDER", "FORCE"):
        spec.action = "option"
    return spec


_OPTION_COMMENT = re.compile(r"COMMENT='(?:[^'\\]|\\.|'')*'")


def singlestore_show_create(mariadb_text: str, info: TableInfo) -> str:
    """SHOW CREATE TABLE in SingleStore's shape ([doc] show-create-table, semantics s4.2), built from
    MariaDB's answer plus the catalog: ``CREATE [ROWSTORE] [REFERENCE] TABLE``, UNENFORCED unique keys,
    ``SHARD KEY``, ``SORT KEY`` and SingleStore's table options. The ``__SHARDKEY`` / ``__UNORDERED``
    key names are [unverified]."""
    # MariaDB's 3-byte set is ``utf8mb3``; SingleStore spells it ``utf8`` (utf8_general_ci, utf8_bin)
    lines = mariadb_text.replace("utf8mb3", "utf8").split("\n")
    prefix = ("ROWSTORE " if info.storage == "ROWSTORE" else "") + ("REFERENCE " if info.reference else "")
    lines[0] = re.sub(
        r"^CREATE (TEMPORARY )?TABLE", lambda m: f"CREATE {m.group(1) or ''}{prefix}TABLE", lines[0]
    )
    body = lines[1:-1]
    closing = lines[-1]
    out: list[str] = []
    unenforced = {n.lower() for n in info.unenforced_keys}
    vectors = {c.lower(): v for c, v in info.vectors.items()}
    for line in body:
        if line.startswith(f"  FULLTEXT KEY `{HIDDEN_FULLTEXT_PREFIX}"):
            continue  # the gateway's own single-column companions (gateway/fulltext.py)
        if (
            line.startswith("  FULLTEXT KEY ")
            and info.fulltext is not None
            and info.fulltext.get("version") == 2
        ):
            line = "  FULLTEXT USING VERSION 2 KEY " + line[len("  FULLTEXT KEY ") :]
        stripped = _singlestore_column_line(line.rstrip(","), vectors)
        m = re.match(r"^  KEY `((?:[^`]|``)*)` (\(.*\))(.*)$", stripped)
        if m and m.group(1).replace("``", "`").lower() in unenforced:
            stripped = f"  UNIQUE KEY `{m.group(1)}` {m.group(2)}{m.group(3)} UNENFORCED RELY"
        out.append(stripped)

    def cols(names: list[str]) -> str:
        return "(" + ",".join(quote_ident(c) for c in names) + ")"

    for name, vkey in info.vector_indexes.items():
        options = vkey.get("options")
        tail = "" if options is None else " INDEX_OPTIONS " + sql_literal(options)
        out.append(f"  VECTOR INDEX {quote_ident(name)} ({quote_ident(vkey['column'] or '')}){tail}")
    if info.columnstore:
        if info.sort_key:
            out.append(f"  SORT KEY {cols(info.sort_key)}")
        else:
            out.append("  SORT KEY `__UNORDERED` ()")
    if info.sharded:
        shard = info.effective_shard_key
        if shard:
            out.append(f"  SHARD KEY {quote_ident(info.shard_key_name or '__SHARDKEY')} {cols(shard)}")
        else:
            out.append("  SHARD KEY ()")
    comment = _OPTION_COMMENT.search(closing)
    storage_opts = "AUTOSTATS_CARDINALITY_MODE=" + ("INCREMENTAL" if info.columnstore else "PERIODIC")
    options = (
        f"{storage_opts} AUTOSTATS_HISTOGRAM_MODE=CREATE SQL_MODE='STRICT_ALL_TABLES' COMPRESSION=SPARSE"
    )
    if comment:
        options += " " + comment.group(0)
    return "\n".join([lines[0], ",\n".join(out), ") " + options])


_JSON_COLUMN = re.compile(
    r"^(  `(?:[^`]|``)*`) longtext(?: CHARACTER SET \w+)?(?: COLLATE \w+)?(.*?) "
    r"CHECK \(json_valid\(`(?:[^`]|``)*`\)\)(.*)$"
)
_COMPUTED_COLUMN = re.compile(
    r"^(  `(?:[^`]|``)*`) (.+?) GENERATED ALWAYS AS \((.*)\) (?:STORED|VIRTUAL)(.*)$"
)


_VECTOR_COLUMN = re.compile(
    r"^(  `((?:[^`]|``)*)`) (?:longblob(.*)|longtext(?: CHARACTER SET \w+)?(?: COLLATE \w+)?(.*?) CHECK \(.*\))$"
)


def _singlestore_column_line(line: str, vectors: dict[str, list[int | str]] | None = None) -> str:
    """One column line of MariaDB's SHOW CREATE TABLE as SingleStore prints it: a JSON column is ``JSON``
    (MariaDB stores it as LONGTEXT with a json_valid CHECK), a persisted computed column is
    ``AS expr PERSISTED type`` ([doc] "Persistent Computed Columns"; SHOW CREATE's exact spacing
    [assumption]). A VECTOR column (``vectors``: lower-case name -> [n, T]) is ``vector(n, T)``
    ([assumption]: SingleStore's SHOW CREATE spelling of the type is not documented)."""
    if vectors:
        m = _VECTOR_COLUMN.match(line)
        if m and m.group(2).replace("``", "`").lower() in vectors:
            n, element = vectors[m.group(2).replace("``", "`").lower()]
            return f"{m.group(1)} vector({n}, {element}){m.group(3) or m.group(4) or ''}"
    m = _JSON_COLUMN.match(line)
    if m:
        return f"{m.group(1)} JSON{m.group(2)}{m.group(3)}"
    m = _COMPUTED_COLUMN.match(line)
    if m:
        return f"{m.group(1)} AS {m.group(3)} PERSISTED {m.group(2)}{m.group(4)}"
    return line
