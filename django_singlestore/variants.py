"""Stand-in model classes: a model's table before or after one schema change, to compare layouts and to
create the table again (django_singlestore.rebuild)."""

from __future__ import annotations

import copy
from typing import Any

from django.apps.registry import Apps
from django.db import models
from django.db.models.fields.composite import CompositePrimaryKey

__all__ = ["model_variant"]


def model_variant(
    model: Any,
    *,
    add=None,
    remove=None,
    swap=None,
    unique_together=None,
    drop_constraint=None,
    add_constraint=None,
    drop_index=None,
    add_index=None,
    db_table=None,
):
    """A stand-in model class for `model`'s table with one change: its concrete fields (no
    many-to-many: their tables are not touched), storage managers, unique_together, indexes and
    constraints, in a registry of its own."""
    opts = model._meta
    fields = {f.name: f for f in opts.local_concrete_fields}
    if isinstance(opts.pk, CompositePrimaryKey):
        fields[opts.pk.name] = opts.pk
    renames: dict[str, str] = {}
    if add is not None:
        fields[add.name] = add
    if remove is not None:
        fields.pop(remove.name, None)
    if swap is not None:
        old_field, new_field = swap
        # The new version takes the old one's place (column order), or goes last.
        fields = {
            (new_field.name if n == old_field.name else n): (new_field if n == old_field.name else f)
            for n, f in fields.items()
        }
        fields.setdefault(new_field.name, new_field)
        renames[old_field.name] = new_field.name
    new_pk = swap[1].name if swap is not None and swap[1].primary_key else None
    if new_pk is not None:
        # A field that becomes the primary key replaces the old one (an auto-created id goes).
        fields = {n: f for n, f in fields.items() if n == new_pk or not (f.primary_key and f.auto_created)}
    removed = {remove.name} if remove is not None else set()
    together = opts.unique_together if unique_together is None else unique_together
    together = [[renames.get(n, n) for n in names] for names in together if not removed.intersection(names)]
    indexes = [
        index
        for index in opts.indexes
        if index is not drop_index
        and (drop_index is None or index.name != drop_index.name)
        and not removed.intersection(index.fields)
    ]
    if add_index is not None and all(index.name != add_index.name for index in indexes):
        indexes.append(add_index)
    constraints = [
        c
        for c in opts.constraints
        if c is not drop_constraint
        and (drop_constraint is None or c.name != drop_constraint.name)
        and not removed.intersection(getattr(c, "fields", ()) or ())
    ]
    if add_constraint is not None and all(c.name != add_constraint.name for c in constraints):
        constraints.append(add_constraint)
    body: dict[str, Any] = {name: copy.deepcopy(f) for name, f in fields.items()}
    first = min((f.creation_counter for f in body.values()), default=0)
    for position, (name, f) in enumerate(body.items()):
        # Django orders a model's fields by creation_counter: number the copies in table order, or a
        # field made for the migration (created last) would become the table's last column.
        f.creation_counter = first + position
        if new_pk is not None and name != new_pk and f.primary_key:
            f.primary_key = False
    for i, manager in enumerate(opts.managers):
        storage = getattr(manager, "table_storage_type", None)
        if storage:
            body[f"_s2_storage_{i}"] = type(manager)(table_storage_type=storage)
    body["Meta"] = type(
        "Meta",
        (),
        {
            "app_label": opts.app_label,
            "db_table": db_table or opts.db_table,
            "db_table_comment": opts.db_table_comment,
            "unique_together": together,
            "indexes": copy.deepcopy(indexes),
            "constraints": copy.deepcopy(constraints),
            "apps": Apps(),
        },
    )
    body["__module__"] = model.__module__
    return type(opts.object_name, (models.Model,), body)
