"""The table rebuild and the write fence: a table gets a layout SingleStore cannot ALTER into (storage,
shard, primary and columnstore unique keys are fixed at CREATE TABLE; key columns' types and
AUTO_INCREMENT cannot change), under live traffic and without losing a write (`TableRebuild`):

    1. CREATE TABLE t__s2_rebuild (new layout); INSERT INTO it SELECT ... FROM t   copy while t is written
    2. reconcile the copy with t                          catch up with the writes made during the copy
    3. ALTER TABLE t RENAME TO t__s2_fence                the fence: writes to t fail from here
    4. reconcile with the fenced original, and verify     the rows written before the fence
    5. AGGREGATOR SYNC AUTO_INCREMENT on the copy         (sharded tables with an auto id)
    6. ALTER TABLE t__s2_rebuild RENAME TO t; DROP the fence     the swap: writes work again

Reconciling compares every row on its key and all columns: copies that differ or whose original is
gone are deleted, originals without a copy inserted (never UPDATE: the shard key may have changed, and
SingleStore does not update a shard key). Under the fence, on a one-column key, two scans find the
changed rows and only those are touched and compared again. SingleStore's ALTER waits for the DML
already running on the table before the rename ([doc] alter-table: online ALTER "will wait until all
DML queries that were already running on the table finish"), so the fenced original is final. If 4-5
fail, the original is renamed back and the error says nothing was changed. Between 3 and 6 (the write
gap, logged and kept in `editor.write_gaps`) a write fails with 1146, which the backend reports as a
retryable `errors.SchemaChangeInProgress`. With no key the copy keeps, the fence comes before the copy;
an empty table is fenced, checked still empty, created again and the fence dropped.

A crash can stop the sequence between two steps (DDL commits implicitly): `TableRebuild.resume` finds
which of t, its scratch table and its fence exist and finishes or undoes the earlier attempt."""

from __future__ import annotations

import hashlib
import logging
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, DataError, IntegrityError

from django_singlestore.layout import AUTO_FIELD_TYPES, TableLayout

__all__ = [
    "FENCE_SUFFIX",
    "REBUILD_SUFFIX",
    "TEMP_SUFFIX",
    "AutoIncrementSyncWarning",
    "TableRebuild",
    "WriteFence",
    "fence_table_name",
    "keyed_columns",
    "scratch_table_name",
    "temp_column_name",
]

logger = logging.getLogger("django_singlestore.schema")

TEMP_SUFFIX = "__s2tmp"
REBUILD_SUFFIX = "__s2_rebuild"
FENCE_SUFFIX = "__s2_fence"
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


def fence_table_name(table: str) -> str:
    """The deterministic name a table is renamed to while its writes are fenced off."""
    return f"{table[:44]}{FENCE_SUFFIX}"


def keyed_columns(layout: TableLayout) -> set[str]:
    """The columns of the primary, shard, sort and unique keys, and the demoted AUTO_INCREMENT id."""
    keyed = {c for key in layout.unique_keys for c in key.columns}
    keyed.update(layout.shard_key or (), layout.primary_key or (), layout.sort_key or ())
    if layout.demoted_key:
        keyed.add(layout.demoted_key)
    return keyed


def syncs_auto_increment(model: Any, layout: TableLayout) -> bool:
    """Whether explicitly inserted ids leave the AUTO_INCREMENT counter behind (sharded tables)."""
    auto = any(f.get_internal_type() in AUTO_FIELD_TYPES for f in model._meta.local_concrete_fields)
    return auto and not layout.is_reference


class AutoIncrementSyncWarning(UserWarning):
    """AGGREGATOR SYNC AUTO_INCREMENT failed after a table was copied into a new layout (a server that
    is not SingleStore): the table's counter may hand out ids the copied rows already have."""


class WriteFence:
    """`ALTER TABLE t RENAME TO t__s2_fence` and back: while closed, writes to `t` fail (1146, reported
    as retryable by the backend). Logs how long writes were fenced off."""

    def __init__(self, editor: Any, table: str) -> None:
        self.editor = editor
        self.table = table
        self.name = fence_table_name(table)
        self.closed_at: float | None = None
        self.gap_ms: float | None = None  # how long writes were fenced off, once reopened

    def _rename(self, old: str, new: str) -> None:
        q = self.editor.quote_name
        self.editor.execute(self.editor.sql_rename_table % {"old_table": q(old), "new_table": q(new)})

    def close(self) -> None:
        # Counted from the start: new writes queue behind the rename while it waits for running DML.
        self.closed_at = time.monotonic()
        self._rename(self.table, self.name)

    def reopen(self, replacement: str | None = None) -> None:
        """Writes work again: the original is renamed back, or `replacement` takes the table's name."""
        self._rename(replacement or self.name, self.table)
        if self.closed_at is not None:
            self.gap_ms = (time.monotonic() - self.closed_at) * 1000
            logger.info("writes to %s were fenced off for %.1f ms", self.table, self.gap_ms)
            self.editor.write_gaps.append((self.table, self.gap_ms))


@dataclass
class TableRebuild:
    """Create `old_model`'s table again as `new_model` (layout `layout`), keeping every row and every
    write made meanwhile. `renames` maps a new column to the old column it is copied from."""

    editor: Any
    old_model: Any
    new_model: Any
    layout: TableLayout
    what: str
    renames: dict[str, str] = field(default_factory=dict)

    sql_drop_if_exists = "DROP TABLE IF EXISTS %(table)s"
    sql_any_row = "SELECT 1 FROM %(table)s LIMIT 1"
    sql_count = "SELECT COUNT(*) FROM %(table)s"
    sql_copy = "INSERT INTO %(target)s (%(columns)s) SELECT %(sources)s FROM %(source)s o"
    sql_delete_stale = (
        "DELETE s FROM %(target)s s LEFT JOIN %(source)s o ON %(join)s "
        "WHERE o.%(source_probe)s IS NULL OR NOT (%(same)s)"
    )
    sql_insert_missing = (
        "INSERT INTO %(target)s (%(columns)s) SELECT %(sources)s FROM %(source)s o "
        "LEFT JOIN %(target)s s ON %(join)s WHERE s.%(target_probe)s IS NULL"
    )
    sql_count_differences = (
        "SELECT COUNT(*) FROM %(source)s o LEFT JOIN %(target)s s ON %(join)s "
        "WHERE s.%(target_probe)s IS NULL OR NOT (%(same)s)"
    )
    # While writes are fenced off, on a one-column key: find the rows that changed since the live pass
    # (two scans), then touch and check only those.
    sql_changed_keys = (
        "SELECT o.%(source_probe)s FROM %(source)s o LEFT JOIN %(target)s s ON %(join)s "
        "WHERE s.%(target_probe)s IS NULL OR NOT (%(same)s)"
    )
    sql_orphan_keys = (
        "SELECT s.%(target_probe)s FROM %(target)s s LEFT JOIN %(source)s o ON %(join)s "
        "WHERE o.%(source_probe)s IS NULL"
    )
    sql_delete_keys = "DELETE FROM %(target)s WHERE %(target_probe)s IN (%(keys)s)"
    sql_insert_keys = (
        "INSERT INTO %(target)s (%(columns)s) SELECT %(sources)s FROM %(source)s o "
        "WHERE o.%(source_probe)s IN (%(keys)s)"
    )
    sql_count_key_differences = (
        "SELECT COUNT(*) FROM %(source)s o LEFT JOIN %(target)s s ON %(join)s "
        "WHERE o.%(source_probe)s IN (%(keys)s) AND (s.%(target_probe)s IS NULL OR NOT (%(same)s))"
    )
    key_batch = 1000  # keys per statement
    max_changed_keys = 20_000  # more changed rows: the whole-table statements
    sql_sync_auto_increment = "AGGREGATOR SYNC AUTO_INCREMENT ON %(database)s.%(table)s ALL"
    # `o` is the original, `s` the copy.
    sql_source_column = "o.%(column)s"
    sql_fill_nulls = "COALESCE(%(expression)s, %(default)s)"
    sql_same = "s.%(column)s <=> %(expression)s"
    sql_same_bytes = "CAST(s.%(column)s AS BINARY) <=> CAST(%(expression)s AS BINARY)"

    def __post_init__(self) -> None:
        self.table: str = self.old_model._meta.db_table
        self.scratch = scratch_table_name(self.table)
        self.fence = WriteFence(self.editor, self.table)
        self.sync = syncs_auto_increment(self.new_model, self.layout)
        self._plan()

    # --- The copy's columns, computed once -------------------------------------------------------------

    def _plan(self) -> None:
        q = self.editor.quote_name
        old_fields = {f.column: f for f in self.old_model._meta.local_concrete_fields if not f.generated}
        targets: list[str] = []
        sources: list[str] = []
        source_params: list[Any] = []
        same: list[str] = []
        same_params: list[Any] = []
        new_of_old: dict[str, str] = {}
        for f in self.new_model._meta.local_concrete_fields:
            if f.generated:
                continue
            source_column = self.renames.get(f.column, f.column)
            if f.has_db_default():
                default_sql, default_params = self.editor.db_default_sql(f)
            else:
                default_sql, default_params = "%s", [self.editor.effective_default(f)]
            targets.append(q(f.column))
            old = old_fields.get(source_column)
            if old is None:
                sources.append(default_sql)
                source_params.extend(default_params)
                continue
            new_of_old[source_column] = f.column
            expression, params = self.sql_source_column % {"column": q(source_column)}, []
            if old.null and not f.null:
                # NULL -> NOT NULL: the field's default fills the NULLs.
                expression = self.sql_fill_nulls % {"expression": expression, "default": default_sql}
                params = list(default_params)
            sources.append(expression)
            source_params.extend(params)
            # Two collations cannot be compared with each other: compare the bytes.
            bytewise = getattr(old, "db_collation", None) != getattr(f, "db_collation", None)
            template = self.sql_same_bytes if bytewise else self.sql_same
            same.append(template % {"column": q(f.column), "expression": expression})
            same_params.extend(params)
        old_pk = self.old_model._meta.pk
        key = [c.column for c in getattr(old_pk, "fields", [old_pk])] if old_pk is not None else []
        #: (old column, new column) pairs a row is matched on; None: the copy keeps no key.
        self.key: list[tuple[str, str]] | None = (
            [(c, new_of_old[c]) for c in key] if key and all(c in new_of_old for c in key) else None
        )
        self.source_params, self.same_params = source_params, same_params
        self.parts: dict[str, str] = {
            "target": q(self.scratch),
            "columns": ", ".join(targets),
            "sources": ", ".join(sources),
            "same": " AND ".join(same) or "TRUE",
        }
        if self.key is not None:
            self.parts.update(
                join=" AND ".join(f"s.{q(new)} = o.{q(old)}" for old, new in self.key),
                source_probe=q(self.key[0][0]),
                target_probe=q(self.key[0][1]),
            )

    def _sql(self, template: str, source: str) -> str:
        return template % {**self.parts, "source": self.editor.quote_name(source)}

    # --- Running it ----------------------------------------------------------------------------------

    def run(self) -> None:
        editor = self.editor
        if self.resume():
            return  # an interrupted rebuild was finished
        if editor.collect_sql:
            editor.collected_sql.append(
                f"-- {self.old_model._meta.label}: {self.what}; the table is created again: when it is "
                f"empty as below, otherwise copied into {self.scratch}, reconciled while writes are "
                f"fenced off ({self.fence.name}) and swapped in"
            )
            self._recreate_empty()
            return
        if self._is_empty(self.table) and self._recreate_empty():
            return
        self._copy()

    def _is_empty(self, table: str) -> bool:
        with self.editor.connection.cursor() as cursor:
            cursor.execute(self.sql_any_row % {"table": self.editor.quote_name(table)})
            return cursor.fetchone() is None

    def _recreate_empty(self) -> bool:
        """Fence the table; if it is still empty, create it again. False (fence reopened): rows came."""
        self.fence.close()
        if not self.editor.collect_sql and not self._is_empty(self.fence.name):
            self.fence.reopen()
            return False
        self.editor.forget_deferred(self.table)
        self.editor.create_table_now(self.new_model, run_deferred=False)
        self.fence.gap_ms = (time.monotonic() - (self.fence.closed_at or 0)) * 1000
        self.editor.write_gaps.append((self.table, self.fence.gap_ms))
        self._drop(self.fence.name)
        return True

    def _drop(self, table: str) -> None:
        self.editor.execute(self.sql_drop_if_exists % {"table": self.editor.quote_name(table)})

    def _copy(self) -> None:
        editor = self.editor
        self._drop(self.scratch)
        editor.create_table_now(
            editor.model_variant(self.new_model, db_table=self.scratch), run_deferred=True
        )
        fence_first = self.key is None  # nothing to match rows on: no write may happen during the copy
        if fence_first:
            self.fence.close()
        source = self.fence.name if fence_first else self.table
        try:
            editor.execute(self._sql(self.sql_copy, source), self.source_params)
            if not fence_first:
                self._reconcile(source)  # catch up while writes go on: the fenced pass has less to do
        except DatabaseError as exc:
            self._abandon(fence_first)
            raise self._failed(exc) from exc
        if not fence_first:
            self.fence.close()
        try:
            if fence_first:
                self._verify(self.fence.name)
            elif not self._reconcile_changed(self.fence.name):
                self._reconcile(self.fence.name)
                self._verify(self.fence.name)
            if self.sync:
                self.sync_auto_increment(self.scratch)
        except DatabaseError as exc:
            self._abandon(True)
            raise self._failed(exc) from exc
        self.fence.reopen(replacement=self.scratch)
        self._drop(self.fence.name)
        editor.forget_deferred(self.table)

    def _abandon(self, fenced: bool) -> None:
        """Put the original back (unchanged) and drop the scratch table."""
        if fenced:
            self.fence.reopen()
        self._drop(self.scratch)

    def _failed(self, exc: DatabaseError) -> DatabaseError:
        error = IntegrityError if isinstance(exc, IntegrityError) else DataError
        return error(
            f"{self.old_model._meta.label}: {self.what}: copying {self.table} into its new layout failed "
            f"({exc}). Nothing was changed: the table was left as it was."
        )

    def _reconcile(self, source: str) -> None:
        """Make the scratch table equal `source`: delete copies that differ or whose original is gone,
        insert the originals that have no copy."""
        self.editor.execute(self._sql(self.sql_delete_stale, source), self.same_params)
        self.editor.execute(self._sql(self.sql_insert_missing, source), self.source_params)

    def _by_keys(self, template: str, source: str, keys: list[Any], before=(), after=()) -> Iterator[Any]:
        """(sql, params) of `template` for `keys`, key_batch keys at a time."""
        for i in range(0, len(keys), self.key_batch):
            batch = keys[i : i + self.key_batch]
            placeholders = ", ".join(["%s"] * len(batch))
            sql = template % {**self.parts, "source": self.editor.quote_name(source), "keys": placeholders}
            yield sql, [*before, *batch, *after]

    def _reconcile_changed(self, source: str) -> bool:
        """Reconcile and verify by key: the rows of `source` that differ from (or lack) their copy and the
        copies whose original is gone are found in two scans; only those are deleted, copied again and
        compared. False when this does not apply (a key of several columns, sqlmigrate, too many rows
        changed): the whole-table statements do it instead."""
        if self.editor.collect_sql or self.key is None or len(self.key) != 1:
            return False
        with self.editor.connection.cursor() as cursor:
            cursor.execute(self._sql(self.sql_changed_keys, source), self.same_params or None)
            changed = [row[0] for row in cursor.fetchall()]
            if len(changed) > self.max_changed_keys:
                return False
            cursor.execute(self._sql(self.sql_orphan_keys, source))
            gone = [row[0] for row in cursor.fetchall()]
        for sql, params in self._by_keys(self.sql_delete_keys, source, gone + changed):
            self.editor.execute(sql, params)
        for sql, params in self._by_keys(self.sql_insert_keys, source, changed, self.source_params):
            self.editor.execute(sql, params)
        differences = 0
        with self.editor.connection.cursor() as cursor:
            for sql, params in self._by_keys(
                self.sql_count_key_differences, source, changed, (), self.same_params
            ):
                cursor.execute(sql, params)
                differences += int(cursor.fetchone()[0])
        if differences:
            raise DataError(f"{differences} row(s) differ from their copy (a value the new type cannot hold)")
        return True

    def _verify(self, source: str) -> None:
        """Every row of the (fenced) original equals its copy, and no copy is extra."""
        if self.editor.collect_sql:
            return
        differences = 0
        with self.editor.connection.cursor() as cursor:
            if self.key is not None:
                cursor.execute(self._sql(self.sql_count_differences, source), self.same_params or None)
                differences = int(cursor.fetchone()[0])
            q = self.editor.quote_name
            cursor.execute(self.sql_count % {"table": q(source)})
            before = int(cursor.fetchone()[0])
            cursor.execute(self.sql_count % {"table": q(self.scratch)})
            after = int(cursor.fetchone()[0])
        if differences or before != after:
            raise DataError(
                f"the copy holds {after} row(s) for {before}, and {differences} row(s) differ from their "
                f"copy (a value the new column type cannot hold unchanged)"
            )

    def sync_auto_increment(self, table: str) -> None:
        """Raise the AUTO_INCREMENT counters of every aggregator above the copied ids (explicit ids do not
        advance them on a sharded table). A server that does not know the statement (not SingleStore)
        is told in a warning: then the counter may hand out ids that the copied rows already have."""
        q = self.editor.quote_name
        statement = self.sql_sync_auto_increment % {
            "database": q(self.editor.connection.settings_dict["NAME"]),
            "table": q(table),
        }
        if self.editor.collect_sql:
            self.editor.execute(statement)
            return
        try:
            with self.editor.connection.cursor() as cursor:
                cursor.execute(statement)
        except DatabaseError as exc:
            warnings.warn(
                f"{statement} failed ({exc}); the AUTO_INCREMENT counter of {table} was not synced.",
                AutoIncrementSyncWarning,
                stacklevel=2,
            )

    # --- Resuming after a crash ------------------------------------------------------------------------

    def resume(self) -> bool:
        """Finish or undo an interrupted attempt, from which of the table, its scratch table and its
        fence exist. True when the rebuild is done."""
        editor = self.editor
        if editor.collect_sql:
            return False
        with editor.connection.cursor() as cursor:
            names = set(editor.connection.introspection.table_names(cursor))
        table, scratch, fence = self.table in names, self.scratch in names, self.fence.name in names
        if fence and not table:
            # Stopped while writes were fenced off: the fenced original holds every write. Put it back
            # and start again (a scratch table is an unfinished copy).
            self.fence.reopen()
            if scratch:
                self._drop(self.scratch)
            return False
        if fence:
            # Stopped after the swap (or after an empty table was created again): the table is new.
            if not self.already_rebuilt():
                raise DatabaseError(
                    f"{self.old_model._meta.label}: both {self.table} and {self.fence.name} exist and "
                    f"{self.table} is not in its new shape; an earlier rebuild stopped in a state this "
                    f"one cannot tell apart. Compare the two tables and drop the one to discard."
                )
            self._drop(self.fence.name)
        elif table and scratch:
            self._drop(self.scratch)  # a copy that did not finish
            return False
        elif scratch:
            # An earlier version of this backend dropped the original before the rename.
            editor.execute(
                editor.sql_rename_table
                % {"old_table": editor.quote_name(self.scratch), "new_table": editor.quote_name(self.table)}
            )
        elif not table:
            editor.create_table_now(self.new_model, run_deferred=False)  # nothing held rows
            return True
        elif not self.already_rebuilt():
            return False
        if self.sync:
            self.sync_auto_increment(self.table)
        return True

    def already_rebuilt(self) -> bool:
        """The table already is what the rebuild makes (and not what it starts from)."""
        from django_singlestore.alter import table_matches

        introspection = self.editor.connection.introspection
        with self.editor.connection.cursor() as cursor:
            storage_type = introspection.get_storage_type(cursor, self.table)
            table = introspection.get_create_table(cursor, self.table)
        if table is None:
            return False
        return table_matches(self.editor, self.new_model, table, storage_type) and not table_matches(
            self.editor, self.old_model, table, storage_type
        )


@contextmanager
def recorded(editor: Any, description: str) -> Iterator[None]:
    """Record a finished schema change of this migration; a failure names the ones that finished
    before it (they are kept, and a new `migrate` resumes after them)."""
    try:
        yield
    except DatabaseError as exc:
        if editor.completed_changes:
            exc.add_note(
                "Applied before this error, in the same migration (kept; running `migrate` again "
                "resumes after them): " + "; ".join(editor.completed_changes) + "."
            )
        raise
    editor.completed_changes.append(description)
