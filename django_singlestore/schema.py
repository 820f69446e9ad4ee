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
from django.db.backends.ddl_references import Statement
from django.db.backends.mysql.schema import DatabaseSchemaEditor as MySQLDatabaseSchemaEditor
from django.db.models import Value
from django.db.models.functions import Now
from django.db.models.sql import Query

from django_singlestore.alter import change_columnstore_field, refused_layout
from django_singlestore.indexes import TableKey
from django_singlestore.layout import (
    AUTO_FIELD_TYPES,
    TableLayout,
    layout_signature,
    resolve_layout,
)
from django_singlestore.rebuild import (
    AutoIncrementSyncWarning,
    TableRebuild,
    keyed_columns,
    recorded,
)
from django_singlestore.storage import ModelStorageManager  # its historical import path, kept
from django_singlestore.variants import model_variant

__all__ = ["AutoIncrementSyncWarning", "DatabaseSchemaEditor", "ModelStorageManager", "relation_column_type"]


class DatabaseSchemaEditor(MySQLDatabaseSchemaEditor):
    deferred_sql: list[Any]
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
    sql_demoted_key = "KEY %(name)s (%(column)s)%(using)s"
    sql_unique_key = "UNIQUE KEY %(name)s (%(columns)s)"
    sql_unenforced_unique_key = "UNIQUE KEY %(name)s (%(columns)s) UNENFORCED RELY"
    sql_shard_key = "SHARD KEY (%(columns)s)"
    sql_sort_key = "SORT KEY (%(columns)s)"
    sql_table_comment = " COMMENT %(comment)s"
    sql_create_table_with_layout = "CREATE %(storage)sTABLE %(table_and_body)s%(comment)s"
    sql_generated_column = "AS (%(expression)s) PERSISTED %(type)s"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: The layout of the table CREATE TABLE is being written for (its column clauses depend on it).
        self.layout_in_progress: TableLayout | None = None
        #: True while this editor creates a table (the comment is inline, keys are clauses).
        self.creating_table = False
        #: (table, milliseconds) for every time this editor fenced writes off a table.
        self.write_gaps: list[tuple[str, float]] = []
        #: The schema changes this editor (one migration) finished, for the error of a later one.
        self.completed_changes: list[str] = []

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

        def columns(names: Any) -> str:
            return ", ".join(q(c) for c in names)

        clauses: list[str] = []
        if layout.demoted_key:
            # The AUTO_INCREMENT column must be part of an index; a plain key is enough.
            using = layout.storage.key_using
            name = q(layout.demoted_key)
            clauses.append(self.sql_demoted_key % {"name": name, "column": name, "using": using})
        table = model._meta.db_table
        for names in model._meta.unique_together:
            cols = [model._meta.get_field(name).column for name in names]
            name = q(self._create_index_name(table, cols, suffix="_uniq"))
            clauses.append(self.sql_unique_key % {"name": name, "columns": columns(cols)})
        for key in layout.unique_keys:
            if not key.enforced:
                # Test-only DJANGO_SINGLESTORE_NOT_ENFORCED_UNIQUE_<APP>: informational, not enforced.
                name = q(self._create_index_name(table, list(key.columns), suffix="_uniq"))
                clauses.append(
                    self.sql_unenforced_unique_key % {"name": name, "columns": columns(key.columns)}
                )
        if layout.shard_key is not None:
            clauses.append(self.sql_shard_key % {"columns": columns(layout.shard_key)})
        if layout.sort_key is not None:
            clauses.append(self.sql_sort_key % {"columns": columns(layout.sort_key)})
        return layout.storage_prefix, clauses

    def table_sql(self, model):
        # Unique keys belong in CREATE TABLE: SingleStore refuses to add one to an existing columnstore
        # table, and Django defers unique_together to ALTER TABLE. Inline them (table_layout_sql).
        deferred_before = len(self.deferred_sql)
        self.layout_in_progress = self.table_layout(model)
        try:
            sql, params = super().table_sql(model)
        finally:
            self.layout_in_progress = None
        deferred_uniques = len(model._meta.unique_together)
        del self.deferred_sql[deferred_before : deferred_before + deferred_uniques]
        inline_constraints: list[str] = []
        if params and model._meta.constraints:
            # With parameters (column defaults) Django defers Meta.constraints to ALTER TABLE, which
            # columnstore refuses for unique keys (and an unsupported one is a None statement): write
            # them into CREATE TABLE like the other keys.
            del self.deferred_sql[deferred_before : deferred_before + len(model._meta.constraints)]
            for constraint in model._meta.constraints:
                constraint_sql = constraint.constraint_sql(model, self)
                if constraint_sql:
                    inline_constraints.append(str(constraint_sql).replace("%", "%%"))
        # Add the storage prefix, the key clauses and the inline table comment.
        storage, key_clauses = self.table_layout_sql(model)
        key_clauses = inline_constraints + key_clauses
        head = "CREATE TABLE "
        assert sql.startswith(head), sql
        table_and_body = sql[len(head) :]
        if key_clauses:
            table_and_body = (
                table_and_body[: table_and_body.rindex(")")] + ", " + ", ".join(key_clauses) + ")"
            )
        comment = ""
        if model._meta.db_table_comment:
            comment = self.sql_table_comment % {"comment": self.quote_value(model._meta.db_table_comment)}
        parts = {"storage": storage, "table_and_body": table_and_body, "comment": comment}
        return self.sql_create_table_with_layout % parts, params

    def _iter_column_sql(self, column_db_type, params, model, field, field_db_params, include_default):
        column_db_type = relation_column_type(field, column_db_type)
        layout = self.layout_in_progress
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
        using = using or self.table_layout(model).storage.key_using
        return super()._create_index_sql(model, using=using, **kwargs)

    def create_model(self, model):
        # The table comment is inline in CREATE TABLE; the base class would ALTER it afterwards.
        self.creating_table = True
        try:
            super().create_model(model)
        finally:
            self.creating_table = False

    def alter_db_table_comment(self, model, old_db_table_comment, new_db_table_comment):
        if self.creating_table:
            return
        if (old_db_table_comment or "") != (new_db_table_comment or ""):
            raise NotSupportedError(
                f"SingleStore cannot change a table comment after CREATE TABLE "
                f"({model._meta.label}: {old_db_table_comment!r} -> {new_db_table_comment!r})."
            )

    # --- Layout changes on an existing table ----------------------------------------------------------
    #
    # A table's storage, shard key, primary key and (on columnstore) unique keys are fixed at CREATE
    # TABLE: SingleStore refuses "ALTER TABLE which adds unique/primary/foreign index" on columnstore,
    # and a shard key cannot change. Each operation below compares the layout of the table before and
    # after (django_singlestore.layout, from what the migrations record). Same layout: the ordinary
    # ALTER. Different layout: when the table is empty (as it is while `migrate` builds a fresh
    # database, e.g. contenttypes' AlterUniqueTogether), it is dropped and created again with the new
    # layout; otherwise NotSupportedError names the model and the change.

    def add_field(self, model, field):
        if (
            field.concrete
            and not field.many_to_many
            and (field.unique or field.primary_key)
            and self._change_layout(
                self.model_variant(model, remove=field),
                self.model_variant(model, add=field),
                f"adding {field.name}",
            )
        ):
            return
        super().add_field(model, field)

    def remove_field(self, model, field):
        if field.concrete and not field.many_to_many:
            old = self.model_variant(model, add=field)
            if field.column in keyed_columns(self.table_layout(old)) and self._change_layout(
                old, self.model_variant(model, remove=field), f"removing {field.name}"
            ):
                return
        super().remove_field(model, field)

    def alter_field(self, model, old_field, new_field, strict=False):
        with recorded(self, f"altering {model._meta.label}.{old_field.name}"):
            # A change a columnstore refuses is emulated first (django_singlestore.alter).
            described = change_columnstore_field(self, model, old_field, new_field)
            if described is not None:
                super().alter_field(model, described, new_field, strict)

    def _column_type(self, field) -> str | None:
        return relation_column_type(field, field.db_parameters(connection=self.connection)["type"])

    def _alter_field(
        self,
        model,
        old_field,
        new_field,
        old_type,
        new_type,
        old_db_params,
        new_db_params,
        strict=False,
    ):
        # The columns that point at auto fields are BIGINT (relation_column_type): compare the types the
        # columns really have, so AutoField -> BigAutoField changes nothing on either side.
        old_type = relation_column_type(old_field, old_type)
        new_type = relation_column_type(new_field, new_type)
        return super()._alter_field(
            model, old_field, new_field, old_type, new_type, old_db_params, new_db_params, strict
        )

    def _alter_column_type_sql(self, model, old_field, new_field, new_type, old_collation, new_collation):
        new_type = relation_column_type(new_field, new_type)
        return super()._alter_column_type_sql(
            model, old_field, new_field, new_type, old_collation, new_collation
        )

    def alter_unique_together(self, model, old_unique_together, new_unique_together):
        changed = {tuple(names) for names in old_unique_together} != {
            tuple(names) for names in new_unique_together
        }
        if changed and self._change_layout(
            self.model_variant(model, unique_together=old_unique_together),
            self.model_variant(model, unique_together=new_unique_together),
            "changing unique_together",
        ):
            return
        super().alter_unique_together(model, old_unique_together, new_unique_together)

    def add_constraint(self, model, constraint):
        if isinstance(constraint, models.UniqueConstraint) and self._change_layout(
            self.model_variant(model, drop_constraint=constraint),
            self.model_variant(model, add_constraint=constraint),
            f"adding the constraint {constraint.name}",
        ):
            return
        super().add_constraint(model, constraint)

    def remove_constraint(self, model, constraint):
        if isinstance(constraint, models.UniqueConstraint) and self._change_layout(
            self.model_variant(model, add_constraint=constraint),
            self.model_variant(model, drop_constraint=constraint),
            f"removing the constraint {constraint.name}",
        ):
            return
        super().remove_constraint(model, constraint)

    def add_index(self, model, index):
        if isinstance(index, TableKey):
            self._change_layout(
                self.model_variant(model, drop_index=index),
                self.model_variant(model, add_index=index),
                f"adding {type(index).__name__} {index.name}",
                always=True,
            )
            return
        super().add_index(model, index)

    def remove_index(self, model, index):
        if isinstance(index, TableKey):
            self._change_layout(
                self.model_variant(model, add_index=index),
                self.model_variant(model, drop_index=index),
                f"removing {type(index).__name__} {index.name}",
                always=True,
            )
            return
        super().remove_index(model, index)

    def _change_layout(self, old_model, new_model, what: str, always: bool = False, renames=None) -> bool:
        """False: the layout stays, do the ordinary ALTER. True: the table was created again with the
        new layout (django_singlestore.rebuild.TableRebuild). `renames`: new column -> old column."""
        try:
            old, new = self.table_layout(old_model), self.table_layout(new_model)
        except NotSupportedError as exc:
            raise refused_layout(old_model, what, exc) from exc
        old_sig, new_sig = layout_signature(old), layout_signature(new)
        if old_sig == new_sig and not always:
            return False
        if old_sig[:5] == new_sig[:5] and not new.is_columnstore and not always:
            return False  # only unique keys change, on rowstore storage: ALTER can add or drop them
        if old_sig != new_sig:
            what = f"{what} changes its layout from {old.describe()} to {new.describe()}"
        else:
            what = f"{what} is an ALTER SingleStore refuses on a columnstore table"
        TableRebuild(self, old_model, new_model, new, what, renames=dict(renames or {})).run()
        return True

    def forget_deferred(self, table: str) -> None:
        """Drop the deferred statements that reference `table` (it is created again)."""
        self.deferred_sql = [s for s in self.deferred_sql if not _references(s, table)]

    def create_table_now(self, model, run_deferred: bool) -> None:
        """CREATE TABLE for `model` (keys inline); with `run_deferred`, its indexes right away too."""
        self.creating_table = True
        try:
            BaseDatabaseSchemaEditor.create_model(self, model)
        finally:
            self.creating_table = False
        if run_deferred:
            table = model._meta.db_table
            for sql in [s for s in self.deferred_sql if _references(s, table)]:
                self.deferred_sql.remove(sql)
                self.execute(sql)

    def model_variant(self, model, **change: Any) -> type[models.Model]:
        """A stand-in model class for `model`'s table with one change (django_singlestore.variants)."""
        return model_variant(model, **change)

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
        sql = self.sql_generated_column % {"expression": expression_sql, "type": db_type}
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
            # A value is always a literal DEFAULT. Compile it with its generic as_sql(): a
            # vendor spelling (Django 6.1's JSONNull.as_mysql is `JSON_EXTRACT(%s, '$')`) would be an
            # expression DEFAULT, which SingleStore refuses (1706). JSONNull() then stores the JSON
            # text 'null', the same value JSON_EXTRACT('null', '$') yields.
            compiler = Query(model=field.model).get_compiler(connection=self.connection)
            default_sql, params = db_default.as_sql(compiler, self.connection)
            if default_sql == "NULL" and not params:
                return "NULL", []
            if default_sql != "%s":
                raise NotSupportedError(
                    f"SingleStore accepts only literal column defaults: {field.model._meta.label}."
                    f"{field.name} has db_default={db_default!r}, which renders as {default_sql!r}."
                )
            return self._column_default_sql(field), list(params)
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


def _references(sql: Any, table: str) -> bool:
    return isinstance(sql, Statement) and sql.references_table(table)


def _enforced(layout: TableLayout, column: str) -> bool:
    return all(key.enforced for key in layout.unique_keys if key.columns == (column,))


def relation_column_type(field, db_type):
    """A column that points at an auto field is BIGINT, like every AUTO_INCREMENT column here (Django
    derives it from IntegerField, i.e. `integer`, for AutoField and SmallAutoField targets)."""
    target = getattr(field, "target_field", None) if field.is_relation and not field.many_to_many else None
    seen = 0
    while target is not None and target.is_relation and seen < 10:
        # A foreign key to a OneToOneField primary key: follow the chain to the column it ends at.
        target = getattr(target, "target_field", None)
        seen += 1
    if (
        target is not None
        and target.get_internal_type() in AUTO_FIELD_TYPES
        and db_type in ("integer", "smallint")
    ):
        return "bigint"
    return db_type
