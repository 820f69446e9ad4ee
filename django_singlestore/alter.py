"""Columnstore ALTER emulation (issue 6): the column changes SingleStore's ALTER refuses on a columnstore
table, done column by column, and the crash-safety of the whole-table rebuild.

SingleStore refuses, on a columnstore table, "ALTER TABLE which modifies type of column", "... from NULL
to NOT NULL" and "... by adding or dropping AUTO_INCREMENT" (singlestore-semantics.md §2). For a column
that is in no key the table is built around (primary, shard, sort and unique keys, the demoted id) the
schema editor replaces the column instead (`emulate_column_change`):

    1. ALTER TABLE t ADD COLUMN `<col>__s2tmp` <new definition>       (a new column: nothing is refused)
    2. UPDATE t SET `<col>__s2tmp` = `<col>`                           (COALESCE with the default when
                                                                        NULL -> NOT NULL and one exists)
    3. verify: every row compares equal (<=>; byte for byte when a collation changes) to its source,
       no NULL in a NOT NULL column
    4. ALTER TABLE t DROP COLUMN `<col>`
    5. ALTER TABLE t CHANGE `<col>__s2tmp` `<col>`                     (SingleStore's rename)

DDL commits implicitly, so every step is durable on its own and a crash can stop the sequence anywhere.
The temporary name is deterministic, and each run starts by reading the table (SHOW CREATE TABLE) to
find where a previous attempt stopped:

    old column only, not yet converted  -> start at 1
    old column and temporary column     -> the copy may be partial: drop the temporary column, start at 1
                                           (the old column still holds every value)
    temporary column only               -> finish with 5
    old column only, already converted  -> nothing left to do (5 ran)

A failed copy or verification drops the temporary column and raises DataError / IntegrityError naming
the model and the field; the original column is untouched. The replaced column is the table's LAST
column afterwards (SingleStore adds columns at the end; introspection and inspectdb report it there).

AUTO_INCREMENT cannot be added by ADD COLUMN on a columnstore table either, and Django only puts it on
primary keys, so those changes (and every column in a key) go to the table rebuild of
`DatabaseSchemaEditor._change_layout`, made resumable here (`resume_rebuild`, `verify_copied_rows`): the
scratch table has a deterministic name; a run that finds the scratch table and no original finishes
by renaming it; one that finds both drops the scratch table and copies again; one that finds the table
already in its new shape (layout, columns, types, AUTO_INCREMENT) and not in its old one only syncs the
AUTO_INCREMENT counters; the row counts are compared before the original is dropped.
"""

from __future__ import annotations

import copy
import hashlib
import re
from typing import Any

from django.db import DatabaseError, DataError, IntegrityError, NotSupportedError

from django_singlestore.indexes import TableKey
from django_singlestore.layout import AUTO_FIELD_TYPES

__all__ = [
    "TEMP_SUFFIX",
    "emulate_column_change",
    "resume_rebuild",
    "scratch_table_name",
    "temp_column_name",
    "verify_copied_rows",
]

TEMP_SUFFIX = "__s2tmp"
REBUILD_SUFFIX = "__s2_rebuild"
#: MariaDB's identifier limit (SingleStore allows 256): temporary names stay within both.
MAX_NAME = 64


def temp_column_name(column: str) -> str:
    """`<column>__s2tmp`, shortened with a hash of the full name when it would exceed 64 characters."""
    name = column + TEMP_SUFFIX
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha1(column.encode()).hexdigest()[:8]
    return f"{column[: MAX_NAME - len(TEMP_SUFFIX) - 9]}_{digest}{TEMP_SUFFIX}"


def scratch_table_name(table: str) -> str:
    """The deterministic name the table rebuild creates the new table under."""
    return f"{table[:44]}{REBUILD_SUFFIX}"


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
    keyed: set[str] = set(layout.primary_key or ()) | set(layout.shard_key or ()) | set(layout.sort_key or ())
    keyed.update(c for key in layout.unique_keys for c in key.columns)
    if layout.demoted_key:
        keyed.add(layout.demoted_key)
    if columns & keyed:
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


def _default_sql(editor: Any, field: Any) -> tuple[str, list[Any]] | None:
    """The SQL that fills NULLs when a column becomes NOT NULL: db_default, else the field's default
    (Django fills NULLs with it in that case too); None without either."""
    if field.has_db_default():
        sql, params = editor.db_default_sql(field)
        return sql, list(params)
    value = editor.effective_default(field)
    if value is None:
        return None
    return "%s", [value]


def emulate_column_change(editor: Any, model: Any, old_field: Any, new_field: Any) -> Any:
    """Replace `old_field`'s column by one with `new_field`'s type and nullability (see the module
    docstring), resuming an interrupted attempt. Returns the field that now describes the column (the
    new definition under the old column name, with db_index telling whether it has its index), for
    the ordinary ALTER of whatever else changes (name, index, comment); None when the column is in a
    key and the table must be rebuilt instead."""
    table_name = model._meta.db_table
    column = old_field.column
    temp = temp_column_name(column)
    q = editor.quote_name
    introspection = editor.connection.introspection
    if editor.collect_sql:
        table = None
        layout = editor.table_layout(model)
        present: set[str] = {column}
    else:
        with editor.connection.cursor() as cursor:
            storage_type = introspection.get_storage_type(cursor, table_name)
            if storage_type is None:
                return None  # no table: a rebuild that stopped halfway (resume_rebuild finishes it)
            table = introspection.get_create_table(cursor, table_name)
        layout = introspection.layout_of(table, storage_type)
        present = {c.name for c in table.columns}
        if not layout.is_columnstore:
            return old_field  # a rowstore table: SingleStore's ALTER does it
    why = _not_column_wise(editor, model, old_field, new_field, table, layout)
    if why:
        return None
    new_type = editor._column_type(new_field)
    if column not in present and temp not in present:
        if new_field.column in present:
            return _describing(editor, model, new_field, new_field.column)  # finished and renamed
        return old_field  # nothing to resume: Django's ALTER reports the missing column
    if temp in present:
        if column in present:
            # Stopped before the old column was dropped: the copy may be partial, start again.
            editor.execute(f"ALTER TABLE {q(table_name)} DROP COLUMN {q(temp)}")
        else:
            # Stopped after the old column was dropped: every value is in the temporary column.
            editor.execute(
                editor.sql_rename_column
                % {"table": q(table_name), "old_column": q(temp), "new_column": q(column)}
            )
            return _describing(editor, model, new_field, column)
    elif table is not None and _has_type(table.column(column), new_type or "", new_field.null):
        return _describing(editor, model, new_field, column)  # converted by an earlier run
    _replace_column(editor, model, old_field, new_field, temp)
    return _describing(editor, model, new_field, column)


def _replace_column(editor: Any, model: Any, old_field: Any, new_field: Any, temp: str) -> None:
    table_name = model._meta.db_table
    column = old_field.column
    q = editor.quote_name
    label = _label(model, new_field)
    new_field = _with_column(new_field, new_field.column, model)
    fill = None
    if not new_field.null:
        fill = _default_sql(editor, new_field)
        if fill is None and old_field.null and not editor.collect_sql:
            nulls = _count(editor, f"SELECT COUNT(*) FROM {q(table_name)} WHERE {q(column)} IS NULL")
            if nulls:
                raise IntegrityError(
                    f"{label} cannot become NOT NULL: {nulls} row(s) of {table_name} hold NULL in "
                    f"{column} and the field has no default. Nothing was changed."
                )
    definition, params = editor.column_sql(model, _with_column(new_field, temp, model))
    source, source_params = q(column), []
    if fill is not None and old_field.null:
        source = f"COALESCE({q(column)}, {fill[0]})"
        source_params = fill[1]
    same = f"{q(temp)} <=> {source}"
    if getattr(old_field, "db_collation", None) or getattr(new_field, "db_collation", None):
        # A collation change: compare the bytes (two collations cannot be compared with each other).
        same = f"CAST({q(temp)} AS BINARY) <=> CAST({source} AS BINARY)"
    editor.execute(
        editor.sql_create_column % {"table": q(table_name), "column": q(temp), "definition": definition},
        params,
    )
    try:
        editor.execute(f"UPDATE {q(table_name)} SET {q(temp)} = {source}", source_params)
        if editor.collect_sql:
            editor.collected_sql.append(
                f"-- verify: no row of {table_name} where NOT ({same}) before dropping {column}"
            )
        else:
            mismatches = _count(
                editor,
                f"SELECT COUNT(*) FROM {q(table_name)} WHERE NOT ({same})",
                source_params,
            )
            nulls = (
                0
                if new_field.null
                else _count(editor, f"SELECT COUNT(*) FROM {q(table_name)} WHERE {q(temp)} IS NULL")
            )
            if mismatches or nulls:
                error = IntegrityError if nulls else DataError
                raise error(
                    f"{label}: converting {table_name}.{column} to {editor._column_type(new_field)} "
                    f"would change {mismatches} value(s)"
                    + (f" and leave {nulls} NULL(s)" if nulls else "")
                    + ". Nothing was changed."
                )
    except DatabaseError as exc:
        editor.execute(f"ALTER TABLE {q(table_name)} DROP COLUMN {q(temp)}")
        if isinstance(exc, DataError | IntegrityError) and str(exc).startswith(label):
            raise
        error_class = IntegrityError if isinstance(exc, IntegrityError) else DataError
        raise error_class(
            f"{label}: converting {table_name}.{column} to {editor._column_type(new_field)} failed ({exc}). "
            f"Nothing was changed."
        ) from exc
    editor.execute(f"ALTER TABLE {q(table_name)} DROP COLUMN {q(column)}")
    editor.execute(
        editor.sql_rename_column % {"table": q(table_name), "old_column": q(temp), "new_column": q(column)}
    )


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


def _count(editor: Any, sql: str, params: list[Any] | None = None) -> int:
    with editor.connection.cursor() as cursor:
        cursor.execute(sql, params or None)
        return int(cursor.fetchone()[0])


# --- Table rebuild: resume and verify ---------------------------------------------------------------


def resume_rebuild(editor: Any, old_model: Any, new_model: Any, layout: Any) -> bool:
    """Before a table rebuild: finish or clean up an interrupted one. True when the rebuild is done
    (the scratch table, holding every row, was renamed in place; or the emptied table was created)."""
    if editor.collect_sql:
        return False
    table = old_model._meta.db_table
    scratch = scratch_table_name(table)
    q = editor.quote_name
    with editor.connection.cursor() as cursor:
        names = set(editor.connection.introspection.table_names(cursor))
    auto = any(f.get_internal_type() in AUTO_FIELD_TYPES for f in new_model._meta.local_concrete_fields)
    if table in names:
        if scratch in names:
            editor.execute(f"DROP TABLE IF EXISTS {q(scratch)}")  # a copy that did not finish
            return False
        if _already_rebuilt(editor, old_model, new_model):
            # Stopped after the rename (before the sync, or before `migrate` recorded the migration).
            if auto and not layout.is_reference:
                editor._sync_auto_increment(table)
            return True
        return False
    if scratch in names:
        # Stopped after the original was dropped: the scratch table holds every row (counts verified).
        editor.execute(editor.sql_rename_table % {"old_table": q(scratch), "new_table": q(table)})
        if auto and not layout.is_reference:
            editor._sync_auto_increment(table)
        return True
    # Neither: an empty table was dropped and the new one not yet created (nothing held rows).
    editor._create_now(new_model, run_deferred=False)
    return True


def _matches(editor: Any, model: Any, table: Any, storage_type: str | None) -> bool:
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


def _already_rebuilt(editor: Any, old_model: Any, new_model: Any) -> bool:
    """The table already is what the rebuild makes (and not what it starts from)."""
    table_name = old_model._meta.db_table
    introspection = editor.connection.introspection
    with editor.connection.cursor() as cursor:
        storage_type = introspection.get_storage_type(cursor, table_name)
        table = introspection.get_create_table(cursor, table_name)
    if table is None:
        return False
    return _matches(editor, new_model, table, storage_type) and not _matches(
        editor, old_model, table, storage_type
    )


def verify_copied_rows(editor: Any, model: Any, table: str, scratch: str) -> None:
    """Compare the row counts of the original and the scratch table before the original is dropped."""
    if editor.collect_sql:
        return
    q = editor.quote_name
    before = _count(editor, f"SELECT COUNT(*) FROM {q(table)}")
    after = _count(editor, f"SELECT COUNT(*) FROM {q(scratch)}")
    if before != after:
        raise DataError(
            f"{model._meta.label}: the copy of {table} holds {after} row(s), the table {before}; "
            f"the table was left as it was."
        )


def refused_layout(model: Any, what: str, exc: NotSupportedError) -> NotSupportedError:
    """NotSupportedError naming the model and the change (field) for a new layout SingleStore cannot
    hold; raised before any DDL."""
    return NotSupportedError(f"{model._meta.label}: {what}: {exc}")
