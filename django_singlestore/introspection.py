"""Introspection: what a SingleStore database says about its tables, read back into Django's terms.

Sources, per question:

* **tables** — `information_schema.TABLES`: name, kind (table / view), comment and `STORAGE_TYPE`
  (`'COLUMNSTORE'` or `'INMEMORY_ROWSTORE'`; singlestore-semantics.md §4.1).
* **columns** — `information_schema.COLUMNS` (types, lengths, precision, AUTO_INCREMENT, defaults,
  collations, comments), the driver's `cursor.description` (type codes, as Django's MySQL backend
  does) and the column's definition in SHOW CREATE TABLE (`JSON`, `col AS expr PERSISTED type`).
* **keys** — SHOW CREATE TABLE, parsed by `parse_create_table()`. It is the one place where
  SingleStore states a table's storage (`CREATE [ROWSTORE] [REFERENCE] TABLE`), shard key, sort key,
  hash keys and UNENFORCED unique keys; `information_schema` has none of those and `SHOW INDEX`
  lists the shard key as an index named `__SHARDKEY` [doc: show-index, "Key_name for shard keys on
  columnstore tables is listed as __SHARDKEY ... Index_type ... METADATA_ONLY"].

The SHOW CREATE TABLE shape, from SingleStore's docs [doc: …/show-commands/show-create-table, cloud and
9.1; singlestore-semantics.md §4.2] and public output of real servers [obs]:

    CREATE [ROWSTORE] [REFERENCE] TABLE `t` (
      `id` bigint(20) NOT NULL AUTO_INCREMENT,
      `doc` JSON COLLATE utf8mb4_bin,
      `n` as `a` + `b` PERSISTED int(11),
      PRIMARY KEY (`id`),                    -- or UNIQUE KEY `PRIMARY` (`id`) USING HASH (columnstore)
      UNIQUE KEY `u` (`email`) UNENFORCED RELY,
      KEY `k` (`c`) USING HASH,
      KEY `b` (`b`) USING CLUSTERED COLUMNSTORE   -- the sort key, before SORT KEY existed
      SHARD KEY `__SHARDKEY` (`id`),         -- keyless: `, SHARD KEY ()` on its own line
      SORT KEY `__UNORDERED` ()              -- columnstore without a sort key; SORT KEY `n` (cols)
    ) AUTOSTATS_CARDINALITY_MODE=INCREMENTAL ... SQL_MODE='STRICT_ALL_TABLES' [COMMENT='...']

The parser reads the body as comma-separated items (quotes, backticks and parentheses respected), so
the line layout does not matter. Reference tables print no SHARD KEY; a sharded table that prints none
follows SingleStore's rule: the primary key, or keyless sharding without one [doc:
understanding-keys-and-indexes-in-singlestore].

`get_constraints()` reports the primary key, unique keys (UNENFORCED ones carry `"enforced": False`)
and secondary keys (`"type"`: `"idx"` (Django's `Index.suffix`), `"hash"`, `"fulltext"`, ...). The
shard key and the sort key are not Django constraints: they are left out, so Django's schema editor
never tries to drop or rename them; `get_table_layout()` reports them, as a `layout.TableLayout`
comparable with what `layout.resolve_layout(model)` asks for (`layout.layout_signature`).

A table whose AUTO_INCREMENT column has no primary key but a plain key of its own is the automatic
layout's "id demoted" shape (django_singlestore.layout): `get_primary_key_columns()` reports that
column, as Django's model of the table has it as its primary key; `get_constraints()` still shows
the plain key as it is.
"""

from __future__ import annotations

import re
from collections import namedtuple
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.backends.mysql.introspection import DatabaseIntrospection as MySQLDatabaseIntrospection
from django.db.backends.mysql.introspection import FieldInfo as MySQLFieldInfo
from django.db.backends.mysql.introspection import TableInfo as MySQLTableInfo
from django.db.models import Index
from MySQLdb.constants import FIELD_TYPE

from django_singlestore.layout import TableLayout, UniqueKey

__all__ = [
    "ColumnDefinition",
    "CreateTable",
    "DatabaseIntrospection",
    "FieldInfo",
    "KeyDefinition",
    "TableInfo",
    "parse_create_table",
]

#: MySQL's FieldInfo plus `generated` (the expression of a PERSISTED computed column, or None) and
#: `declared_type` (the column's type as SHOW CREATE TABLE spells it, e.g. "bigint(20)", "JSON").
FieldInfo = namedtuple("FieldInfo", [*MySQLFieldInfo._fields, "generated", "declared_type"])  # type: ignore[misc]
#: MySQL's TableInfo (name, type, comment) plus `storage_type`: information_schema.TABLES.STORAGE_TYPE,
#: "COLUMNSTORE" or "INMEMORY_ROWSTORE" (None for views).
TableInfo = namedtuple("TableInfo", [*MySQLTableInfo._fields, "storage_type"])  # type: ignore[misc]

#: Key names SingleStore prints for keys nobody named.
SHARD_KEY_NAME = "__SHARDKEY"
UNORDERED_SORT_KEY_NAME = "__UNORDERED"


# --- SHOW CREATE TABLE parsing ------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnDefinition:
    """One column of SHOW CREATE TABLE: its name, its declared type and the rest of its definition."""

    name: str
    declared_type: str
    definition: str
    auto_increment: bool = False
    #: The expression of a computed column (`as expr PERSISTED type`, or MySQL's spelling
    #: `type GENERATED ALWAYS AS (expr) STORED`), else None.
    generated: str | None = None

    @property
    def is_json(self) -> bool:
        """SingleStore spells a JSON column `JSON`; MySQL-family servers that alias JSON to LONGTEXT
        (MariaDB, hence the test bed) add `CHECK (json_valid(col))`, which Django's MySQL backend
        also reads as a JSONField."""
        if self.declared_type.upper() == "JSON":
            return True
        return bool(re.search(r"\bCHECK\s*\(\s*json_valid\s*\(", self.definition, re.IGNORECASE))


@dataclass(frozen=True)
class KeyDefinition:
    """One key of SHOW CREATE TABLE.

    kind: "primary", "unique", "key", "shard", "sort", "fulltext", "vector" or "other" (COLUMN GROUP,
    FOREIGN KEY, anything this parser does not know; kept so nothing is silently dropped).
    using: "HASH", "BTREE", "CLUSTERED COLUMNSTORE" or None when the key names no index type.
    """

    kind: str
    name: str | None
    columns: tuple[str, ...]
    orders: tuple[str, ...] = ()
    using: str | None = None
    unenforced: bool = False
    text: str = ""

    def index_type(self, columnstore: bool = False) -> str:
        """Django's "type" of the index: Index.suffix ("idx") for an ordinary index, "hash" for a rowstore
        `USING HASH` key, "fulltext", "vector". On a columnstore table every secondary key is a hash key
        ("Only hash indexes can be created on columnstore tables" [doc: create-index]; the schema editor
        writes USING HASH for every Index there), so it is the table's ordinary index: Index.suffix, as
        Django's schema editor expects when it looks up a field's index to drop (type_=Index.suffix)."""
        if self.kind in ("fulltext", "vector"):
            return self.kind
        if self.using in (None, "BTREE") or (columnstore and self.using == "HASH"):
            return Index.suffix
        return self.using.lower()


@dataclass(frozen=True)
class CreateTable:
    """SHOW CREATE TABLE, parsed."""

    name: str
    rowstore: bool
    reference: bool
    temporary: bool
    columns: tuple[ColumnDefinition, ...]
    keys: tuple[KeyDefinition, ...]
    options: str = ""
    comment: str | None = None
    text: str = field(default="", repr=False)

    @property
    def storage(self) -> str:
        """One of layout.STORAGE_TYPES."""
        if self.reference:
            return "ROWSTORE REFERENCE" if self.rowstore else "REFERENCE"
        return "ROWSTORE" if self.rowstore else "COLUMNSTORE"

    def column(self, name: str) -> ColumnDefinition | None:
        for column in self.columns:
            if column.name == name:
                return column
        return None

    def keys_of(self, *kinds: str) -> list[KeyDefinition]:
        return [k for k in self.keys if k.kind in kinds]

    @property
    def primary_key(self) -> KeyDefinition | None:
        keys = self.keys_of("primary")
        return keys[0] if keys else None

    @property
    def auto_increment_column(self) -> str | None:
        for column in self.columns:
            if column.auto_increment:
                return column.name
        return None

    @property
    def shard_key(self) -> tuple[str, ...] | None:
        """The shard-key columns; () for keyless sharding; None for a reference table."""
        if self.reference:
            return None
        declared = self.keys_of("shard")
        if declared:
            return declared[0].columns
        # Not printed: SingleStore's rule (the primary key shards the table, else keyless).
        primary = self.primary_key
        return primary.columns if primary else ()

    @property
    def sort_key(self) -> KeyDefinition | None:
        """The columnstore sort key (SORT KEY, or the older `KEY ... USING CLUSTERED COLUMNSTORE`)
        when it has columns; None for `SORT KEY __UNORDERED ()` and rowstore tables."""
        for key in self.keys:
            if key.kind == "sort" and key.columns:
                return key
        return None

    @property
    def demoted_key(self) -> str | None:
        """The AUTO_INCREMENT column kept unique by construction with a plain key of its own and no
        primary key: the automatic layout's "id demoted" shape (django_singlestore.layout)."""
        column = self.auto_increment_column
        if column is None or self.primary_key is not None:
            return None
        for key in self.keys_of("key"):
            if key.columns == (column,):
                return column
        return None


def _tokens(text: str) -> Iterator[tuple[str, str]]:
    """(kind, text) tokens: "ident" (backticks, unescaped), "string" (raw, with quotes), "(", ")", ",",
    "word", "other". Whitespace separates tokens and is dropped."""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c == "`":
            j = i + 1
            parts = []
            while j < n:
                if text[j] == "`":
                    if j + 1 < n and text[j + 1] == "`":
                        parts.append("`")
                        j += 2
                        continue
                    break
                parts.append(text[j])
                j += 1
            yield "ident", "".join(parts)
            i = j + 1
        elif c in "'\"":
            j = i + 1
            while j < n:
                if text[j] == "\\":
                    j += 2
                    continue
                if text[j] == c:
                    if j + 1 < n and text[j + 1] == c:
                        j += 2
                        continue
                    break
                j += 1
            yield "string", text[i : j + 1]
            i = j + 1
        elif c in "(),":
            yield c, c
            i += 1
        elif c.isalnum() or c in "_$":
            j = i
            while j < n and (text[j].isalnum() or text[j] in "_$"):
                j += 1
            yield "word", text[i:j]
            i = j
        else:
            yield "other", c
            i += 1


def _after_quoted(text: str, i: int) -> int:
    """Index just past the quoted string or identifier opening at `i` (doubled quotes, and backslash
    escapes outside backticks, stay inside)."""
    c, j, n = text[i], i + 1, len(text)
    while j < n:
        if c != "`" and text[j] == "\\":
            j += 2
            continue
        if text[j] == c:
            if j + 1 < n and text[j + 1] == c:
                j += 2
                continue
            break
        j += 1
    return j + 1


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside quotes, backticks and parentheses."""
    items: list[str] = []
    depth = 0
    start = 0
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "`'\"":
            i = _after_quoted(text, i)
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
        i += 1
    items.append(text[start:])
    return items


def _matching_paren(text: str, open_at: int) -> int:
    """Index of the parenthesis closing the one at `open_at` (quotes and backticks respected)."""
    depth = 0
    i, n = open_at, len(text)
    while i < n:
        c = text[i]
        if c in "`'\"":
            i = _after_quoted(text, i)
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError("unbalanced parentheses in SHOW CREATE TABLE")


def _key_columns(inner: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Columns and orders of a key's column list: `a`,`b`(10) DESC."""
    columns: list[str] = []
    orders: list[str] = []
    for part in _split_top_level(inner):
        toks = list(_tokens(part))
        if not toks:
            continue
        name = toks[0][1]
        words = [t[1].upper() for t in toks[1:] if t[0] == "word"]
        columns.append(name)
        orders.append("DESC" if "DESC" in words else "ASC")
    return tuple(columns), tuple(orders)


_KEY_WORDS = ("PRIMARY", "UNIQUE", "KEY", "INDEX", "SHARD", "SORT", "FULLTEXT", "VECTOR", "CONSTRAINT")


def _parse_key(item: str) -> KeyDefinition:
    text = item.strip()
    paren = text.find("(")
    head_text = text if paren < 0 else text[:paren]
    tail_text = "" if paren < 0 else text[_matching_paren(text, paren) + 1 :]
    inner = "" if paren < 0 else text[paren + 1 : _matching_paren(text, paren)]
    head = list(_tokens(head_text))
    words = [t[1].upper() for t in head if t[0] == "word"]
    # CONSTRAINT [symbol] PRIMARY KEY / UNIQUE / SHARD KEY ...
    if words and words[0] == "CONSTRAINT":
        head = head[1:]
        if head and (head[0][0] == "ident" or head[0][1].upper() not in _KEY_WORDS):
            head = head[1:]  # the constraint's symbol
        words = [t[1].upper() for t in head if t[0] == "word"]
    names = [t[1] for t in head if t[0] == "ident"]
    name = names[0] if names else None
    tail_words = [t[1].upper() for t in _tokens(tail_text) if t[0] == "word"]
    using = None
    for where in (words, tail_words):
        if "USING" in where:
            after = where[where.index("USING") + 1 :]
            if after[:2] == ["CLUSTERED", "COLUMNSTORE"]:
                using = "CLUSTERED COLUMNSTORE"
            elif after and after[0] in ("HASH", "BTREE"):
                using = after[0]
    columns, orders = _key_columns(inner)
    unenforced = "UNENFORCED" in tail_words
    first = words[0] if words else ""
    if first == "PRIMARY":
        kind = "primary"
    elif first == "UNIQUE":
        # Columnstore primary keys print as UNIQUE KEY `PRIMARY` (...) USING HASH [obs].
        kind = "primary" if name == "PRIMARY" else "unique"
    elif first == "SHARD":
        kind = "shard"
    elif first == "SORT":
        kind = "sort"
    elif first in ("KEY", "INDEX"):
        kind = "sort" if using == "CLUSTERED COLUMNSTORE" else "key"
    elif first == "FULLTEXT":
        kind = "fulltext"
    elif first == "VECTOR":
        kind = "vector"
    else:
        kind = "other"
    if kind == "sort" and name == UNORDERED_SORT_KEY_NAME:
        columns, orders = (), ()
    return KeyDefinition(kind, name, columns, orders, using, unenforced, text)


def _parse_column(item: str) -> ColumnDefinition:
    text = item.strip()
    toks = list(_tokens(text))
    name = toks[0][1]
    # The definition: everything after the closing backtick of the name.
    end = 1
    while True:
        end = text.index("`", end)
        if end + 1 < len(text) and text[end + 1] == "`":
            end += 2
            continue
        break
    definition = text[end + 1 :].strip()
    upper_words = [t[1].upper() for t in _tokens(definition) if t[0] == "word"]
    generated: str | None = None
    declared = ""
    m = re.match(r"(?is)^as\s+(.*?)\s+PERSISTED\s+(.*)$", definition)
    if m:
        # SingleStore: `col` as expr PERSISTED type [...]
        generated = m.group(1).strip()
        declared = _type_prefix(m.group(2))
    else:
        declared = _type_prefix(definition)
        g = re.search(r"(?i)\bGENERATED\s+ALWAYS\s+AS\s*\(", definition)
        if g:
            open_at = g.end() - 1
            generated = definition[open_at + 1 : _matching_paren(definition, open_at)].strip()
    return ColumnDefinition(name, declared, definition, "AUTO_INCREMENT" in upper_words, generated)


def _type_prefix(definition: str) -> str:
    m = re.match(r"(?i)^([a-z]+[a-z0-9_]*(?:\s*\([^)]*\))?(?:\s+unsigned)?(?:\s+zerofill)?)", definition)
    return m.group(1) if m else ""


def parse_create_table(text: str) -> CreateTable:
    """Parse the "Create Table" column of SHOW CREATE TABLE (see the module docstring)."""
    m = re.match(r"(?is)^\s*CREATE\s+((?:[A-Z]+\s+)*?)TABLE\s+", text)
    if not m:
        raise ValueError(f"not a CREATE TABLE statement: {text[:60]!r}")
    prefix = m.group(1).upper().split()
    name, open_at = _table_name(text, m.end())
    close_at = _matching_paren(text, open_at)
    body = text[open_at + 1 : close_at]
    options = text[close_at + 1 :].strip()
    columns: list[ColumnDefinition] = []
    keys: list[KeyDefinition] = []
    for item in _split_top_level(body):
        stripped = item.strip()
        if not stripped:
            continue  # e.g. the empty item before "  , SHARD KEY ()"
        if stripped.startswith("`"):
            columns.append(_parse_column(stripped))
        else:
            keys.append(_parse_key(stripped))
    comment = None
    c = re.search(r"(?is)\bCOMMENT\s*=?\s*('(?:[^'\\]|\\.|'')*')", options)
    if c:
        comment = _unquote(c.group(1))
    return CreateTable(
        name=name,
        rowstore="ROWSTORE" in prefix,
        reference="REFERENCE" in prefix,
        temporary="TEMPORARY" in prefix,
        columns=tuple(columns),
        keys=tuple(keys),
        options=options,
        comment=comment,
        text=text,
    )


def _table_name(text: str, at: int) -> tuple[str, int]:
    """The (last part of the) possibly qualified table name starting at `at`, and the position of the
    parenthesis that opens the body."""
    name = ""
    i = at
    while i < len(text):
        c = text[i]
        if c == "`":
            j = i + 1
            parts = []
            while j < len(text):
                if text[j] == "`":
                    if j + 1 < len(text) and text[j + 1] == "`":
                        parts.append("`")
                        j += 2
                        continue
                    break
                parts.append(text[j])
                j += 1
            name, i = "".join(parts), j + 1
        elif c == "(":
            return name, i
        elif c.isspace() or c == ".":
            i += 1
        else:
            j = i
            while j < len(text) and not (text[j].isspace() or text[j] in ".("):
                j += 1
            name, i = text[i:j], j
    raise ValueError("no table body in SHOW CREATE TABLE")


def _unquote(literal: str) -> str:
    body = literal[1:-1]
    escapes = {"0": "\0", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a", "b": "\b"}
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            out.append(escapes.get(body[i + 1], body[i + 1]))
            i += 2
        elif c == "'" and i + 1 < len(body) and body[i + 1] == "'":
            out.append("'")
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


# --- Django's introspection API -------------------------------------------------------------------


class DatabaseIntrospection(MySQLDatabaseIntrospection):
    # Django's MySQL mapping of the driver's type codes (data_types_reverse, get_field_type) applies;
    # get_table_description() turns a JSON column's code into FIELD_TYPE.JSON.

    # Tables ---------------------------------------------------------------------------------------

    def get_table_list(self, cursor) -> list[Any]:
        """Tables and views of the current database, with their comments and storage types."""
        cursor.execute(
            """
            SELECT table_name, table_type, table_comment, storage_type
            FROM information_schema.tables
            WHERE table_schema = DATABASE()
            """
        )
        return [
            TableInfo._make((row[0], {"BASE TABLE": "t", "VIEW": "v"}.get(row[1]), row[2], row[3]))
            for row in cursor.fetchall()
        ]

    def get_create_table(self, cursor, table_name: str) -> CreateTable | None:
        """SHOW CREATE TABLE `table_name`, parsed (parse_create_table); None for a view."""
        cursor.execute(f"SHOW CREATE TABLE {self.connection.ops.quote_name(table_name)}")
        row = cursor.fetchone()
        if (cursor.description and str(cursor.description[1][0]).lower() == "create view") or re.match(
            r"(?is)^\s*CREATE\s+(?:(?!TABLE\b)[A-Z_]+(?:\s*=\s*\S+)?\s+)*VIEW\b", row[1]
        ):
            return None
        return parse_create_table(row[1])

    def get_storage_type(self, cursor, table_name: str) -> str | None:
        """information_schema.TABLES.STORAGE_TYPE: "COLUMNSTORE", "INMEMORY_ROWSTORE", or None when
        the table does not exist."""
        cursor.execute(
            """
            SELECT storage_type FROM information_schema.tables
            WHERE table_schema = DATABASE() AND table_name = %s
            """,
            [table_name],
        )
        row = cursor.fetchone()
        return row[0] if row else None

    def get_storage_engine(self, cursor, table_name: str) -> str:
        # Django's MySQL code asks for InnoDB/MyISAM; SingleStore's answer is the storage type.
        return self.get_storage_type(cursor, table_name) or "COLUMNSTORE"

    def get_table_layout(self, cursor, table_name: str) -> TableLayout:
        """The table's storage and keys as a `layout.TableLayout` (rule "introspected", source
        "database"), comparable with `resolve_layout(model)` through `layout.layout_signature`.

        storage: one of layout.STORAGE_TYPES; shard_key: None on reference tables, () when keyless;
        primary_key: None without one (and for the "id demoted" shape, whose column is demoted_key);
        unique_keys: every unique key but the primary key (UNENFORCED ones with enforced=False);
        sort_key: the columnstore sort key's columns, None without one (`SORT KEY __UNORDERED ()`).
        """
        table = self.get_create_table(cursor, table_name)
        if table is None:
            raise ValueError(f"{table_name!r} is a view: it has no storage or keys.")
        storage_type = self.get_storage_type(cursor, table_name)
        return self.layout_of(table, storage_type)

    @staticmethod
    def layout_of(table: CreateTable, storage_type: str | None = None) -> TableLayout:
        """`table`'s layout; `storage_type` (information_schema.TABLES.STORAGE_TYPE) decides rowstore
        or columnstore when given, the REFERENCE keyword of SHOW CREATE TABLE decides the rest."""
        storage = table.storage
        if storage_type:
            rowstore = storage_type.upper() != "COLUMNSTORE"
            storage = ("ROWSTORE " if rowstore else "") + ("REFERENCE" if table.reference else "")
            storage = storage.strip() or "COLUMNSTORE"
        primary = table.primary_key
        sort = table.sort_key
        uniques = tuple(
            UniqueKey(key.name, key.columns, enforced=not key.unenforced) for key in table.keys_of("unique")
        )
        return TableLayout(
            storage=storage,
            shard_key=table.shard_key,
            primary_key=primary.columns if primary else None,
            unique_keys=uniques,
            sort_key=sort.columns if sort else None,
            demoted_key=table.demoted_key,
            rule="introspected",
            source="database",
            reason=f"SHOW CREATE TABLE {table.name}",
        )

    # Columns --------------------------------------------------------------------------------------

    def get_table_description(self, cursor, table_name: str) -> list[Any]:
        """Columns in table order, as Django's MySQL backend describes them, plus `generated` and
        `declared_type` (from SHOW CREATE TABLE)."""
        create = self.get_create_table(cursor, table_name)
        cursor.execute(
            """
            SELECT table_collation FROM information_schema.tables
            WHERE table_schema = DATABASE() AND table_name = %s
            """,
            [table_name],
        )
        row = cursor.fetchone()
        default_collation = row[0] if row else ""
        cursor.execute(
            """
            SELECT column_name, data_type, character_maximum_length, numeric_precision, numeric_scale,
                   extra, column_default, collation_name, column_type, column_comment, is_nullable
            FROM information_schema.columns
            WHERE table_name = %s AND table_schema = DATABASE()
            ORDER BY ordinal_position
            """,
            [table_name],
        )
        info = {r[0]: r for r in cursor.fetchall()}
        cursor.execute(f"SELECT * FROM {self.connection.ops.quote_name(table_name)} LIMIT 1")
        description = {line[0]: line for line in cursor.description}

        def to_int(value: Any) -> int | None:
            return int(value) if value is not None else None

        fields = []
        for name, (
            _,
            data_type,
            max_len,
            num_prec,
            num_scale,
            extra,
            default,
            collation,
            column_type,
            comment,
            nullable,
        ) in info.items():
            line = description.get(name) or (name, None, None, None, None, None, nullable == "YES")
            column = create.column(name) if create is not None else None
            is_json = column is not None and column.is_json
            type_code = FIELD_TYPE.JSON if is_json else line[1]
            fields.append(
                FieldInfo._make(
                    (
                        name,
                        type_code,
                        to_int(max_len) or line[2],
                        to_int(max_len) or line[3],
                        to_int(num_prec) or line[4],
                        to_int(num_scale) or line[5],
                        nullable == "YES",
                        default,
                        None if collation == default_collation or is_json else collation,
                        extra or "",
                        bool(column_type and column_type.lower().endswith(" unsigned")),
                        is_json,
                        comment,
                        "json" if is_json else data_type,
                        column.generated if column is not None else None,
                        column.declared_type if column is not None else column_type,
                    )
                )
            )
        return fields

    def get_sequences(self, cursor, table_name: str, table_fields=()) -> list[dict[str, str]]:
        for info in self.get_table_description(cursor, table_name):
            if "auto_increment" in info.extra.lower():
                return [{"table": table_name, "column": info.name}]
        return []

    def get_relations(self, cursor, table_name: str) -> dict[str, Any]:
        # SingleStore has no foreign keys (the backend never creates one).
        return {}

    # Keys -----------------------------------------------------------------------------------------

    def get_primary_key_columns(self, cursor, table_name: str) -> list[str] | None:
        """The primary key's columns; for the "id demoted" shape, the AUTO_INCREMENT column (Django's
        model of such a table has it as its primary key)."""
        table = self.get_create_table(cursor, table_name)
        if table is None:
            return None
        if table.primary_key is not None:
            return list(table.primary_key.columns)
        if table.demoted_key is not None:
            return [table.demoted_key]
        return None

    def get_constraints(self, cursor, table_name: str) -> dict[str, dict[str, Any]]:
        """Primary key, unique keys and secondary keys, from SHOW CREATE TABLE (shard and sort keys are
        left out: see the module docstring). Every entry has Django's keys "columns", "primary_key",
        "unique", "index", "check", "foreign_key", "type" and "orders" (always ASC: SingleStore keys
        have no order), plus "enforced" (False for UNENFORCED unique keys) and "using" (the index type SHOW
        CREATE TABLE names: "HASH", "BTREE", or None)."""
        table = self.get_create_table(cursor, table_name)
        constraints: dict[str, dict[str, Any]] = {}
        if table is None:
            return constraints  # a view
        for key in table.keys:
            if key.kind not in ("primary", "unique", "key", "fulltext", "vector"):
                continue
            name = "PRIMARY" if key.kind == "primary" else (key.name or key.columns[0])
            constraints[name] = {
                "columns": list(key.columns),
                "primary_key": key.kind == "primary",
                "unique": key.kind in ("primary", "unique"),
                "index": True,
                "check": False,
                "foreign_key": None,
                "type": key.index_type(columnstore=not table.rowstore),
                "orders": ["ASC"] * len(key.columns),
                "enforced": not key.unenforced,
                "using": key.using,
            }
        return constraints
