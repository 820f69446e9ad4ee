"""Table layout: which storage a model's table gets, and which shard key, sort key and unique keys.

SingleStore's rules (singlestore-semantics.md §1, docs "Why do I get errors about UNIQUE KEYs?"):
a sharded table's unique keys, the primary key included, must each contain every shard-key column;
a columnstore table cannot hold several unique keys when one of them has several columns; a
reference table needs a primary key and may hold any unique keys (it has no shard key).

`resolve_layout()` is a deterministic function of the model (its fields, unique constraints and
declared keys, as its migrations record them) and of the alias's storage settings. Precedence of the
storage: the model's `ModelStorageManager` > `OPTIONS["app_table_storage_types"]` >
`DJANGO_SINGLESTORE_TABLE_STORAGE_TYPE_<APP>` > `OPTIONS["table_storage_type"]` > the automatic
layout > the server default (columnstore, written without a prefix).

The automatic layout, tried in order:

1. **primary key** — no unique key besides the primary key: shard on the primary key (columnstore).
2. **shared columns** — every unique key (primary key included) shares some columns: shard on them.
3. **id demoted** — the primary key is an AUTO_INCREMENT column and the other unique keys share
   columns: SingleStore's documented workaround. The id becomes a plain `KEY (id)` (AUTO_INCREMENT
   values are unique by construction), the table is sharded on the shared columns, and the unique
   keys stay enforced. Django still uses `id` as the model's pk.
4. In 1-3 a columnstore table cannot hold several unique keys with a multi-column one, nor a FLOAT
   or DOUBLE column in its primary key: the table is then a sharded **ROWSTORE** with the same keys.
5. **reference** — no sharded layout exists (a non-AUTO_INCREMENT primary key beside another
   unique key, or unique keys with no column in common): `ROWSTORE REFERENCE`.

With an explicit sharded storage (settings or the model), steps 1-3 choose the keys and a model
they cannot hold is reported by the system check `singlestore.E001` before `migrate`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models.fields.composite import CompositePrimaryKey

from django_singlestore.options import (
    NOT_ENFORCED_UNIQUE_ENV_PREFIX,
    STORAGE_ENV_PREFIX,
    STORAGE_TYPES,
    ConnectionOptions,
    normalize_storage,
)
from django_singlestore.storage import Storage

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

__all__ = [
    "AUTO_FIELD_TYPES",
    "NOT_ENFORCED_UNIQUE_ENV_PREFIX",  # re-exported: options.py reads the environment
    "STORAGE_ENV_PREFIX",
    "STORAGE_TYPES",
    "LayoutRule",
    "RowstoreFallback",
    "Storage",
    "TableLayout",
    "UniqueKey",
    "layout_signature",
    "model_storage_setting",
    "resolve_layout",
]

AUTO_FIELD_TYPES = ("AutoField", "BigAutoField", "SmallAutoField")


@dataclass(frozen=True)
class UniqueKey:
    """One unique key of the model: its name (None for an inline `unique=True`) and its columns."""

    name: str | None
    columns: tuple[str, ...]
    enforced: bool = True


class LayoutRule(StrEnum):
    """Which rule gave a table its keys (the module docstring's steps), or where a layout came from."""

    PRIMARY_KEY = "primary key"
    SHARED_COLUMNS = "shared columns"
    ID_DEMOTED = "id demoted"
    REFERENCE = "reference"
    DECLARED_SHARD_KEY = "declared shard key"
    INVALID = "invalid"
    INTROSPECTED = "introspected"

    @property
    def reason(self) -> str:
        return _RULE_REASONS.get(self, self.value)


_RULE_REASONS = {
    LayoutRule.PRIMARY_KEY: "no unique key besides the primary key",
    LayoutRule.SHARED_COLUMNS: "every unique key contains the shard-key columns",
    LayoutRule.ID_DEMOTED: "SingleStore's documented workaround for a unique column beside an AUTO_INCREMENT id",
    LayoutRule.REFERENCE: "no sharded layout can hold its unique keys",
    LayoutRule.DECLARED_SHARD_KEY: "ShardKey in Meta.indexes",
}


class RowstoreFallback(StrEnum):
    """Why step 4 moved a sharded layout from columnstore to rowstore."""

    MULTI_COLUMN_UNIQUE = "rowstore"
    FLOAT_KEY = "rowstore (float key)"

    @property
    def reason(self) -> str:
        if self is RowstoreFallback.FLOAT_KEY:
            return "a columnstore table's primary key cannot hold a FLOAT or DOUBLE column"
        return "a columnstore table cannot hold several unique keys with a multi-column one"


@dataclass(frozen=True)
class TableLayout:
    """What CREATE TABLE says about storage and keys. `shard_key` is None on reference tables and
    `()` for keyless sharding; `primary_key` is None when the AUTO_INCREMENT id was demoted to a
    plain key (`demoted_key`). A storage or rule given as a string is converted."""

    storage: Storage
    shard_key: tuple[str, ...] | None
    primary_key: tuple[str, ...] | None
    unique_keys: tuple[UniqueKey, ...]
    sort_key: tuple[str, ...] | None = None
    demoted_key: str | None = None
    rule: LayoutRule = LayoutRule.PRIMARY_KEY
    fallback: RowstoreFallback | None = None
    source: str = "automatic"
    reason: str = ""
    errors: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "storage", Storage.parse(self.storage, "TableLayout.storage"))
        object.__setattr__(self, "rule", LayoutRule(self.rule))

    @property
    def label(self) -> str:
        """The rule, and the rowstore step when it applied: "shared columns, rowstore"."""
        return f"{self.rule}, {self.fallback}" if self.fallback else str(self.rule)

    @property
    def is_reference(self) -> bool:
        return self.storage.reference

    @property
    def is_columnstore(self) -> bool:
        return self.storage.columnstore

    @property
    def storage_prefix(self) -> str:
        """What goes between CREATE and TABLE (`Storage.prefix`)."""
        return self.storage.prefix

    def describe(self) -> str:
        if self.is_reference:
            keys = f"primary key ({', '.join(self.primary_key or ())})"
        elif self.shard_key == ():
            keys = "keyless sharding"
        else:
            keys = f"shard key ({', '.join(self.shard_key or ())})"
        if self.demoted_key:
            keys += f", `{self.demoted_key}` kept as a plain KEY"
        return f"{self.storage}, {keys}"


def model_storage_setting(model: type[models.Model]) -> Storage | None:
    """The storage a model declares itself: a manager with `table_storage_type` (ModelStorageManager)."""
    for manager in model._meta.managers:
        storage = getattr(manager, "table_storage_type", None)
        if storage:
            return normalize_storage(storage, f"{model._meta.label}'s ModelStorageManager table_storage_type")
    return None


def connection_options(connection: BaseDatabaseWrapper | None) -> ConnectionOptions:
    """The alias's parsed options, or empty OPTIONS (the environment still applies) without one."""
    options = getattr(connection, "singlestore_options", None) if connection is not None else None
    return options if options is not None else ConnectionOptions()


def _storage_from_settings(
    model: type[models.Model], connection: BaseDatabaseWrapper | None
) -> tuple[Storage | None, str]:
    """(storage, source) from the precedence chain, or (None, "") when nothing is configured."""
    declared = model_storage_setting(model)
    if declared:
        return declared, "model"
    return connection_options(connection).app_storage(model._meta.app_label) or (None, "")


def unique_not_enforced(model: type[models.Model], connection: BaseDatabaseWrapper | None = None) -> bool:
    """The original README's test-only switch (`options.NOT_ENFORCED_UNIQUE_ENV_PREFIX`): single-field
    uniques written as `UNIQUE KEY ... UNENFORCED RELY`."""
    return connection_options(connection).unique_not_enforced(model._meta.app_label)


def _columns(model: type[models.Model], field_names: Iterable[str]) -> tuple[str, ...]:
    return tuple(model._meta.get_field(name).column for name in field_names)


def primary_key_columns(model: type[models.Model]) -> tuple[str, ...]:
    pk = model._meta.pk
    assert pk is not None
    if isinstance(pk, CompositePrimaryKey):
        return tuple(pk.columns)
    return (pk.column,)


def unique_keys(model: type[models.Model], connection: BaseDatabaseWrapper | None = None) -> list[UniqueKey]:
    """Every unique key the model asks for besides its primary key, in declaration order."""
    opts = model._meta
    keys: list[UniqueKey] = []
    not_enforced = unique_not_enforced(model, connection)
    for f in opts.local_concrete_fields:
        if f.unique and not f.primary_key and f.column:
            keys.append(UniqueKey(None, (f.column,), enforced=not not_enforced))
    for names in opts.unique_together:
        keys.append(UniqueKey(None, _columns(model, names)))
    for constraint in opts.constraints:
        if (
            isinstance(constraint, models.UniqueConstraint)
            and constraint.fields
            and not constraint.condition
            and not constraint.include
            and not constraint.deferrable  # not supported: Django does not create it
        ):
            keys.append(UniqueKey(constraint.name, _columns(model, constraint.fields)))
    deduped: list[UniqueKey] = []
    seen: set[tuple[str, ...]] = set()
    for key in keys:
        if key.columns not in seen:
            seen.add(key.columns)
            deduped.append(key)
    return deduped


def declared_keys(model: type[models.Model]) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    """(shard key, sort key) declared with `ShardKey` / `SortKey` in `Meta.indexes`, or None."""
    from django_singlestore.indexes import ShardKey, SortKey

    shard: tuple[str, ...] | None = None
    sort: tuple[str, ...] | None = None
    for index in model._meta.indexes:
        if isinstance(index, ShardKey):
            shard = _columns(model, index.fields)
        elif isinstance(index, SortKey):
            sort = _columns(model, index.fields)
    return shard, sort


def _shared(column_sets: Sequence[tuple[str, ...]]) -> tuple[str, ...]:
    """The columns every set has, in the order of the first set."""
    if not column_sets:
        return ()
    first, *rest = column_sets
    return tuple(c for c in first if all(c in s for s in rest))


def _columnstore_can_hold(keys: Sequence[tuple[str, ...]]) -> bool:
    """'multiple UNIQUE indexes with at least one index containing multiple columns on columnstore
    table' is not supported (the primary key counts)."""
    return len(keys) < 2 or all(len(k) == 1 for k in keys)


def _float_columns(model: type[models.Model]) -> set[str]:
    """Columns SingleStore stores as FLOAT/DOUBLE: not allowed in a columnstore table's primary key
    ("SingleStore does not support FLOAT/DOUBLE primary keys on ColumnStore tables", original README)."""
    return {
        f.column
        for f in model._meta.local_concrete_fields
        if f.column and f.get_internal_type() == "FloatField"
    }


def _auto_increment_pk(model: type[models.Model]) -> str | None:
    pk = model._meta.pk
    if pk is not None and getattr(pk, "column", None) and pk.get_internal_type() in AUTO_FIELD_TYPES:
        return pk.column
    return None


def resolve_layout(model: type[models.Model], connection: BaseDatabaseWrapper | None = None) -> TableLayout:
    """The layout of `model`'s table on `connection`'s alias (see the module docstring)."""
    storage, source = _storage_from_settings(model, connection)
    pk = primary_key_columns(model)
    shard_declared, sort_key = declared_keys(model)
    base = TableLayout(
        storage or Storage.COLUMNSTORE,
        pk,
        pk,
        tuple(unique_keys(model, connection)),
        sort_key,
        source=source or "automatic",
    )
    if sort_key is not None and storage and storage.rowstore:
        return _invalid(base, f"a SORT KEY needs columnstore storage, not {storage}")
    if storage and storage.reference:
        if shard_declared is not None:
            return _invalid(base, "a reference table has no shard key")
        return replace(base, shard_key=None, rule=LayoutRule.REFERENCE, reason=f"{source} says {storage}")
    if shard_declared is not None:
        return _with_declared_shard_key(replace(base, source="model"), model, shard_declared)
    return _automatic(base, model, explicit=bool(storage))


def _enforced_columns(layout: TableLayout) -> list[tuple[str, ...]]:
    return [u.columns for u in layout.unique_keys if u.enforced]


def _candidates(base: TableLayout, auto_pk: str | None) -> Iterator[TableLayout]:
    """Steps 1-3: the sharded layouts that keep every enforced unique key, in order of preference."""
    enforced = _enforced_columns(base)
    if not enforced:
        yield base
        return
    shared = _shared([base.primary_key or (), *enforced])
    if shared:
        yield replace(base, shard_key=shared, rule=LayoutRule.SHARED_COLUMNS)
    shared_uniques = _shared(enforced)
    if auto_pk is not None and shared_uniques:
        yield replace(
            base, shard_key=shared_uniques, primary_key=None, demoted_key=auto_pk, rule=LayoutRule.ID_DEMOTED
        )


def _automatic(base: TableLayout, model: type[models.Model], *, explicit: bool) -> TableLayout:
    """Steps 1-5 (an explicit sharded storage keeps its storage: no rowstore step, no reference)."""
    candidates = list(_candidates(base, _auto_increment_pk(model)))
    floats = _float_columns(model)
    for layout in candidates:
        keys = _enforced_columns(layout) + ([layout.primary_key] if layout.primary_key else [])
        float_pk = bool(floats.intersection(layout.primary_key or ()))
        if not layout.is_columnstore or (_columnstore_can_hold(keys) and not (float_pk and not explicit)):
            return _explain(layout)
        if not explicit and layout.sort_key is None:
            fallback = RowstoreFallback.FLOAT_KEY if float_pk else RowstoreFallback.MULTI_COLUMN_UNIQUE
            return _explain(replace(layout, storage=Storage.ROWSTORE, fallback=fallback))
    if explicit:
        holdable = " that a columnstore table can hold" if candidates else ""
        return _invalid(base, f"its unique keys have no shard key in common{holdable}")
    return _explain(
        replace(
            base, storage=Storage.ROWSTORE_REFERENCE, shard_key=None, sort_key=None, rule=LayoutRule.REFERENCE
        )
    )


def _with_declared_shard_key(
    base: TableLayout, model: type[models.Model], shard: tuple[str, ...]
) -> TableLayout:
    missing = [u for u in base.unique_keys if u.enforced and not set(shard) <= set(u.columns)]
    if missing:
        names = ", ".join(u.name or "/".join(u.columns) for u in missing)
        return _invalid(base, f"unique key(s) {names} lack shard-key columns")
    primary, demoted = base.primary_key, None
    if not set(shard) <= set(primary or ()):
        demoted = _auto_increment_pk(model)
        if demoted is None:
            return _invalid(base, "the primary key lacks shard-key columns")
        primary = None
    keys = _enforced_columns(base) + ([primary] if primary else [])
    if base.storage is Storage.COLUMNSTORE and not _columnstore_can_hold(keys):
        return _invalid(base, "a columnstore table holds one multi-column unique key")
    return _explain(
        replace(
            base,
            shard_key=shard,
            primary_key=primary,
            demoted_key=demoted,
            rule=LayoutRule.DECLARED_SHARD_KEY,
        )
    )


def _explain(layout: TableLayout) -> TableLayout:
    reason = layout.rule.reason
    if layout.fallback:
        reason += "; " + layout.fallback.reason
    if layout.source != "automatic" and layout.rule is not LayoutRule.DECLARED_SHARD_KEY:
        reason = f"{layout.source} says {layout.storage}; " + reason
    return replace(layout, reason=reason)


def _invalid(base: TableLayout, why: str) -> TableLayout:
    """The layout a model asked for but SingleStore cannot hold: reported by singlestore.E001."""
    return replace(base, rule=LayoutRule.INVALID, reason=why, errors=(why,))


def layout_signature(layout: TableLayout) -> tuple[Any, ...]:
    """What CREATE TABLE fixes, to compare two layouts: storage, shard key, primary key, demoted id,
    sort key, then the unique keys (enforced and not)."""
    return (
        layout.storage,
        layout.shard_key,
        layout.primary_key,
        layout.demoted_key,
        layout.sort_key,
        frozenset((k.columns, k.enforced) for k in layout.unique_keys),
    )
