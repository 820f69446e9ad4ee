"""More cases for the layout rules that hung on a single test (issue 19): the columnstore capacity rule
(several unique keys with a multi-column one) and the FLOAT/DOUBLE primary key rule. No server."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from django.db import models
from django.test.utils import isolate_apps

from django_singlestore.indexes import ShardKey, SortKey
from django_singlestore.layout import resolve_layout
from django_singlestore.schema import ModelStorageManager

pytestmark = pytest.mark.usefixtures("unit")


def create_sql(connection: Any, model: type[models.Model]) -> str:
    with connection.schema_editor(collect_sql=True, atomic=False) as editor:
        editor.create_model(model)
    [ddl] = [str(s).rstrip(";") for s in editor.collected_sql if not str(s).startswith("--")]
    return ddl


# --- capacity: a columnstore table holds several unique keys only if each has one column ------------


@isolate_apps("tests.backend")
def test_one_multi_column_unique_key_alone_stays_columnstore(unit: Any) -> None:
    class Booking(models.Model):
        room = models.IntegerField()
        hour = models.IntegerField()

        class Meta:
            app_label = "backend"
            unique_together = [("room", "hour")]

    layout = resolve_layout(Booking, unit)
    assert (layout.storage, layout.shard_key, layout.primary_key, layout.demoted_key) == (
        "COLUMNSTORE",
        ("room", "hour"),
        None,
        "id",
    )
    assert create_sql(unit, Booking).startswith("CREATE TABLE `backend_booking`")


@isolate_apps("tests.backend")
def test_two_single_column_unique_keys_stay_columnstore(unit: Any) -> None:
    class Tag(models.Model):
        slug = models.CharField(max_length=20, primary_key=True)

        class Meta:
            app_label = "backend"
            constraints = [models.UniqueConstraint(fields=["slug"], name="tag_slug_again")]

    layout = resolve_layout(Tag, unit)
    assert layout.storage == "COLUMNSTORE" and layout.shard_key == ("slug",)


@isolate_apps("tests.backend")
def test_a_multi_column_primary_key_beside_a_unique_key_is_a_sharded_rowstore(unit: Any) -> None:
    class Visit(models.Model):
        pk = models.CompositePrimaryKey("site", "day")
        site = models.IntegerField()
        day = models.IntegerField()

        class Meta:
            app_label = "backend"
            constraints = [models.UniqueConstraint(fields=["site"], name="visit_site_uq")]

    layout = resolve_layout(Visit, unit)
    assert (layout.storage, layout.shard_key, layout.primary_key) == ("ROWSTORE", ("site",), ("site", "day"))
    assert layout.label.endswith(", rowstore")
    assert "several unique keys with a multi-column one" in layout.reason
    ddl = create_sql(unit, Visit)
    assert ddl.startswith("CREATE ROWSTORE TABLE `backend_visit`") and ddl.endswith("SHARD KEY (`site`))")


@isolate_apps("tests.backend")
def test_a_multi_column_primary_key_alone_stays_columnstore(unit: Any) -> None:
    class Visit2(models.Model):
        pk = models.CompositePrimaryKey("site", "day")
        site = models.IntegerField()
        day = models.IntegerField()

        class Meta:
            app_label = "backend"

    layout = resolve_layout(Visit2, unit)
    assert (layout.storage, layout.shard_key, layout.primary_key) == (
        "COLUMNSTORE",
        ("site", "day"),
        ("site", "day"),
    )


@isolate_apps("tests.backend")
def test_three_keys_sharing_a_column_with_a_multi_column_one_is_a_rowstore(unit: Any) -> None:
    class Seat(models.Model):
        hall = models.IntegerField()
        row = models.IntegerField()
        number = models.IntegerField()

        class Meta:
            app_label = "backend"
            unique_together = [("hall", "row", "number"), ("hall", "row")]

    layout = resolve_layout(Seat, unit)
    assert layout.storage == "ROWSTORE" and layout.shard_key == ("hall", "row")


# --- FLOAT / DOUBLE in a columnstore primary key ----------------------------------------------------


@isolate_apps("tests.backend")
def test_a_float_column_in_a_composite_primary_key_gets_a_rowstore(unit: Any) -> None:
    class Reading(models.Model):
        pk = models.CompositePrimaryKey("sensor", "value")
        sensor = models.IntegerField()
        value = models.FloatField()

        class Meta:
            app_label = "backend"

    layout = resolve_layout(Reading, unit)
    assert (layout.storage, layout.label) == ("ROWSTORE", "primary key, rowstore (float key)")
    assert "FLOAT or DOUBLE" in layout.reason


@isolate_apps("tests.backend")
def test_a_float_column_outside_the_primary_key_keeps_columnstore(unit: Any) -> None:
    class Price(models.Model):
        amount = models.FloatField()

        class Meta:
            app_label = "backend"

    layout = resolve_layout(Price, unit)
    assert (layout.storage, layout.rule) == ("COLUMNSTORE", "primary key")
    assert "FLOAT" not in layout.reason


@isolate_apps("tests.backend")
def test_a_unique_float_beside_the_auto_id_is_sharded_on_it_as_columnstore(unit: Any) -> None:
    """The id is demoted, so the table has no primary key and the float rule does not apply."""

    class Ratio(models.Model):
        value = models.FloatField(unique=True)

        class Meta:
            app_label = "backend"

    layout = resolve_layout(Ratio, unit)
    assert (layout.storage, layout.shard_key, layout.primary_key) == ("COLUMNSTORE", ("value",), None)


@isolate_apps("tests.backend")
def test_a_decimal_primary_key_is_not_a_float_key(unit: Any) -> None:
    class Money(models.Model):
        amount = models.DecimalField(max_digits=10, decimal_places=2, primary_key=True)

        class Meta:
            app_label = "backend"

    layout = resolve_layout(Money, unit)
    assert (layout.storage, layout.rule) == ("COLUMNSTORE", "primary key")


@isolate_apps("tests.backend")
def test_a_float_primary_key_with_a_multi_column_unique_says_float(unit: Any) -> None:
    class Point(models.Model):
        x = models.FloatField(primary_key=True)
        label = models.CharField(max_length=10)

        class Meta:
            app_label = "backend"
            unique_together = [("x", "label")]

    layout = resolve_layout(Point, unit)
    assert layout.storage == "ROWSTORE" and layout.shard_key == ("x",)
    assert layout.label == "shared columns, rowstore (float key)"
    assert "FLOAT or DOUBLE" in layout.reason and "several unique keys" not in layout.reason


# --- explicit storage: the automatic rowstore fallback is not applied, and the source is named --------


@isolate_apps("tests.backend")
def test_explicit_columnstore_that_cannot_hold_the_keys_is_an_error_not_a_rowstore(unit: Any) -> None:
    class Booking2(models.Model):
        room = models.IntegerField(unique=True)
        hour = models.IntegerField()
        storage = ModelStorageManager(table_storage_type="COLUMNSTORE")

        class Meta:
            app_label = "backend"
            unique_together = [("room", "hour")]

    layout = resolve_layout(Booking2, unit)
    assert layout.errors and "columnstore table can hold" in layout.errors[0]


@isolate_apps("tests.backend")
def test_a_sort_key_blocks_the_rowstore_fallback(unit: Any) -> None:
    """A rowstore cannot hold a SORT KEY: the model is not silently made a sharded rowstore."""

    class Booking3(models.Model):
        room = models.IntegerField(unique=True)
        hour = models.IntegerField()

        class Meta:
            app_label = "backend"
            unique_together = [("room", "hour")]
            indexes = [SortKey(fields=["hour"], name="b3_sort")]

    layout = resolve_layout(Booking3, unit)
    # Today's answer: the automatic layout ends at a REFERENCE table, where the SORT KEY is not kept.
    assert (layout.storage, layout.rule, layout.shard_key) == ("ROWSTORE REFERENCE", "reference", None)


@isolate_apps("tests.backend")
def test_a_declared_shard_key_on_an_explicit_rowstore_may_hold_a_multi_column_unique(unit: Any) -> None:
    class Booking4(models.Model):
        room = models.IntegerField(unique=True)
        hour = models.IntegerField()
        storage = ModelStorageManager(table_storage_type="ROWSTORE")

        class Meta:
            app_label = "backend"
            unique_together = [("room", "hour")]
            indexes = [ShardKey(fields=["room"], name="b4_shard")]

    layout = resolve_layout(Booking4, unit)
    assert not layout.errors
    assert (layout.storage, layout.shard_key, layout.rule) == ("ROWSTORE", ("room",), "declared shard key")
    assert " says " not in layout.reason  # the declared key is the reason, not the storage's source


@isolate_apps("tests.backend")
def test_a_declared_shard_key_on_a_columnstore_cannot_hold_a_multi_column_unique(unit: Any) -> None:
    class Booking5(models.Model):
        room = models.IntegerField(unique=True)
        hour = models.IntegerField()

        class Meta:
            app_label = "backend"
            unique_together = [("room", "hour")]
            indexes = [ShardKey(fields=["room"], name="b5_shard")]

    layout = resolve_layout(Booking5, unit)
    assert layout.errors and "one multi-column unique key" in layout.errors[0]


@isolate_apps("tests.backend")
def test_an_explicit_storage_names_its_source_in_the_reason(unit: Any) -> None:
    class Ledger(models.Model):
        amount = models.IntegerField()
        storage = ModelStorageManager(table_storage_type="ROWSTORE")

        class Meta:
            app_label = "backend"

    layout = resolve_layout(Ledger, unit)
    assert (layout.storage, layout.rule) == ("ROWSTORE", "primary key")
    assert layout.reason.startswith(f"{layout.source} says ROWSTORE; ")


# --- the description (sqlmigrate comments, check messages) and the error layouts ---------------------


@isolate_apps("tests.backend")
def test_describe_names_the_keys_of_each_kind_of_layout(unit: Any) -> None:
    class Plain(models.Model):
        name = models.CharField(max_length=10)

        class Meta:
            app_label = "backend"

    class Account(models.Model):
        username = models.CharField(max_length=30, unique=True)

        class Meta:
            app_label = "backend"

    class Pair(models.Model):
        a = models.IntegerField(unique=True)
        b = models.IntegerField(unique=True)

        class Meta:
            app_label = "backend"

    assert resolve_layout(Plain, unit).describe() == "COLUMNSTORE, shard key (id)"
    assert (
        resolve_layout(Account, unit).describe()
        == "COLUMNSTORE, shard key (username), `id` kept as a plain KEY"
    )
    assert resolve_layout(Pair, unit).describe() == "ROWSTORE REFERENCE, primary key (id)"


@isolate_apps("tests.backend")
def test_three_keys_with_a_multi_column_one_get_a_rowstore(unit: Any) -> None:
    class Slot(models.Model):
        code = models.CharField(max_length=10, primary_key=True)
        day = models.IntegerField()
        hall = models.IntegerField()

        class Meta:
            app_label = "backend"
            unique_together = [("code", "day"), ("code", "hall")]

    layout = resolve_layout(Slot, unit)
    assert (layout.storage, layout.shard_key) == ("ROWSTORE", ("code",))


@isolate_apps("tests.backend")
def test_a_declared_shard_key_counts_the_primary_key_among_the_unique_keys(unit: Any) -> None:
    """pk (code) + unique (code, day) on a columnstore: two unique keys, one multi-column: refused."""

    class Slot2(models.Model):
        code = models.CharField(max_length=10, primary_key=True)
        day = models.IntegerField()

        class Meta:
            app_label = "backend"
            unique_together = [("code", "day")]
            indexes = [ShardKey(fields=["code"], name="slot2_shard")]

    layout = resolve_layout(Slot2, unit)
    assert layout.errors and "one multi-column unique key" in layout.errors[0]


@isolate_apps("tests.backend")
def test_storage_from_the_environment_is_named_in_the_reason(
    unit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DJANGO_SINGLESTORE_TABLE_STORAGE_TYPE_BACKEND", "rowstore")

    class Entry(models.Model):
        name = models.CharField(max_length=10)

        class Meta:
            app_label = "backend"

    layout = resolve_layout(Entry, unit)
    assert (layout.storage, layout.source) == ("ROWSTORE", "DJANGO_SINGLESTORE_TABLE_STORAGE_TYPE_BACKEND")
    assert layout.reason.startswith("DJANGO_SINGLESTORE_TABLE_STORAGE_TYPE_BACKEND says ROWSTORE; ")


@isolate_apps("tests.backend")
def test_an_error_layout_keeps_the_storage_asked_for_or_the_server_default(unit: Any) -> None:
    class Log2(models.Model):
        at = models.DateTimeField()
        storage = ModelStorageManager(table_storage_type="ROWSTORE")

        class Meta:
            app_label = "backend"
            indexes = [SortKey(fields=["at"], name="log2_sort")]

    class Badge2(models.Model):
        owner = models.IntegerField()
        code = models.CharField(max_length=10, unique=True)

        class Meta:
            app_label = "backend"
            indexes = [ShardKey(fields=["owner"], name="badge2_shard")]

    rowstore, automatic = resolve_layout(Log2, unit), resolve_layout(Badge2, unit)
    assert rowstore.errors and (rowstore.storage, rowstore.rule) == ("ROWSTORE", "invalid")
    assert automatic.errors and (automatic.storage, automatic.rule) == ("COLUMNSTORE", "invalid")


@isolate_apps("tests.backend")
def test_describe_keyless_sharding(unit: Any) -> None:
    class Event2(models.Model):
        payload = models.TextField()

        class Meta:
            app_label = "backend"
            indexes = [ShardKey(name="event2_keyless")]

    layout = resolve_layout(Event2, unit)
    assert layout.shard_key == () and layout.describe().endswith(", keyless sharding")


@isolate_apps("tests.backend")
def test_an_explicit_reference_storage_is_a_reference_table_and_refuses_a_shard_key(unit: Any) -> None:
    class Country(models.Model):
        code = models.CharField(max_length=2, unique=True)
        storage = ModelStorageManager(table_storage_type="REFERENCE")

        class Meta:
            app_label = "backend"

    class Country2(models.Model):
        code = models.CharField(max_length=2)
        storage = ModelStorageManager(table_storage_type="ROWSTORE REFERENCE")

        class Meta:
            app_label = "backend"
            indexes = [ShardKey(fields=["code"], name="country2_shard")]

    layout = resolve_layout(Country, unit)
    assert (layout.storage, layout.shard_key, layout.rule, layout.errors) == (
        "REFERENCE",
        None,
        "reference",
        (),
    )
    assert layout.reason == "model says REFERENCE"
    refused = resolve_layout(Country2, unit)
    assert refused.errors == ("a reference table has no shard key",)


@isolate_apps("tests.backend")
def test_layouts_are_immutable_values(unit: Any) -> None:
    class Plain2(models.Model):
        name = models.CharField(max_length=10, unique=True)

        class Meta:
            app_label = "backend"

    layout = resolve_layout(Plain2, unit)
    with pytest.raises(dataclasses.FrozenInstanceError):
        layout.storage = "ROWSTORE"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        layout.unique_keys[0].enforced = False  # type: ignore[misc]
    assert hash(layout.unique_keys[0]) == hash(resolve_layout(Plain2, unit).unique_keys[0])


@isolate_apps("tests.backend")
def test_an_explicit_columnstore_is_written_without_a_keyword(unit: Any) -> None:
    """SingleStore's grammar has no COLUMNSTORE keyword: `CREATE TABLE`, however the setting is spelled."""

    class Metric(models.Model):
        value = models.IntegerField()
        storage = ModelStorageManager(table_storage_type=" columnstore ")

        class Meta:
            app_label = "backend"

    layout = resolve_layout(Metric, unit)
    assert layout.storage == "COLUMNSTORE" and layout.storage_prefix == ""
    assert create_sql(unit, Metric).startswith("CREATE TABLE `backend_metric`")


@isolate_apps("tests.backend")
def test_an_explicit_columnstore_with_a_declared_shard_key_cannot_hold_a_multi_column_unique(
    unit: Any,
) -> None:
    class Booking6(models.Model):
        room = models.IntegerField(unique=True)
        hour = models.IntegerField()
        storage = ModelStorageManager(table_storage_type="columnstore")

        class Meta:
            app_label = "backend"
            unique_together = [("room", "hour")]
            indexes = [ShardKey(fields=["room"], name="b6_shard")]

    layout = resolve_layout(Booking6, unit)
    assert layout.errors and "one multi-column unique key" in layout.errors[0]
