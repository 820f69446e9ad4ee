"""Columnstore ALTER emulation (issue 6): the column changes SingleStore's ALTER refuses on a columnstore
table, done column by column, under live traffic and without losing a write.

SingleStore refuses, on a columnstore table, "ALTER TABLE which modifies type of column", "... from NULL
to NOT NULL" and "... by adding or dropping AUTO_INCREMENT" (singlestore-semantics.md §2). For a column
that is in no key the table is built around (primary, shard, sort and unique keys, the demoted id) the
schema editor replaces the column instead (`ColumnReplacement`):

    1. ALTER TABLE t ADD COLUMN `<col>__s2tmp` <new type>          nullable like the new field, or NOT
                                                                   NULL with a DEFAULT (the field's, or
                                                                   0 / ''), so inserts made meanwhile work
    2. UPDATE t SET `<col>__s2tmp` = `<col>`                        COALESCE with the default when
                                                                   NULL -> NOT NULL and one exists
    3. UPDATE t SET tmp = col WHERE NOT (tmp <=> col)               catch up with the writes made during 2
    4. ALTER TABLE t RENAME TO t__s2_fence                          the write fence (django_singlestore.rebuild)
    5. UPDATE ... WHERE NOT (tmp <=> col) on the fenced table       the rows written before the fence
    6. verify: no row where NOT (tmp <=> col) (byte for byte when a collation changes), no NULL in a
       NOT NULL column -- a value the new type cannot hold unchanged fails here
    7. ALTER TABLE fence DROP COLUMN `<col>`; CHANGE `<col>__s2tmp` `<col>`; MODIFY (drops the DEFAULT
       step 1 added)
    8. ALTER TABLE t__s2_fence RENAME TO t                          writes work again

If 5-6 fail the fence is reopened, the temporary column dropped, and DataError / IntegrityError says
nothing was changed. DDL commits implicitly, so a crash can stop the sequence anywhere; the names are
deterministic and each run starts by reading the table (SHOW CREATE TABLE) to find where an earlier
attempt stopped:

    fenced table, old and temporary column -> reopen the fence, then as below
    fenced table, temporary column only    -> finish 7 and 8
    old column only, not yet converted     -> start at 1
    old column and temporary column        -> the copy may be partial: drop the temporary column, start
                                              at 1 (the old column still holds every value)
    temporary column only                  -> rename it (an earlier version stopped after its DROP)
    old column only, already converted     -> nothing left to do

The replaced column is the table's LAST column afterwards (SingleStore adds columns at the end;
introspection and inspectdb report it there). Columns in a key, AUTO_INCREMENT changes and NOT NULL
columns of a type with no placeholder default go to the table rebuild (django_singlestore.rebuild),
which keeps the column order.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from django.db import DatabaseError, DataError, IntegrityError, NotSupportedError

from django_singlestore.indexes import TableKey
from django_singlestore.layout import AUTO_FIELD_TYPES
from django_singlestore.rebuild import (
    REBUILD_SUFFIX,
    TEMP_SUFFIX,
    WriteFence,
    keyed_columns,
    scratch_table_name,
    temp_column_name,
)

__all__ = [
    "REBUILD_SUFFIX",
    "TEMP_SUFFIX",
    "ColumnReplacement",
    "change_columnstore_field",
    "emulate_column_change",
    "scratch_table_name",
    "table_matches",
    "temp_column_name",
]

#: The DEFAULT a NOT NULL temporary column takes when the field has none (inserts made during the copy
#: omit the column): by Django internal type. Reconciliation replaces it by the real value.
_ZERO = "IntegerField BigIntegerField SmallIntegerField PositiveIntegerField PositiveBigIntegerField"
_ZERO += " PositiveSmallIntegerField FloatField DecimalField BooleanField"
_EMPTY = "CharField TextField SlugField EmailField URLField"
PLACEHOLDER_DEFAULTS: dict[str, Any] = {
    **dict.fromkeys(_ZERO.split(), 0),
    **dict.fromkeys(_EMPTY.split(), ""),
}


def _label(model: Any, field: Any) -> str:
    return f"{model._meta.label}.{field.name}"


_INT_WIDTH = re.compile(r"\b(tinyint|smallint|mediumint|int|integer|bigint)\s*\(\s*\d+\s*\)")
_NOT_NULL = re.compile(r"(?i)\bNOT\s+NULL\b")


#: Django's spellings that SHOW CREATE TABLE prints otherwise.
_SYNONYMS = {"double precision": "double", "bool": "tinyint", "boolean": "tinyint", "real": "double"}


def _normalize_type(text: str) -> str:
    text = " ".join(text.lower().split())
    text = _INT_WIDTH.sub(r"\1", text)
    text = text.replace("integer", "int").replace("( ", "(").replace(" )", ")")
    return _SYNONYMS.get(text, text)


def _has_type(column: Any, db_type: str, null: bool) -> bool:
    """Whether the introspected `column` already has the type and nullability of the new field."""
    declared = _normalize_type(column.declared_type)
    wanted = _normalize_type(db_type)
    nullable = not _NOT_NULL.search(column.definition)
    return (declared == wanted or wanted.startswith(declared + " ")) and nullable == null


# --- Column-wise emulation ------------------------------------------------------------------------


def _not_column_wise(editor: Any, model: Any, old_field: Any, new_field: Any, table: Any, layout: Any) -> str:
    """Why this change must rebuild the table instead ("" when the column can be replaced alone)."""
    for field in (old_field, new_field):
        if field.primary_key or field.unique:
            return "a primary or unique key column"
        if field.generated:
            return "a computed column"
        if field.get_internal_type() in AUTO_FIELD_TYPES:
            return "an AUTO_INCREMENT column"
    columns = {old_field.column, new_field.column}
    if columns & keyed_columns(layout):
        return "a column of the primary, shard, sort or a unique key"
    if table is not None:
        for column in table.columns:
            if column.name in columns and (column.auto_increment or column.generated):
                return "an AUTO_INCREMENT or computed column"
        for key in table.keys:
            if columns & set(key.columns) and (len(key.columns) > 1 or key.kind not in ("key",)):
                return f"a column of the key {key.name or key.kind}"
    for index in model._meta.indexes:
        names = [f.lstrip("-") for f in getattr(index, "fields", ())]
        if old_field.name in names and (len(names) > 1 or isinstance(index, TableKey) or index.expressions):
            return f"a column of the index {index.name}"
    return ""


def _fill_sql(editor: Any, field: Any) -> tuple[str, list[Any]] | None:
    """The SQL that fills NULLs when a column becomes NOT NULL: db_default, else the field's default
    (Django fills NULLs with it in that case too); None without either."""
    if field.has_db_default():
        sql, params = editor.db_default_sql(field)
        return sql, list(params)
    value = editor.effective_default(field)
    if value is None:
        return None
    return "%s", [value]


def change_columnstore_field(editor: Any, model: Any, old_field: Any, new_field: Any) -> Any:
    """The part of an AlterField that SingleStore's ALTER cannot do: a change of keys or layout (the
    table is rebuilt), or a change a columnstore refuses (the column is replaced, or the table rebuilt).
    Returns the field that describes the column now, for Django's ordinary ALTER of the rest; None
    when the table was rebuilt (nothing is left to do)."""
    if not (
        old_field.concrete
        and new_field.concrete
        and not new_field.many_to_many
        and editor._field_should_be_altered(old_field, new_field)
    ):
        return old_field
    keys_change = (old_field.unique, old_field.primary_key) != (new_field.unique, new_field.primary_key)
    refused = refused_by_columnstore(editor, model, old_field, new_field)
    if not (keys_change or refused):
        return old_field
    # The model passed in may still carry another version of the field (Django's own schema tests
    # alter fields without changing the model): compare the two versions.
    old = editor.model_variant(model, swap=(old_field, old_field))
    new = editor.model_variant(model, swap=(old_field, new_field))
    renames = {new_field.column: old_field.column}
    what = f"altering {old_field.name}"
    if keys_change and editor._change_layout(old, new, what, renames=renames):
        return None
    if refused:
        emulated = emulate_column_change(editor, model, old_field, new_field)
        if emulated is None:
            editor._change_layout(old, new, f"{what} ({refused})", always=True, renames=renames)
            return None
        return emulated
    return old_field


def refused_by_columnstore(editor: Any, model: Any, old_field: Any, new_field: Any) -> str:
    """What SingleStore's ALTER cannot do to this columnstore column ("" when nothing): a type change,
    NULL -> NOT NULL, adding or dropping AUTO_INCREMENT (original README, Minor limitations)."""
    if not editor.table_layout(model).is_columnstore:
        return ""
    old_type = editor._column_type(old_field)
    new_type = editor._column_type(new_field)
    if (old_type or "").lower() != (new_type or "").lower():
        return f"type {old_type} -> {new_type}"
    if old_field.null and not new_field.null:
        return "NULL -> NOT NULL"
    return ""


def emulate_column_change(editor: Any, model: Any, old_field: Any, new_field: Any) -> Any:
    """Replace `old_field`'s column by one with `new_field`'s type and nullability (see the module
    docstring), resuming an interrupted attempt. Returns the field that now describes the column (the
    new definition under the old column name, with db_index telling whether it has its index), for
    the ordinary ALTER of whatever else changes (name, index, comment); None when the table must be
    rebuilt instead."""
    return ColumnReplacement(editor, model, old_field, new_field).run()


class ColumnReplacement:
    """One column replaced by a temporary column of the new type (module docstring)."""

    sql_add_column = "ALTER TABLE %(table)s ADD COLUMN %(column)s %(definition)s"
    sql_drop_column = "ALTER TABLE %(table)s DROP COLUMN %(column)s"
    sql_modify_column = "ALTER TABLE %(table)s MODIFY %(column)s %(definition)s"
    sql_copy = "UPDATE %(table)s SET %(temp)s = %(source)s"
    sql_reconcile = "UPDATE %(table)s SET %(temp)s = %(source)s WHERE NOT (%(same)s)"
    sql_count_differences = "SELECT COUNT(*) FROM %(table)s WHERE NOT (%(same)s)"
    sql_count_nulls = "SELECT COUNT(*) FROM %(table)s WHERE %(column)s IS NULL"
    sql_temp_default = "%(definition)s DEFAULT %%s"
    sql_fill_nulls = "COALESCE(%(column)s, %(default)s)"
    sql_same = "%(temp)s <=> %(source)s"
    sql_same_bytes = "CAST(%(temp)s AS BINARY) <=> CAST(%(source)s AS BINARY)"

    def __init__(self, editor: Any, model: Any, old_field: Any, new_field: Any) -> None:
        self.editor, self.model, self.old_field = editor, model, old_field
        self.new_field = _with_column(new_field, new_field.column, model)
        self.table = model._meta.db_table
        self.column = old_field.column
        self.temp = temp_column_name(self.column)
        self.fence = WriteFence(editor, self.table)
        self.label = _label(model, new_field)
        q = editor.quote_name
        self.fill = None if self.new_field.null else _fill_sql(editor, self.new_field)
        #: The DEFAULT the temporary column gets so inserts made meanwhile work (None: nullable, or the
        #: field has a db_default that column_sql writes).
        self.temp_default: list[Any] | None = None
        if not self.new_field.null and not self.new_field.has_db_default():
            if self.fill is not None:
                self.temp_default = self.fill[1]
            elif self.new_field.get_internal_type() in PLACEHOLDER_DEFAULTS:
                self.temp_default = [PLACEHOLDER_DEFAULTS[self.new_field.get_internal_type()]]
        source, self.source_params = q(self.column), []
        if self.fill is not None and old_field.null:
            source = self.sql_fill_nulls % {"column": q(self.column), "default": self.fill[0]}
            self.source_params = self.fill[1]
        same = self.sql_same
        if getattr(old_field, "db_collation", None) or getattr(new_field, "db_collation", None):
            same = self.sql_same_bytes  # two collations cannot be compared with each other
        same %= {"temp": q(self.temp), "source": source}
        self.parts = {"temp": q(self.temp), "source": source, "same": same, "column": q(self.column)}

    def _sql(self, template: str, table: str) -> str:
        return template % {**self.parts, "table": self.editor.quote_name(table)}

    def _columns(self, table_name: str) -> Any:
        with self.editor.connection.cursor() as cursor:
            return self.editor.connection.introspection.get_create_table(cursor, table_name)

    def run(self) -> Any:
        editor, column, temp = self.editor, self.column, self.temp
        if editor.collect_sql:
            table = None
            layout = editor.table_layout(self.model)
            present: set[str] = {column}
        else:
            found = self._introspect(self.table)
            if found is None:
                # No table: fenced off by a replacement or a rebuild that stopped halfway.
                fenced = self._introspect(self.fence.name)
                if fenced is None or not self._is_ours(*fenced):
                    return None  # a rebuild's (TableRebuild.resume finishes it)
                self._resume_fenced(fenced[0])
                found = self._introspect(self.table)
                assert found is not None
            table, layout = found
            present = {c.name for c in table.columns}
            if not layout.is_columnstore:
                return self.old_field  # a rowstore table: SingleStore's ALTER does it
        if not self._is_ours(table, layout):
            return None
        if column not in present and temp not in present:
            if self.new_field.column in present:
                return _describing(editor, self.model, self.new_field, self.new_field.column)
            return self.old_field  # nothing to resume: Django's ALTER reports the missing column
        if temp in present:
            if column in present:
                # Stopped before the old column was dropped: the copy may be partial, start again.
                self._drop_temp(self.table)
            else:
                self._swap_columns(self.table)  # every value is in the temporary column
                return _describing(editor, self.model, self.new_field, column)
        elif table is not None and _has_type(
            table.column(column), editor._column_type(self.new_field) or "", self.new_field.null
        ):
            return _describing(editor, self.model, self.new_field, column)  # converted by an earlier run
        self._replace()
        return _describing(editor, self.model, self.new_field, column)

    def _introspect(self, table_name: str) -> tuple[Any, Any] | None:
        """(SHOW CREATE TABLE, layout) of `table_name`, None when it does not exist."""
        introspection = self.editor.connection.introspection
        with self.editor.connection.cursor() as cursor:
            storage_type = introspection.get_storage_type(cursor, table_name)
            if storage_type is None:
                return None
            table = introspection.get_create_table(cursor, table_name)
        return table, introspection.layout_of(table, storage_type)

    def _is_ours(self, table: Any, layout: Any) -> bool:
        """Whether the column can be replaced alone (else the table is rebuilt)."""
        if not layout.is_columnstore:
            return True
        if _not_column_wise(self.editor, self.model, self.old_field, self.new_field, table, layout):
            return False
        # A NOT NULL column needs a DEFAULT while it is filled, or inserts made meanwhile would fail.
        return self.new_field.null or self.new_field.has_db_default() or self.temp_default is not None

    def _resume_fenced(self, fenced: Any) -> None:
        """A crash while writes were fenced off: finish the column swap if the old column is gone, and
        reopen the fence."""
        present = {c.name for c in fenced.columns}
        if self.temp in present and self.column not in present:
            self._swap_columns(self.fence.name)
        elif self.temp not in present and self.temp_default is not None:
            self._drop_temp_default(self.fence.name)
        self.fence.reopen()

    def _swap_columns(self, table: str) -> None:
        q = self.editor.quote_name
        self.editor.execute(
            self.editor.sql_rename_column
            % {"table": q(table), "old_column": q(self.temp), "new_column": q(self.column)}
        )
        if self.temp_default is not None:
            self._drop_temp_default(table)

    def _drop_temp_default(self, table: str) -> None:
        definition, params = self.editor.column_sql(
            self.model, _with_column(self.new_field, self.column, self.model)
        )
        self.editor.execute(
            self.sql_modify_column
            % {
                "table": self.editor.quote_name(table),
                "column": self.parts["column"],
                "definition": definition,
            },
            params,
        )

    def _check_nulls_before_ddl(self) -> None:
        if self.new_field.null or self.fill is not None or not self.old_field.null or self.editor.collect_sql:
            return
        nulls = self._count(self._sql(self.sql_count_nulls, self.table))
        if nulls:
            raise IntegrityError(
                f"{self.label} cannot become NOT NULL: {nulls} row(s) of {self.table} hold NULL in "
                f"{self.column} and the field has no default. Nothing was changed."
            )

    def _replace(self) -> None:
        editor, q = self.editor, self.editor.quote_name
        self._check_nulls_before_ddl()
        definition, params = editor.column_sql(
            self.model, _with_column(self.new_field, self.temp, self.model)
        )
        if self.temp_default is not None:
            definition, params = (
                self.sql_temp_default % {"definition": definition},
                [*params, *self.temp_default],
            )
        editor.execute(
            self.sql_add_column % {"table": q(self.table), "column": q(self.temp), "definition": definition},
            params,
        )
        reconcile_params = [*self.source_params, *self.source_params]
        try:
            editor.execute(self._sql(self.sql_copy, self.table), self.source_params)
            editor.execute(self._sql(self.sql_reconcile, self.table), reconcile_params)
        except DatabaseError as exc:
            self._drop_temp(self.table)
            raise self._failed(exc) from exc
        self.fence.close()
        try:
            editor.execute(self._sql(self.sql_reconcile, self.fence.name), reconcile_params)
            self._verify(self.fence.name)
        except DatabaseError as exc:
            self.fence.reopen()
            self._drop_temp(self.table)
            raise self._failed(exc) from exc
        try:
            editor.execute(self.sql_drop_column % {"table": q(self.fence.name), "column": q(self.column)})
            self._swap_columns(self.fence.name)
        finally:
            self.fence.reopen()

    def _drop_temp(self, table: str) -> None:
        q = self.editor.quote_name
        self.editor.execute(self.sql_drop_column % {"table": q(table), "column": q(self.temp)})

    def _verify(self, table: str) -> None:
        if self.editor.collect_sql:
            self.editor.collected_sql.append(
                f"-- verify: no row of {table} where NOT ({self.parts['same']}) before dropping {self.column}"
            )
            return
        mismatches = self._count(self._sql(self.sql_count_differences, table), self.source_params)
        nulls = 0
        if not self.new_field.null:
            nulls = self._count(
                self.sql_count_nulls % {"table": self.editor.quote_name(table), "column": self.parts["temp"]}
            )
        if mismatches or nulls:
            raise (IntegrityError if nulls else DataError)(
                f"would change {mismatches} value(s)" + (f" and leave {nulls} NULL(s)" if nulls else "")
            )

    def _failed(self, exc: DatabaseError) -> DatabaseError:
        error_class = IntegrityError if isinstance(exc, IntegrityError) else DataError
        return error_class(
            f"{self.label}: converting {self.table}.{self.column} to "
            f"{self.editor._column_type(self.new_field)} failed ({exc}). Nothing was changed."
        )

    def _count(self, sql: str, params: list[Any] | None = None) -> int:
        with self.editor.connection.cursor() as cursor:
            cursor.execute(sql, params or None)
            return int(cursor.fetchone()[0])


def _with_column(field: Any, column: str, model: Any) -> Any:
    clone = copy.deepcopy(field)
    clone.column = column
    clone.db_index = False
    if getattr(clone, "model", None) is None:
        clone.model = model  # a field built outside a model class (Django's own schema tests do this)
    return clone


def _describing(editor: Any, model: Any, new_field: Any, column: str) -> Any:
    """`new_field` under `column`, db_index True only if the column has a plain index (the emulation
    drops the old column's indexes; Django's ALTER then creates what `new_field` asks for). Single-
    column Meta.indexes on the field, dropped with the old column, are created again here."""
    field = _with_column(new_field, column, model)
    if editor.collect_sql:
        return field
    with editor.connection.cursor() as cursor:
        constraints = editor.connection.introspection.get_constraints(cursor, model._meta.db_table)
    meta_names = {index.name for index in model._meta.indexes}
    plain = [
        name
        for name, info in constraints.items()
        if info["columns"] == [column] and info["index"] and not info["unique"] and not info["primary_key"]
    ]
    field.db_index = any(name not in meta_names for name in plain)
    for index in model._meta.indexes:
        names = [f.lstrip("-") for f in getattr(index, "fields", ())]
        if names == [new_field.name] and index.name not in constraints and not isinstance(index, TableKey):
            editor.add_index(model, index)
    return field


def table_matches(editor: Any, model: Any, table: Any, storage_type: str | None) -> bool:
    """Whether the introspected `table` has `model`'s layout and its columns (names, types, NULL,
    AUTO_INCREMENT)."""
    from django_singlestore.layout import layout_signature

    introspected = editor.connection.introspection.layout_of(table, storage_type)
    if layout_signature(introspected) != layout_signature(editor.table_layout(model)):
        return False
    fields = [f for f in model._meta.local_concrete_fields if not f.generated]
    if {c.name for c in table.columns if not c.generated} != {f.column for f in fields}:
        return False
    for f in fields:
        column = table.column(f.column)
        db_type = editor._column_type(f) or ""
        if column is None or not _has_type(column, db_type, f.null):
            return False
        if column.auto_increment != (f.get_internal_type() in AUTO_FIELD_TYPES):
            return False
    return True


def refused_layout(model: Any, what: str, exc: NotSupportedError) -> NotSupportedError:
    """NotSupportedError naming the model and the change (field) for a new layout SingleStore cannot
    hold; raised before any DDL."""
    return NotSupportedError(f"{model._meta.label}: {what}: {exc}")
