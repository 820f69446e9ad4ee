"""DDL: Django's MySQL schema editor, emitting SingleStore's DDL for simple tables.

Storage kinds, shard keys and sort keys (issue 4) and columnstore ALTER emulation (issue 6) build
on this class; `table_layout_sql()` is the one place where a table's storage prefix and key clauses
are decided.
"""

from __future__ import annotations

import datetime
import decimal
from typing import Any

from django.db import NotSupportedError, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.backends.mysql.schema import DatabaseSchemaEditor as MySQLDatabaseSchemaEditor
from django.db.models import Value
from django.db.models.functions import Now

from django_singlestore.layout import AUTO_FIELD_TYPES, TableLayout, normalize_storage, resolve_layout


class ModelStorageManager(models.Manager):
    """A model's own table storage, kept from the original backend and recorded by migrations:

        class Food(models.Model):
            objects = models.Manager()
            storage = ModelStorageManager(table_storage_type="REFERENCE")

    `table_storage_type`: "COLUMNSTORE", "ROWSTORE", "REFERENCE" or "ROWSTORE REFERENCE" (also "", the
    server default). It takes precedence over every setting (django_singlestore.layout)."""

    use_in_migrations = True

    def __init__(self, table_storage_type: str = "") -> None:
        super().__init__()
        self.table_storage_type = (
            normalize_storage(table_storage_type, "ModelStorageManager(table_storage_type=...)")
            if table_storage_type
            else ""
        )


class DatabaseSchemaEditor(MySQLDatabaseSchemaEditor):
    # table_sql() turns this into CREATE [ROWSTORE] [REFERENCE] TABLE t (columns[, keys]) [COMMENT 'text'].
    sql_create_table = "CREATE TABLE %(table)s (%(definition)s)"
    sql_rename_table = "ALTER TABLE %(old_table)s RENAME TO %(new_table)s"
    # SingleStore renames a column with CHANGE and no type ("CHANGE that also changes the type" is
    # refused; MODIFY changes types).
    sql_rename_column = "ALTER TABLE %(table)s CHANGE %(old_column)s %(new_column)s"
    sql_create_fk = None
    sql_create_inline_fk = None
    sql_create_column_inline_fk = None
    sql_delete_fk = None
    sql_create_check = None
    sql_delete_check = None
    sql_rename_index = None
    # `%(using)s` carries USING HASH (columnstore tables, HashIndex).
    sql_create_index = "CREATE INDEX %(name)s ON %(table)s (%(columns)s)%(using)s%(extra)s"

    # --- Table layout (django_singlestore.layout decides; this renders it) ------------------------------

    def table_layout(self, model) -> TableLayout:
        """The model's storage and keys; NotSupportedError naming the model when none is valid."""
        layout = resolve_layout(model, self.connection)
        if layout.errors:
            raise NotSupportedError(
                f"SingleStore cannot hold the table of {model._meta.label} as {layout.storage}: "
                f"{'; '.join(layout.errors)}. See the system check singlestore.E001."
            )
        return layout

    def table_layout_sql(self, model) -> tuple[str, list[str]]:
        """(storage prefix such as "ROWSTORE REFERENCE ", extra key clauses) for `model`'s table."""
        layout = self.table_layout(model)
        q = self.quote_name
        using_hash = " USING HASH" if layout.is_columnstore else ""
        clauses: list[str] = []
        if layout.demoted_key:
            # The AUTO_INCREMENT column must be part of an index; a plain key is enough.
            clauses.append(f"KEY {q(layout.demoted_key)} ({q(layout.demoted_key)}){using_hash}")
        table = model._meta.db_table
        for names in model._meta.unique_together:
            columns = [model._meta.get_field(name).column for name in names]
            name = self._create_index_name(table, columns, suffix="_uniq")
            clauses.append(f"UNIQUE KEY {q(name)} ({', '.join(q(c) for c in columns)})")
        for key in layout.unique_keys:
            if not key.enforced:
                # Test-only DJANGO_SINGLESTORE_NOT_ENFORCED_UNIQUE_<APP>: informational, not enforced.
                name = self._create_index_name(table, list(key.columns), suffix="_uniq")
                clauses.append(
                    f"UNIQUE KEY {q(name)} ({', '.join(q(c) for c in key.columns)}) UNENFORCED RELY"
                )
        if layout.shard_key is not None:
            clauses.append(f"SHARD KEY ({', '.join(q(c) for c in layout.shard_key)})")
        if layout.sort_key is not None:
            clauses.append(f"SORT KEY ({', '.join(q(c) for c in layout.sort_key)})")
        return layout.storage_prefix, clauses

    def table_sql(self, model):
        # Unique keys belong in CREATE TABLE: SingleStore refuses to add one to an existing columnstore
        # table, and Django defers unique_together to ALTER TABLE. Inline them (table_layout_sql).
        deferred_before = len(self.deferred_sql)
        self._inline_layout: TableLayout | None = self.table_layout(model)
        try:
            sql, params = super().table_sql(model)
        finally:
            self._inline_layout = None
        deferred_uniques = len(model._meta.unique_together)
        del self.deferred_sql[deferred_before : deferred_before + deferred_uniques]
        # Add the storage prefix, the key clauses and the inline table comment.
        storage, key_clauses = self.table_layout_sql(model)
        head = "CREATE TABLE "
        assert sql.startswith(head), sql
        table_and_body = sql[len(head) :]
        if key_clauses:
            table_and_body = (
                table_and_body[: table_and_body.rindex(")")] + ", " + ", ".join(key_clauses) + ")"
            )
        comment = ""
        if model._meta.db_table_comment:
            comment = f" COMMENT {self.quote_value(model._meta.db_table_comment)}"
        return f"CREATE {storage}TABLE {table_and_body}{comment}", params

    def _iter_column_sql(self, column_db_type, params, model, field, field_db_params, include_default):
        column_db_type = relation_column_type(field, column_db_type)
        layout = getattr(self, "_inline_layout", None)
        for part in super()._iter_column_sql(
            column_db_type, params, model, field, field_db_params, include_default
        ):
            if layout is not None and part == "PRIMARY KEY" and layout.primary_key is None:
                continue  # the AUTO_INCREMENT id was demoted to a plain KEY
            if layout is not None and part == "UNIQUE" and not _enforced(layout, field.column):
                continue  # written as UNIQUE KEY ... UNENFORCED RELY
            yield part

    def _model_indexes_sql(self, model):
        # ShardKey and SortKey are clauses of CREATE TABLE: their create_sql() gives None there.
        return [sql for sql in super()._model_indexes_sql(model) if sql is not None]

    def _create_index_sql(self, model, *, using="", **kwargs):
        # Columnstore tables take hash indexes only (HashIndex asks for one on rowstore too).
        if not using and self.table_layout(model).is_columnstore:
            using = " USING HASH"
        return super()._create_index_sql(model, using=using, **kwargs)

    def create_model(self, model):
        # The table comment is inline in CREATE TABLE; the base class would ALTER it afterwards.
        self._creating_model = True
        try:
            super().create_model(model)
        finally:
            self._creating_model = False

    def alter_db_table_comment(self, model, old_db_table_comment, new_db_table_comment):
        if getattr(self, "_creating_model", False):
            return
        if (old_db_table_comment or "") != (new_db_table_comment or ""):
            raise NotSupportedError(
                f"SingleStore cannot change a table comment after CREATE TABLE "
                f"({model._meta.label}: {old_db_table_comment!r} -> {new_db_table_comment!r})."
            )

    # --- Columns -------------------------------------------------------------------------------------

    def column_sql(self, model, field, include_default=False):
        if field.generated:
            return self._generated_column_sql(model, field)
        return super().column_sql(model, field, include_default)

    def _generated_column_sql(self, model, field) -> tuple[str, list[Any]]:
        """`col AS (expr) PERSISTED type`: SingleStore's persisted computed column."""
        if not field.db_persist:
            raise NotSupportedError(
                f"SingleStore has no virtual computed columns: set db_persist=True on {model._meta.label}.{field.name}."
            )
        expression_sql, params = field.generated_sql(self.connection)
        db_type = field.db_parameters(connection=self.connection)["type"]
        sql = f"AS ({expression_sql}) PERSISTED {db_type}"
        if field.db_comment:
            sql += self._comment_sql(field.db_comment)
        return sql, list(params)

    def _column_default_sql(self, field):
        # SingleStore refuses `DEFAULT (expr)`: always the bare value or expression.
        return "%s"

    def db_default_sql(self, field):
        db_default = field._db_default_expression
        if isinstance(db_default, Now):
            # The only non-literal default SingleStore documents.
            return "CURRENT_TIMESTAMP(6)", []
        if isinstance(db_default, Value):
            return super().db_default_sql(field)
        sql, params = super().db_default_sql(field)
        # Base wraps expressions in parentheses; SingleStore wants them bare.
        if sql.startswith("(") and sql.endswith(")"):
            sql = sql[1:-1]
        return sql, params

    @property
    def _supports_limited_data_type_defaults(self):
        # Not documented for TEXT/BLOB/JSON columns: MySQL 5.7's behaviour (emulate one-off
        # defaults with an UPDATE after ADD COLUMN).
        return False

    def _field_should_be_indexed(self, model, field):
        # No FK constraints, so FK columns get an explicit index like any db_index field. (MySQL's
        # version asks the server for the storage engine.)
        return BaseDatabaseSchemaEditor._field_should_be_indexed(self, model, field) and not (
            self._is_limited_data_type(field)
        )

    def _field_db_check(self, field, field_db_params):
        return None

    # --- Literals without a server round trip --------------------------------------------------------

    def quote_value(self, value):
        """A SQL literal for DDL (defaults, comments). Needs no connection, unlike MySQL's."""
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, int | float | decimal.Decimal):
            return str(value)
        if isinstance(value, bytes | bytearray | memoryview):
            return f"X'{bytes(value).hex()}'"
        if isinstance(value, datetime.datetime | datetime.date | datetime.time):
            value = value.isoformat(sep=" ") if isinstance(value, datetime.datetime) else value.isoformat()
        text = str(value)
        for char, escaped in (
            ("\\", "\\\\"),
            ("'", "\\'"),
            ("\0", "\\0"),
            ("\n", "\\n"),
            ("\r", "\\r"),
            ("\x1a", "\\Z"),
        ):
            text = text.replace(char, escaped)
        return f"'{text}'"

    def prepare_default(self, value):
        return self.quote_value(value)


def _enforced(layout: TableLayout, column: str) -> bool:
    return all(key.enforced for key in layout.unique_keys if key.columns == (column,))


def relation_column_type(field, db_type):
    """A column that points at an auto field is BIGINT, like every AUTO_INCREMENT column here (Django
    derives it from IntegerField, i.e. `integer`, for AutoField and SmallAutoField targets)."""
    target = getattr(field, "target_field", None) if field.is_relation and not field.many_to_many else None
    if (
        target is not None
        and target.get_internal_type() in AUTO_FIELD_TYPES
        and db_type in ("integer", "smallint")
    ):
        return "bigint"
    return db_type
