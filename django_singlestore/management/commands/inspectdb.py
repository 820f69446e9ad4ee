"""`manage.py inspectdb` that also writes each SingleStore table's storage and keys.

Django's own inspectdb already works on a SingleStore alias through the backend's introspection
(django_singlestore.introspection): fields and their types (BIGINT AUTO_INCREMENT ids, JSON), the
primary key (composite ones as `CompositePrimaryKey`, the "id demoted" shape as the id field), unique
keys, comments and collations. What Django's command has no place for is written by this one, which
replaces it when `"django_singlestore"` is in `INSTALLED_APPS` (the backend needs no other reason to be
there; it has no models):

* the storage, as a second manager beside `objects`:
  `storage = django_singlestore.schema.ModelStorageManager(table_storage_type="ROWSTORE REFERENCE")`;
* in `Meta.indexes`: the shard key (`ShardKey(fields=[...])`, keyless: `ShardKey(name=...)`), the sort
  key (`SortKey(fields=[...])`), the secondary keys (`HashIndex` for `USING HASH`, else `Index`) and the
  full-text key (`FullTextIndex`);
  the AUTO_INCREMENT column's own plain key of the "id demoted" shape is left out (the layout writes it);
* PERSISTED computed columns as `GeneratedField(expression=RawSQL(...), output_field=..., db_persist=True)`.

So the models migrate back to equivalent DDL (same storage, columns, primary, unique, shard, sort and
hash keys; key names may differ). A FULLTEXT key becomes `django_singlestore.search.FullTextIndex`
(`version=1` for a legacy one). Known gaps, written as comments into the output: SORT KEY columns in
DESC order, VECTOR keys on several columns, and UNENFORCED unique keys with several columns. A single-column
UNENFORCED unique key becomes `unique=True`, which is created UNENFORCED again only under the test-only
`DJANGO_SINGLESTORE_NOT_ENFORCED_UNIQUE_<APP>` switch (a note on the field says so).

On an alias of another backend the command is Django's, unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from django.core.management.commands.inspectdb import Command as InspectDBCommand
from django.db import connections

from django_singlestore.introspection import CreateTable, DatabaseIntrospection

IMPORTS = (
    "import django_singlestore.indexes",
    "import django_singlestore.schema",
    "import django_singlestore.vector",
    "import django_singlestore.search",
)


class Code(str):
    """Python source that inspectdb writes with %r: repr() gives the source itself."""

    def __repr__(self) -> str:
        return str(self)


class Command(InspectDBCommand):
    help = (
        "Introspects the database tables in the given database and outputs a Django model module; "
        "on a SingleStore alias also each table's storage, shard key, sort key and hash keys."
    )

    _connection: Any = None
    _tables: dict[str, CreateTable]

    def handle_inspection(self, options: dict[str, Any]) -> Iterator[str]:
        connection = connections[options["database"]]
        if not isinstance(connection.introspection, DatabaseIntrospection):
            yield from super().handle_inspection(options)
            return
        self._connection = connection
        self._tables = {}
        try:
            for line in super().handle_inspection(options):
                yield line
                if line == f"from {self.db_module} import models":
                    yield from IMPORTS
        finally:
            self._connection = None

    def _table(self, table_name: str) -> CreateTable | None:
        if table_name not in self._tables:
            with self._connection.cursor() as cursor:
                self._tables[table_name] = self._connection.introspection.get_create_table(cursor, table_name)
        return self._tables[table_name]

    def get_field_type(
        self, connection: Any, table_name: str, row: Any
    ) -> tuple[str, dict[str, Any], list[str]]:
        field_type, params, notes = super().get_field_type(connection, table_name, row)
        if self._connection is None:
            return field_type, params, notes
        table = self._table(table_name)
        for key in table.keys_of("unique") if table is not None else ():
            if key.unenforced and key.columns == (row.name,):
                notes.append(
                    "UNIQUE ... UNENFORCED on the table: unique=True creates it UNENFORCED again only "
                    "under DJANGO_SINGLESTORE_NOT_ENFORCED_UNIQUE_<APP> (test-only)."
                )
        table_column = table.column(row.name) if table is not None else None
        vector = table_column.vector if table_column is not None else None
        if vector is not None:
            params = {k: v for k, v in params.items() if k not in ("max_length", "db_collation")}
            params["dimensions"] = vector[0]
            if vector[1] != "F32":
                params["element_type"] = vector[1]
            field_type = "django_singlestore.vector.VectorField"
        generated = getattr(row, "generated", None)
        if generated:
            inner_params = ", ".join(f"{k}={v!r}" for k, v in params.items())
            output = f"models.{field_type}({inner_params})" if "." not in field_type else field_type
            return (
                "GeneratedField",
                {
                    "expression": Code(f"models.expressions.RawSQL({generated!r}, [])"),
                    "output_field": Code(output),
                    "db_persist": True,
                },
                notes,
            )
        return field_type, params, notes

    def get_meta(
        self,
        table_name: str,
        constraints: dict[str, Any],
        column_to_field_name: dict[str, str],
        is_view: bool,
        is_partition: bool,
        comment: str | None,
    ) -> list[str]:
        if self._connection is None or is_view:
            return super().get_meta(
                table_name, constraints, column_to_field_name, is_view, is_partition, comment
            )
        notes: list[str] = []
        enforced = {}
        for name, params in constraints.items():
            if params.get("enforced", True) or len(params["columns"]) < 2:
                enforced[name] = params
            else:
                notes.append(f"    # Not recreated (UNENFORCED, several columns): {name} {params['columns']}")
        meta = super().get_meta(table_name, enforced, column_to_field_name, is_view, is_partition, comment)
        with self._connection.cursor() as cursor:
            storage_type = self._connection.introspection.get_storage_type(cursor, table_name)
        table = self._table(table_name)
        if table is None:
            return meta
        layout = DatabaseIntrospection.layout_of(table, storage_type)
        indexes, key_notes = self._indexes(table, layout, column_to_field_name)
        notes += key_notes
        used = set(column_to_field_name.values())
        objects = _free_name("objects", used)
        storage = _free_name("storage", used | {objects})
        managers = [
            f"    {objects} = models.Manager()",
            f"    {storage} = django_singlestore.schema.ModelStorageManager(table_storage_type={layout.storage!r})",
        ]
        if indexes:
            meta.append("        indexes = [")
            meta += [f"            {index}," for index in indexes]
            meta.append("        ]")
        return [*managers, *notes, *meta]

    def _indexes(
        self, table: CreateTable, layout: Any, column_to_field_name: dict[str, str]
    ) -> tuple[list[str], list[str]]:
        def fields(columns: tuple[str, ...]) -> str:
            return repr([column_to_field_name.get(c, c) for c in columns])

        indexes: list[str] = []
        notes: list[str] = []
        if layout.shard_key is not None:
            if layout.shard_key:
                indexes.append(f"django_singlestore.indexes.ShardKey(fields={fields(layout.shard_key)})")
            else:
                name = f"{table.name[:26]}_shk"
                indexes.append(f"django_singlestore.indexes.ShardKey(name={name!r})")
        sort = table.sort_key
        if sort is not None:
            indexes.append(f"django_singlestore.indexes.SortKey(fields={fields(sort.columns)})")
            if "DESC" in sort.orders:
                notes.append(f"    # SORT KEY order not recreated (all ascending): {sort.text}")
        for key in table.keys:
            if key.kind == "key":
                if table.demoted_key is not None and key.columns == (table.demoted_key,):
                    continue  # the layout writes the demoted id's own key
                cls = "django_singlestore.indexes.HashIndex" if key.using == "HASH" else "models.Index"
                name = f", name={key.name!r}" if key.name and len(key.name) <= 30 else ""
                indexes.append(f"{cls}(fields={fields(key.columns)}{name})")
            elif key.kind == "vector" and len(key.columns) == 1:
                indexes.append(_vector_index(key, fields(key.columns)))
            elif key.kind == "fulltext":
                name = f", name={key.name!r}" if key.name and len(key.name) <= 30 else ""
                version = f", version={key.version}" if key.version == 1 else ""
                indexes.append(
                    f"django_singlestore.search.FullTextIndex(fields={fields(key.columns)}{name}{version})"
                )
            elif key.kind in ("vector", "other"):
                notes.append(f"    # Not recreated: {key.text}")
        return indexes, notes


def _vector_index(key: Any, fields: str) -> str:
    """`VectorIndex(...)` for a VECTOR key: index_type and metric_type as arguments, other INDEX_OPTIONS
    as `options`."""
    args = [f"fields={fields}"]
    if key.name and len(key.name) <= 30:
        args.append(f"name={key.name!r}")
    try:
        options = json.loads(key.index_options) if key.index_options else {}
    except ValueError:
        options = {}
    if not isinstance(options, dict):
        options = {}
    for option, arg in (("index_type", "index_type"), ("metric_type", "metric")):
        if option in options:
            args.append(f"{arg}={options.pop(option)!r}")
    if options:
        args.append(f"options={options!r}")
    return f"django_singlestore.vector.VectorIndex({', '.join(args)})"


def _free_name(name: str, used: set[str]) -> str:
    candidate = name
    n = 0
    while candidate in used:
        n += 1
        candidate = f"{name}_{n}"
    return candidate
