"""The gateway's catalog of SingleStore table facts, persisted in MariaDB (schema ``_s2gw``).

What SingleStore knows and MariaDB does not (storage kind, REFERENCE, SHARD KEY, SORT KEY, which keys
are HASH or UNENFORCED) is recorded from the DDL the gateway forwarded. What MariaDB does know (primary
key, enforced unique keys, the AUTO_INCREMENT column, the column order) is re-read from MariaDB's
``information_schema`` after every successful DDL on the table, so the two never disagree about names.

The catalog changes only in ``Forward.after_ok`` hooks, i.e. after MariaDB answered OK. Every change is
written through the AdminClient (autocommit, InnoDB, ``innodb_flush_log_at_trx_commit=1``) before the
in-memory copy changes, so it survives reconnects, gateway restarts and a MariaDB SIGKILL.

``information_schema.TABLES.STORAGE_TYPE`` is served by the view ``_s2gw.TABLES`` (information_schema's
TABLES plus a STORAGE_TYPE column computed from the catalog); the translator rewrites every reference
to ``information_schema.TABLES`` to it. Base tables the gateway never saw report ``COLUMNSTORE`` (the
SingleStore default); views and system schemas report NULL.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

log = logging.getLogger(__name__)

__all__ = ["SCHEMA", "Catalog", "ColumnFact", "TableInfo", "sql_literal"]

SCHEMA = "_s2gw"
SYSTEM_SCHEMAS = ("mysql", "information_schema", "performance_schema", "sys", SCHEMA)


class _Admin(Protocol):
    async def query(self, sql: str) -> tuple[list[str], list[tuple[str | None, ...]]]: ...

    async def execute(self, sql: str) -> tuple[int, int]: ...


def sql_literal(value: str | None) -> str:
    if value is None:
        return "NULL"
    return "'" + value.replace("\\", "\\\\").replace("'", "''").replace("\0", "\\0") + "'"


def _ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


@dataclass
class TableInfo:
    db: str
    name: str
    storage: str = "COLUMNSTORE"  # "COLUMNSTORE" | "ROWSTORE"
    reference: bool = False
    #: Declared SHARD KEY columns; [] for ``SHARD KEY ()``; None when no SHARD KEY clause was given.
    shard_key: list[str] | None = None
    shard_key_name: str | None = None
    sort_key: list[str] | None = None
    #: name -> columns of ``UNIQUE ... UNENFORCED`` keys (MariaDB holds them as plain KEYs).
    unenforced_keys: dict[str, list[str]] = field(default_factory=dict)
    #: name -> columns of ``KEY ... USING HASH`` (MariaDB/InnoDB ignores USING HASH).
    hash_keys: dict[str, list[str]] = field(default_factory=dict)
    # -- facts re-read from MariaDB after each DDL --
    primary_key: list[str] | None = None
    unique_keys: dict[str, list[str]] = field(default_factory=dict)
    auto_increment: str | None = None
    columns: list[str] = field(default_factory=list)
    comment: str = ""
    #: column -> [dimensions, element type] of its VECTOR columns (MariaDB holds them as LONGTEXT).
    vectors: dict[str, list[int | str]] = field(default_factory=dict)
    #: name -> {"column": col, "options": INDEX_OPTIONS JSON text or None} of its VECTOR indexes
    #: (MariaDB has none: vector queries are answered exactly).
    vector_indexes: dict[str, dict[str, str | None]] = field(default_factory=dict)
    #: Columns declared JSON (MariaDB: LONGTEXT with a column-level ``CHECK (json_valid(col))``), re-read
    #: with the other facts; the proxy reports them with SingleStore's wire type and data type.
    json_columns: list[str] = field(default_factory=list)
    #: The FULLTEXT index: {"name", "columns", "version"} (name and columns re-read from MariaDB).
    fulltext: dict[str, Any] | None = None

    @property
    def sharded(self) -> bool:
        return not self.reference

    @property
    def columnstore(self) -> bool:
        return self.storage == "COLUMNSTORE"

    @property
    def effective_shard_key(self) -> list[str]:
        """The columns rows are distributed by: SHARD KEY, else the primary key, else none (keyless)."""
        if self.reference:
            return []
        if self.shard_key is not None:
            return self.shard_key
        return list(self.primary_key or [])

    def to_row(self) -> dict[str, str | None]:
        return {
            "db": self.db,
            "name": self.name,
            "storage": self.storage,
            "reference": "1" if self.reference else "0",
            "shard_key": None if self.shard_key is None else json.dumps(self.shard_key),
            "shard_key_name": self.shard_key_name,
            "sort_key": None if self.sort_key is None else json.dumps(self.sort_key),
            "unenforced_keys": json.dumps(self.unenforced_keys),
            "hash_keys": json.dumps(self.hash_keys),
            "primary_key": None if self.primary_key is None else json.dumps(self.primary_key),
            "unique_keys": json.dumps(self.unique_keys),
            "auto_increment": self.auto_increment,
            "columns": json.dumps(self.columns),
            "comment": self.comment,
            "vectors": json.dumps(self.vectors),
            "vector_indexes": json.dumps(self.vector_indexes),
            "json_columns": json.dumps(self.json_columns),
            "fulltext": None if self.fulltext is None else json.dumps(self.fulltext),
        }

    @classmethod
    def from_row(cls, row: dict[str, str | None]) -> TableInfo:
        def js(key: str, default: object) -> object:
            raw = row.get(key)
            return default if raw is None else json.loads(raw)

        return cls(
            db=row["db"] or "",
            name=row["name"] or "",
            storage=row["storage"] or "COLUMNSTORE",
            reference=row["reference"] == "1",
            shard_key=js("shard_key", None),  # type: ignore[arg-type]
            shard_key_name=row.get("shard_key_name"),
            sort_key=js("sort_key", None),  # type: ignore[arg-type]
            unenforced_keys=js("unenforced_keys", {}),  # type: ignore[arg-type]
            hash_keys=js("hash_keys", {}),  # type: ignore[arg-type]
            primary_key=js("primary_key", None),  # type: ignore[arg-type]
            unique_keys=js("unique_keys", {}),  # type: ignore[arg-type]
            auto_increment=row.get("auto_increment"),
            columns=js("columns", []),  # type: ignore[arg-type]
            comment=row.get("comment") or "",
            vectors=js("vectors", {}),  # type: ignore[arg-type]
            vector_indexes=js("vector_indexes", {}),  # type: ignore[arg-type]
            json_columns=js("json_columns", []),  # type: ignore[arg-type]
            fulltext=js("fulltext", None),  # type: ignore[arg-type]
        )


_COLUMNS = (
    "db",
    "name",
    "storage",
    "reference",
    "shard_key",
    "shard_key_name",
    "sort_key",
    "unenforced_keys",
    "hash_keys",
    "primary_key",
    "unique_keys",
    "auto_increment",
    "columns",
    "comment",
    "vectors",
    "vector_indexes",
    "json_columns",
    "fulltext",
)

_DDL = [
    f"CREATE DATABASE IF NOT EXISTS {SCHEMA} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
    f"""CREATE TABLE IF NOT EXISTS {SCHEMA}.tables (
        db VARCHAR(64) CHARACTER SET utf8mb3 COLLATE utf8mb3_bin NOT NULL,
        name VARCHAR(64) CHARACTER SET utf8mb3 COLLATE utf8mb3_bin NOT NULL,
        storage VARCHAR(16) NOT NULL,
        reference CHAR(1) NOT NULL,
        shard_key TEXT NULL,
        shard_key_name VARCHAR(64) NULL,
        sort_key TEXT NULL,
        unenforced_keys TEXT NOT NULL,
        hash_keys TEXT NOT NULL,
        primary_key TEXT NULL,
        unique_keys TEXT NOT NULL,
        auto_increment VARCHAR(64) NULL,
        `columns` MEDIUMTEXT NOT NULL,
        comment TEXT NOT NULL,
        json_columns TEXT NULL,
        `fulltext` TEXT NULL,
        PRIMARY KEY (db, name)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin""",
    # added with VECTOR support: catalogs persisted before it gain the columns
    f"""ALTER TABLE {SCHEMA}.tables ADD COLUMN IF NOT EXISTS vectors TEXT NULL,
        ADD COLUMN IF NOT EXISTS vector_indexes TEXT NULL""",
    # a catalog persisted by an older gateway gains the column
    f"ALTER TABLE {SCHEMA}.tables ADD COLUMN IF NOT EXISTS json_columns TEXT NULL",
    # catalogs persisted before full-text search was emulated
    f"ALTER TABLE {SCHEMA}.tables ADD COLUMN IF NOT EXISTS `fulltext` TEXT NULL",
    # SQL SECURITY INVOKER: information_schema keeps filtering by the *client's* privileges.
    f"""CREATE OR REPLACE SQL SECURITY INVOKER VIEW {SCHEMA}.`TABLES` AS
        SELECT t.*,
               CASE WHEN t.TABLE_TYPE <> 'BASE TABLE' THEN NULL
                    WHEN c.storage = 'ROWSTORE' THEN 'INMEMORY_ROWSTORE'
                    WHEN c.storage IS NOT NULL THEN 'COLUMNSTORE'
                    WHEN t.TABLE_SCHEMA IN ({", ".join(sql_literal(s) for s in SYSTEM_SCHEMAS)}) THEN NULL
                    ELSE 'COLUMNSTORE' END AS STORAGE_TYPE
        FROM information_schema.`TABLES` t
        LEFT JOIN {SCHEMA}.tables c
          ON c.db = t.TABLE_SCHEMA COLLATE utf8mb3_bin AND c.name = t.TABLE_NAME COLLATE utf8mb3_bin
        WHERE t.TABLE_SCHEMA <> '{SCHEMA}'""",
]


def columns_view_sql(names: list[str]) -> str:
    """``_s2gw.COLUMNS``: information_schema.COLUMNS with ``json`` as DATA_TYPE / COLUMN_TYPE of the
    columns the catalog knows as JSON (SingleStore's "JSON Type" columns are their own type; MariaDB
    reports LONGTEXT). [assumption] The other attributes of a JSON column (character set, lengths) stay
    MariaDB's: SingleStore's values for them are not documented."""
    is_json = "(j.json_columns IS NOT NULL AND JSON_CONTAINS(j.json_columns, JSON_QUOTE(c.COLUMN_NAME)))"
    select = []
    for name in names:
        if name.upper() in ("DATA_TYPE", "COLUMN_TYPE"):
            select.append(f"CASE WHEN {is_json} THEN 'json' ELSE c.{_ident(name)} END AS {_ident(name)}")
        else:
            select.append(f"c.{_ident(name)}")
    return (
        f"CREATE OR REPLACE SQL SECURITY INVOKER VIEW {SCHEMA}.`COLUMNS` AS SELECT {', '.join(select)} "
        "FROM information_schema.`COLUMNS` c "
        f"LEFT JOIN {SCHEMA}.tables j "
        "ON j.db = c.TABLE_SCHEMA COLLATE utf8mb3_bin AND j.name = c.TABLE_NAME COLLATE utf8mb3_bin "
        f"WHERE c.TABLE_SCHEMA <> '{SCHEMA}'"
    )


@dataclass
class ColumnFact:
    """A column as MariaDB describes it now (information_schema.COLUMNS)."""

    name: str
    column_type: str  # e.g. "bigint(20) unsigned", "varchar(10)", "datetime(6)"
    nullable: bool
    auto_increment: bool


class Catalog:
    def __init__(self, admin: _Admin) -> None:
        self.admin = admin
        self.tables: dict[tuple[str, str], TableInfo] = {}
        #: Bumped on every change of ``tables`` (the engine caches what it derives from them).
        self.version = 0
        self._json: dict[bytes, frozenset[tuple[bytes, bytes, bytes]]] | None = None

    def json_by_name(self) -> dict[bytes, frozenset[tuple[bytes, bytes, bytes]]]:
        """Lower-case table name -> (schema, table, lower-case column) of its JSON columns, over every
        schema (rebuilt after each catalog change)."""
        if self._json is None:
            index: dict[bytes, set[tuple[bytes, bytes, bytes]]] = {}
            for info in self.tables.values():
                if info.json_columns:
                    db, name = info.db.encode(), info.name.encode()
                    index.setdefault(name.lower(), set()).update(
                        (db, name, c.lower().encode()) for c in info.json_columns
                    )
            self._json = {k: frozenset(v) for k, v in index.items()}
        return self._json

    async def start(self) -> None:
        for sql in _DDL:
            await self.admin.execute(sql)
        _, rows = await self.admin.query(
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'information_schema' "
            "AND TABLE_NAME = 'COLUMNS' ORDER BY ORDINAL_POSITION"
        )
        await self.admin.execute(columns_view_sql([r[0] for r in rows if r[0] is not None]))
        await self.load()

    async def load(self) -> None:
        cols, rows = await self.admin.query(
            f"SELECT {', '.join(_ident(c) for c in _COLUMNS)} FROM {SCHEMA}.tables"
        )
        self.tables = {}
        self.version += 1
        self._json = None
        for row in rows:
            info = TableInfo.from_row(dict(zip(cols, row, strict=True)))
            self.tables[(info.db, info.name)] = info

    def get(self, db: str | None, name: str) -> TableInfo | None:
        if db is None:
            return None
        return self.tables.get((db, name))

    # -- changes (called from after_ok hooks only) -----------------------------------------------
    async def put(self, info: TableInfo, *, refresh: bool = True) -> TableInfo:
        if refresh:
            info = await self.refresh_facts(info)
        row = info.to_row()
        names = ", ".join(_ident(c) for c in _COLUMNS)
        values = ", ".join(sql_literal(row[c]) for c in _COLUMNS)
        await self.admin.execute(f"REPLACE INTO {SCHEMA}.tables ({names}) VALUES ({values})")
        self.tables[(info.db, info.name)] = info
        self.version += 1
        self._json = None
        return info

    async def drop(self, db: str, name: str) -> None:
        await self.admin.execute(
            f"DELETE FROM {SCHEMA}.tables WHERE db = {sql_literal(db)} AND name = {sql_literal(name)}"
        )
        self.tables.pop((db, name), None)
        self.version += 1
        self._json = None

    async def drop_database(self, db: str) -> None:
        await self.admin.execute(f"DELETE FROM {SCHEMA}.tables WHERE db = {sql_literal(db)}")
        for key in [k for k in self.tables if k[0] == db]:
            del self.tables[key]
        self.version += 1
        self._json = None

    async def rename(self, db: str, name: str, new_db: str, new_name: str) -> None:
        info = self.tables.get((db, name))
        await self.drop(new_db, new_name)
        if info is None:
            return
        await self.admin.execute(
            f"UPDATE {SCHEMA}.tables SET db = {sql_literal(new_db)}, name = {sql_literal(new_name)} "
            f"WHERE db = {sql_literal(db)} AND name = {sql_literal(name)}"
        )
        del self.tables[(db, name)]
        self.tables[(new_db, new_name)] = replace(info, db=new_db, name=new_name)
        self.version += 1
        self._json = None

    # -- MariaDB's facts -------------------------------------------------------------------------
    async def column_facts(self, db: str, name: str) -> dict[str, ColumnFact]:
        """Current columns of ``db.name`` from information_schema (keys lower-cased)."""
        _, rows = await self.admin.query(
            "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, EXTRA FROM information_schema.COLUMNS "
            f"WHERE TABLE_SCHEMA = {sql_literal(db)} AND TABLE_NAME = {sql_literal(name)} "
            "ORDER BY ORDINAL_POSITION"
        )
        facts: dict[str, ColumnFact] = {}
        for col, ctype, nullable, extra in rows:
            assert col is not None
            facts[col.lower()] = ColumnFact(
                col, (ctype or "").lower(), nullable == "YES", "auto_increment" in (extra or "").lower()
            )
        return facts

    async def index_facts(self, db: str, name: str) -> dict[str, tuple[bool, list[str]]]:
        """index name -> (unique, columns in order) from information_schema.STATISTICS."""
        _, rows = await self.admin.query(
            "SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME FROM information_schema.STATISTICS "
            f"WHERE TABLE_SCHEMA = {sql_literal(db)} AND TABLE_NAME = {sql_literal(name)} "
            "ORDER BY INDEX_NAME, SEQ_IN_INDEX"
        )
        out: dict[str, tuple[bool, list[str]]] = {}
        for index, non_unique, col in rows:
            assert index is not None and col is not None
            out.setdefault(index, (non_unique == "0", []))[1].append(col)
        return out

    async def refresh_facts(self, info: TableInfo) -> TableInfo:
        columns = await self.column_facts(info.db, info.name)
        indexes = await self.index_facts(info.db, info.name)
        info = replace(info)
        info.columns = [c.name for c in columns.values()]
        info.auto_increment = next((c.name for c in columns.values() if c.auto_increment), None)
        pk = indexes.get("PRIMARY")
        info.primary_key = list(pk[1]) if pk else None
        info.unique_keys = {n: cols for n, (u, cols) in indexes.items() if u and n != "PRIMARY"}
        plain = {n: cols for n, (u, cols) in indexes.items() if not u}
        info.hash_keys = _match_names(info.hash_keys, plain)
        info.unenforced_keys = _match_names(info.unenforced_keys, plain)
        info.json_columns = await self.json_column_names(info.db, info.name)
        info.fulltext = await self._fulltext_fact(info)
        return info

    async def json_column_names(self, db: str, name: str) -> list[str]:
        """Columns MariaDB holds as JSON: its JSON alias is LONGTEXT plus a column-level CHECK constraint
        named after the column, ``json_valid(`col`)`` (MariaDB 10.5+ information_schema)."""
        _, rows = await self.admin.query(
            "SELECT CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
            f"WHERE CONSTRAINT_SCHEMA = {sql_literal(db)} AND TABLE_NAME = {sql_literal(name)} "
            "AND LEVEL = 'Column'"
        )
        out = []
        for col, clause in rows:
            if col is not None and clause == "json_valid(" + _ident(col) + ")":
                out.append(col)
        return out

    async def _fulltext_fact(self, info: TableInfo) -> dict[str, Any] | None:
        """The table's FULLTEXT index as MariaDB has it now (a rename or dropped column shows), with the
        version the DDL declared (gateway/fulltext.py); hidden single-column indexes left out."""
        _, rows = await self.admin.query(
            "SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS "
            f"WHERE TABLE_SCHEMA = {sql_literal(info.db)} AND TABLE_NAME = {sql_literal(info.name)} "
            "AND INDEX_TYPE = 'FULLTEXT' AND INDEX_NAME NOT LIKE '\\_\\_s2gw\\_ft\\_%' "
            "ORDER BY INDEX_NAME, SEQ_IN_INDEX"
        )
        if not rows:
            return None
        name = rows[0][0]
        version = (info.fulltext or {}).get("version", 1)
        return {"name": name, "columns": [c for n, c in rows if n == name], "version": version}


def _match_names(declared: dict[str, list[str]], actual: dict[str, list[str]]) -> dict[str, list[str]]:
    """Map declared keys (named, or provisional ``?n`` names) to MariaDB's index names by columns."""
    out: dict[str, list[str]] = {}
    used: set[str] = set()
    for name, cols in declared.items():
        low = [c.lower() for c in cols]
        if name in actual and [c.lower() for c in actual[name]] == low:
            out[name] = actual[name]
            used.add(name)
    for name, cols in declared.items():
        if name in out:
            continue
        low = [c.lower() for c in cols]
        for actual_name, actual_cols in actual.items():
            if actual_name not in used and [c.lower() for c in actual_cols] == low:
                out[actual_name] = actual_cols
                used.add(actual_name)
                break
    return out
