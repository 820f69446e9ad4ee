"""Introspection: what a SingleStore database says about its tables, read back into Django's terms.

Sources, per question:

* **tables** — `information_schema.TABLES`: name, kind (table / view), comment and `STORAGE_TYPE`
  (`'COLUMNSTORE'` or `'INMEMORY_ROWSTORE'`; singlestore-semantics.md §4.1).
* **columns** — `information_schema.COLUMNS` (types, lengths, precision, AUTO_INCREMENT, defaults,
  collations, comments), the driver's `cursor.description` (type codes, as Django's MySQL backend
  does) and the column's definition in SHOW CREATE TABLE (`JSON`, `col AS expr PERSISTED type`).
* **keys** — SHOW CREATE TABLE, parsed by `create_table.parse_create_table()`. It is the one place where
  SingleStore states a table's storage (`CREATE [ROWSTORE] [REFERENCE] TABLE`), shard key, sort key,
  hash keys and UNENFORCED unique keys; `information_schema` has none of those and `SHOW INDEX`
  lists the shard key as an index named `__SHARDKEY` [doc: show-index, "Key_name for shard keys on
  columnstore tables is listed as __SHARDKEY ... Index_type ... METADATA_ONLY"].

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
from typing import Any

from django.db.backends.mysql.introspection import DatabaseIntrospection as MySQLDatabaseIntrospection
from django.db.backends.mysql.introspection import FieldInfo as MySQLFieldInfo
from django.db.backends.mysql.introspection import TableInfo as MySQLTableInfo
from MySQLdb.constants import FIELD_TYPE

from django_singlestore.create_table import ColumnDefinition, CreateTable, KeyDefinition, parse_create_table
from django_singlestore.layout import LayoutRule, TableLayout, UniqueKey
from django_singlestore.storage import Storage

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
        storage = (
            Storage.from_information_schema(storage_type, reference=table.reference)
            if storage_type
            else table.storage
        )
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
            rule=LayoutRule.INTROSPECTED,
            source="database",
            reason=f"SHOW CREATE TABLE {table.name}",
        )

    # Columns --------------------------------------------------------------------------------------

    #: Nullability and column order as the table declares them (information_schema), not as a `SELECT *`
    #: result's metadata reports them (Django's MySQL backend reads those).
    sql_column_order = """
        SELECT column_name, is_nullable, column_type FROM information_schema.columns
        WHERE table_name = %s AND table_schema = DATABASE()
        ORDER BY ordinal_position
    """

    def get_table_description(self, cursor, table_name: str) -> list[Any]:
        """Django's MySQL description, in table order with information_schema's nullability, plus JSON
        columns, `generated` and `declared_type` (from SHOW CREATE TABLE)."""
        create = self.get_create_table(cursor, table_name)
        described = {info.name: info for info in super().get_table_description(cursor, table_name)}
        cursor.execute(self.sql_column_order, [table_name])
        fields = []
        for name, nullable, column_type in cursor.fetchall():
            info = described[name]
            info = info._replace(
                null_ok=nullable == "YES", extra=info.extra or "", is_unsigned=bool(info.is_unsigned)
            )
            column = create.column(name) if create is not None else None
            if column is not None and column.is_json:
                info = info._replace(
                    type_code=FIELD_TYPE.JSON, collation=None, has_json_constraint=True, data_type="json"
                )
            generated = column.generated if column is not None else None
            declared_type = column.declared_type if column is not None else column_type
            fields.append(FieldInfo._make((*info, generated, declared_type)))
        return fields

    def get_field_type(self, data_type: Any, description: Any) -> str:
        """Django's mapping, plus VECTOR columns (SHOW CREATE TABLE's `vector(n, T)`) as VectorField."""
        declared = getattr(description, "declared_type", None) or ""
        if declared[:7].lower() == "vector(":
            return "django_singlestore.vector.VectorField"
        return super().get_field_type(data_type, description)

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
            if key.kind == "vector":
                constraints[name]["index_options"] = key.index_options
        return constraints
