"""SHOW CREATE TABLE, parsed: the one place SingleStore states a table's storage, shard key, sort key,
hash keys and UNENFORCED unique keys (introspection.py turns the result into Django's answers).

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
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db.models import Index

from django_singlestore.storage import Storage

__all__ = ["ColumnDefinition", "CreateTable", "KeyDefinition", "parse_create_table"]

#: Key names SingleStore prints for keys nobody named.
SHARD_KEY_NAME = "__SHARDKEY"
UNORDERED_SORT_KEY_NAME = "__UNORDERED"


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
    def vector(self) -> tuple[int, str] | None:
        """``vector(n, T)`` -> (n, T); None for other types."""
        m = re.match(r"(?i)^vector\s*\(\s*(\d+)\s*(?:,\s*(\w+)\s*)?\)", self.declared_type)
        return (int(m.group(1)), (m.group(2) or "F32").upper()) if m else None

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
    #: FULLTEXT only: `USING VERSION n` (SHOW CREATE TABLE prints `FULLTEXT USING VERSION 2 KEY ...`),
    #: 1 when the key names none (the legacy index).
    version: int | None = None

    @property
    def index_options(self) -> str | None:
        """A VECTOR key's ``INDEX_OPTIONS '<json>'`` text, unquoted (None when absent)."""
        m = re.search(r"(?is)\bINDEX_OPTIONS\s*=?\s*('(?:[^'\\]|\\.|'')*')", self.text)
        return _unquote(m.group(1)) if m else None

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
    def storage(self) -> Storage:
        return Storage.of(rowstore=self.rowstore, reference=self.reference)

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
            j = _after_quoted(text, i)
            yield "ident", text[i + 1 : j - 1].replace("``", "`")
            i = j
        elif c in "'\"":
            j = _after_quoted(text, i)
            yield "string", text[i:j]
            i = j
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


def _unquoted(text: str, start: int = 0) -> Iterator[tuple[int, str, int]]:
    """(index, character, parenthesis depth after it) for each character of `text` from `start` that
    is outside quotes and backticks."""
    depth = 0
    i, n = start, len(text)
    while i < n:
        c = text[i]
        if c in "`'\"":
            i = _after_quoted(text, i)
            continue
        depth += (c == "(") - (c == ")")
        yield i, c, depth
        i += 1


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside quotes, backticks and parentheses."""
    items: list[str] = []
    start = 0
    for i, c, depth in _unquoted(text):
        if c == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    return items


def _matching_paren(text: str, open_at: int) -> int:
    """Index of the parenthesis closing the one at `open_at` (quotes and backticks respected)."""
    for i, c, depth in _unquoted(text, open_at):
        if c == ")" and depth == 0:
            return i
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
    version = None
    if kind == "fulltext":
        found = re.search(r"\bUSING\s+VERSION\s+(\d+)", head_text, re.IGNORECASE)
        version = int(found.group(1)) if found else 1
    return KeyDefinition(kind, name, columns, orders, using, unenforced, text, version)


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
