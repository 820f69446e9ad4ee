"""SQL compilers: Django's MySQL compilers, with SingleStore's SQL for the nodes in `functions.py`, and
UPDATE statements that respect SingleStore's shard keys.

"Sharded tables do not support UPDATE queries that modify the shard key" (SingleStore docs,
distributed SQL surface area). Django writes every field into the SET list of `save()`, so:

* a shard-key column whose value does not change for any matched row is left out of the SET list
  (`save()`, `bulk_update`, the admin); `ON DUPLICATE KEY UPDATE` (bulk_create with update_conflicts)
  never sets shard-key columns: the conflicting row has the same values there, because every unique
  key contains the shard key;
* rows whose shard-key value does change are **moved** in one transaction: the other columns are
  updated in place, the old rows are deleted and inserted again with their new shard-key values,
  keeping their primary key (the AUTO_INCREMENT id too). That needs a primary key that is not itself
  part of the shard key (foreign keys point at it), and, without transactions (skip_autocommit),
  constant new values (then the new row is inserted before the old one is deleted); otherwise
  NotSupportedError names the model and the field.
"""

from __future__ import annotations

import datetime
import weakref
from typing import Any

from django.apps import apps as global_apps
from django.db import NotSupportedError, transaction
from django.db.backends.mysql import compiler as mysql_compiler
from django.db.models import Model, Q, QuerySet, Value
from django.db.models.constants import OnConflict
from django.db.models.sql.constants import MULTI, ROW_COUNT
from django.db.models.sql.query import Query
from django.db.models.sql.subqueries import DeleteQuery

from django_singlestore.functions import compile_singlestore
from django_singlestore.layout import TableLayout, resolve_layout


class SingleStoreCompileMixin:
    def compile(self, node):
        compiled = compile_singlestore(node, self, self.connection)  # type: ignore[attr-defined]
        if compiled is not None:
            return compiled
        return super().compile(node)  # type: ignore[misc]


def table_layout(connection: Any, model: type[Model]) -> TableLayout:
    """The model's layout on this alias, cached per connection wrapper (settings do not change while
    a wrapper lives; a test that changes them builds a new alias)."""
    cache: weakref.WeakKeyDictionary[type[Model], TableLayout] | None = getattr(
        connection, "_singlestore_layouts", None
    )
    if cache is None:
        # Weak keys: migrations render many short-lived model classes.
        cache = weakref.WeakKeyDictionary()
        connection._singlestore_layouts = cache
    layout = cache.get(model)
    if layout is None:
        layout = cache[model] = resolve_layout(model, connection)
    return layout


def shard_key_columns(connection: Any, model: type[Model]) -> frozenset[str]:
    """The shard-key columns of a sharded table (empty for reference tables and keyless sharding).

    A migration's historical model may lack keys its table has (e.g. the state a RenameModel's
    content-type and permission renames see), so for such a model the installed model of the same
    table counts too: treating a column as part of the shard key only costs a row move, while
    missing one sends an UPDATE SingleStore refuses (1706)."""
    model = model._meta.concrete_model or model  # a proxy updates its concrete model's table
    columns = _own_shard_key_columns(connection, model)
    live = _installed_model(model)
    if live is not None:
        columns |= _own_shard_key_columns(connection, live)
    return columns


def _installed_model(model: type[Model]) -> type[Model] | None:
    """The installed model behind a historical (migration state) model of the same table, if any."""
    opts = model._meta
    if opts.apps is global_apps:
        return None
    try:
        live = global_apps.get_model(opts.app_label, opts.model_name)
    except LookupError:
        return None
    live = live._meta.concrete_model or live
    return live if live._meta.db_table == opts.db_table else None


def _own_shard_key_columns(connection: Any, model: type[Model]) -> frozenset[str]:
    opts = model._meta
    if not opts.managed:
        return frozenset()
    layout = table_layout(connection, model)
    if layout.is_reference or layout.errors or not layout.shard_key:
        return frozenset()
    return frozenset(layout.shard_key)


class SQLCompiler(SingleStoreCompileMixin, mysql_compiler.SQLCompiler):
    #: How Django spells an ordered compound query (requires_compound_order_by_subquery).
    _WRAPPED_COMPOUND = "SELECT * FROM ("

    def as_sql(self, with_limits=True, with_col_aliases=False):
        # Django puts the EXPLAIN prefix of a compound query inside the wrapper below and inside the one
        # of an ordered compound query (requires_compound_order_by_subquery); it goes in front of the
        # whole statement.
        if not self.query.combinator:
            return super().as_sql(with_limits, with_col_aliases)
        explain = self.query.explain_info
        self.query.explain_info = None
        try:
            sql, params = self._compound_sql(with_limits, with_col_aliases)
        finally:
            self.query.explain_info = explain
        if explain is None:
            return sql, params
        prefix = self.connection.ops.explain_query_prefix(explain.format, **explain.options)
        return f"{prefix} {sql}", params

    def _compound_sql(self, with_limits, with_col_aliases):
        """A sliced compound query without ORDER BY, as `SELECT * FROM (a UNION b) LIMIT n`: with
        unparenthesised members (supports_slicing_ordering_in_compound is False) a trailing LIMIT
        limits only the last member on SingleStore ("LIMIT with UNION affects only the second part of
        the union")."""
        if not (with_limits and self.query.is_sliced):
            return super().as_sql(with_limits, with_col_aliases)
        sql, params = super().as_sql(False, with_col_aliases)
        if sql.startswith(self._WRAPPED_COMPOUND):  # ordered: the LIMIT follows the derived table
            return super().as_sql(with_limits, with_col_aliases)
        limit = self.connection.ops.limit_offset_sql(self.query.low_mark, self.query.high_mark)
        return f"{self._WRAPPED_COMPOUND} {sql} ) {limit}", params


class SQLInsertCompiler(SingleStoreCompileMixin, mysql_compiler.SQLInsertCompiler):
    def prepare_value(self, field, value):
        """Dates before 1000 refused; a value holding a subquery evaluated first, by its own SELECT:
        SingleStore refuses a subselect inside VALUES ("Feature 'select within values clause' is not
        supported")."""
        check_date_range(field, value)
        value = super().prepare_value(field, value)
        flatten = getattr(value, "flatten", None)
        if flatten is not None and any(isinstance(node, Query) for node in flatten()):
            sql, params = self.compile(value)
            with self.connection.cursor() as cursor:
                cursor.execute(f"SELECT {sql}", params)
                row = cursor.fetchone()
            return None if row is None else row[0]
        return value

    def as_sql(self):
        query = self.query
        if query.on_conflict != OnConflict.UPDATE or not query.update_fields:
            return super().as_sql()
        shard = shard_key_columns(self.connection, query.model)
        kept = [f for f in query.update_fields if f.column not in shard]
        if len(kept) == len(query.update_fields):
            return super().as_sql()
        saved = query.update_fields, query.on_conflict
        # Nothing left to set: a conflicting row stays as it is, which is INSERT IGNORE.
        query.update_fields = kept
        query.on_conflict = OnConflict.UPDATE if kept else OnConflict.IGNORE
        try:
            return super().as_sql()
        finally:
            query.update_fields, query.on_conflict = saved


class SQLDeleteCompiler(SingleStoreCompileMixin, mysql_compiler.SQLDeleteCompiler):
    def execute_sql(self, result_type=MULTI):
        """A DELETE from a REFERENCE table filtered through other tables: the primary keys first, then
        `DELETE ... WHERE pk IN (...)`. SingleStore refuses MySQL's `DELETE t FROM t JOIN ...` there
        (1706 "Multi-table UPDATE/DELETE with a reference table as target table", docs: query errors)."""
        if result_type != ROW_COUNT or self.single_alias or not self._reference_target():
            return super().execute_sql(result_type)
        model = self.query.model
        pks = self.query.clone()
        pks.__class__ = Query
        pks.clear_select_clause()
        pks.clear_ordering(force=True)
        pks.select = [model._meta.pk.get_col(self.query.get_initial_alias())]
        with transaction.atomic(using=self.using, savepoint=False):
            found = [row[0] for rows in pks.get_compiler(self.using).execute_sql(MULTI) for row in rows]
            if not found:
                return 0
            return DeleteQuery(model).delete_batch(found, self.using)

    def _reference_target(self) -> bool:
        model = self.query.model
        return model is not None and model._meta.managed and table_layout(self.connection, model).is_reference


class SQLUpdateCompiler(SingleStoreCompileMixin, mysql_compiler.SQLUpdateCompiler):
    def as_sql(self):
        # SingleStore's UPDATE has no ORDER BY (docs: UPDATE grammar), which Django's MySQL compiler
        # adds for an ordered queryset (`qs.order_by("-pos").update(...)`): never sent.
        for field, _model, value in self.query.values:
            check_date_range(field, value)
        if not self.query.order_by:
            return super().as_sql()
        ordering = self.query.order_by
        self.query.order_by = ()
        try:
            return super().as_sql()
        finally:
            self.query.order_by = ordering

    def execute_sql(self, result_type):
        model = self.query.model
        shard = shard_key_columns(self.connection, model) if model is not None else frozenset()
        changes = [(f, m, v) for f, m, v in self.query.values if f.column in shard]
        if not changes:
            return super().execute_sql(result_type)
        return self._update_shard_key(result_type, changes)

    def _update_shard_key(self, result_type, changes):
        model = self.query.model
        alias = self.using
        same = Q()
        for field, _model, value in changes:
            same &= Q(**{field.attname: _plain(value)})
        # Rows whose shard-key values would change (decided before anything is written).
        probe = self.query.chain(klass=Query)
        probe.add_q(~same)
        movers = list(QuerySet(model=model, query=probe, using=alias).values_list("pk", flat=True))
        rest = [v for v in self.query.values if v not in changes]
        transactional = self.connection.features.supports_transactions
        if movers:
            self._check_movable(changes, transactional)
        with transaction.atomic(using=alias, savepoint=False):
            if rest:
                in_place = self.query.chain()
                in_place.values = rest
                in_place.related_updates = {}
                row_count = in_place.get_compiler(alias).execute_sql(ROW_COUNT) or 0
            else:
                counter = self.query.chain(klass=Query)
                row_count = counter.get_count(using=alias)
            if movers:
                self._move_rows(movers, changes, same, transactional)
        for query in self.query.get_related_updates():
            query.get_compiler(alias).execute_sql(result_type)
        return row_count

    def _check_movable(self, changes, transactional: bool) -> None:
        model = self.query.model._meta.concrete_model
        layout = table_layout(self.connection, model)
        for field, _model, value in changes:
            where = f"{model._meta.label}.{field.name}"
            if layout.primary_key is not None and field.column in layout.primary_key:
                raise NotSupportedError(
                    f"SingleStore cannot change {where}: it is in the shard key of a sharded table and in "
                    f"its primary key, so the row cannot be moved keeping its primary key."
                )
            if _is_expression(value) and not transactional:
                raise NotSupportedError(
                    f"SingleStore cannot change {where} to an expression without a transaction "
                    f"(skip_autocommit): it is in the shard key of a sharded table, and rows are moved "
                    f"without a transaction only for constant new values."
                )

    def _move_rows(self, movers, changes, same, transactional: bool) -> None:
        """Write each moving row again with its new shard-key values, keeping its primary key, and
        delete the old one. In a transaction (the caller's atomic block): delete the old rows, then
        insert the new ones, so values may be expressions and may swap between rows (e.g.
        `F("number") + 1` on a unique column). Without transactions (skip_autocommit): insert first,
        then delete, so a failure leaves a duplicate, never a lost row; constants only."""
        model = self.query.model._meta.concrete_model
        alias = self.using
        manager = model._base_manager.db_manager(alias)
        computed = {
            f"_singlestore_new_{i}": value
            for i, (_f, _m, value) in enumerate(changes)
            if _is_expression(value)
        }
        rows = list(manager.filter(pk__in=movers).exclude(same).annotate(**computed))
        fields = [f for f in model._meta.local_concrete_fields if not f.generated]
        for row in rows:
            for i, (field, _model, value) in enumerate(changes):
                new = getattr(row, f"_singlestore_new_{i}") if _is_expression(value) else _plain(value)
                setattr(row, field.attname, new)
        if transactional:
            manager.filter(pk__in=movers).exclude(same)._raw_delete(alias)
            manager._insert(rows, fields=fields, raw=True, using=alias)
        else:
            manager._insert(rows, fields=fields, raw=True, using=alias)
            manager.filter(pk__in=movers).exclude(same)._raw_delete(alias)


class SQLAggregateCompiler(SingleStoreCompileMixin, mysql_compiler.SQLAggregateCompiler):
    pass


def check_date_range(field: Any, value: Any) -> None:
    """SingleStore's DATE and DATETIME start at 1000-01-01 (docs: data types, time and date): refuse an
    earlier value before the round trip, naming the field."""
    if isinstance(value, datetime.date) and value.year < 1000 and hasattr(field, "model"):
        raise ValueError(
            f"SingleStore cannot store {value.isoformat()} in {field.model._meta.label}.{field.name}: "
            f"DATE and DATETIME values start at 1000-01-01."
        )


def _is_expression(value: Any) -> bool:
    return hasattr(value, "resolve_expression") and not isinstance(value, Value)


def _plain(value: Any) -> Any:
    """The Python value an UPDATE sets (a model instance for a foreign key gives its pk)."""
    if isinstance(value, Value):
        value = value.value
    if isinstance(value, Model):
        return value.pk
    return value
