"""Models for the backend tests (app label `s2backend`; not an installed app, never migrated)."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Now


class Item(models.Model):
    name = models.CharField(max_length=100)
    note = models.TextField(null=True)
    data = models.JSONField(null=True)
    created = models.DateTimeField(null=True)
    day = models.DateField(null=True)
    at = models.TimeField(null=True)
    amount = models.DecimalField(max_digits=10, decimal_places=2, null=True)
    score = models.FloatField(null=True)
    count = models.IntegerField(default=0)

    class Meta:
        app_label = "s2backend"
        db_table = "s2_item"


class Counter(models.Model):
    """Conflicts on the primary key (the shard key): bulk_create ignore/update."""

    key = models.CharField(max_length=50, primary_key=True)
    value = models.IntegerField(default=0)
    label = models.CharField(max_length=50, default="")

    class Meta:
        app_label = "s2backend"
        db_table = "s2_counter"


class Documented(models.Model):
    title = models.CharField(max_length=50, db_comment="the title, shown to users")
    size = models.IntegerField(db_default=Value(5))
    kind = models.CharField(max_length=10, db_default="plain")
    stamped = models.DateTimeField(db_default=Now())

    class Meta:
        app_label = "s2backend"
        db_table = "s2_documented"
        db_table_comment = "models with comments and database defaults"


class Computed(models.Model):
    """GeneratedField -> `area AS (expr) PERSISTED bigint`."""

    width = models.IntegerField(default=2)
    height = models.IntegerField(default=3)
    area = models.GeneratedField(
        expression=F("width") * F("height"), output_field=models.BigIntegerField(), db_persist=True
    )

    class Meta:
        app_label = "s2backend"
        db_table = "s2_computed"


class Child(models.Model):
    """A ForeignKey: no constraint is created, only an index."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        app_label = "s2backend"
        db_table = "s2_child"
