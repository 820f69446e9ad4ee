"""The automatic table layout and its DDL: every branch of django_singlestore.layout, no server."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import NotSupportedError, models
from django.test.utils import isolate_apps

from django_singlestore.indexes import HashIndex, ShardKey, SortKey
from django_singlestore.layout import resolve_layout
from django_singlestore.options import parse_options
from django_singlestore.schema import ModelStorageManager

pytestmark = pytest.mark.usefixtures("unit")


def create_sql(connection: Any, model: type[models.Model]) -> list[str]:
    with connection.schema_editor(collect_sql=True, atomic=False) as editor:
        editor.create_model(model)
    return [str(s).rstrip(";") for s in editor.collected_sql if not str(s).startswith("--")]


@isolate_apps("tests.backend")
def test_plain_model_shards_on_its_primary_key(unit: Any) -> None:
    class Plain(models.Model):
        name = models.CharField(max_length=20)

        class Meta:
            app_label = "backend"

    layout = resolve_layout(Plain, unit)
    assert (layout.storage, layout.shard_key, layout.primary_key, layout.rule) == (
        "COLUMNSTORE",
        ("id",),
        ("id",),
        "primary key",
    )
    [ddl] = create_sql(unit, Plain)
    assert ddl.startswith("CREATE TABLE `backend_plain` (`id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY")
    assert ddl.endswith("SHARD KEY (`id`))")


@isolate_apps("tests.backend")
def test_unique_column_beside_auto_id_demotes_the_id(unit: Any) -> None:
    class Account(models.Model):
        username = models.CharField(max_length=30, unique=True)

        class Meta:
            app_label = "backend"

    layout = resolve_layout(Account, unit)
    assert (layout.storage, layout.shard_key, layout.primary_key, layout.demoted_key, layout.rule) == (
        "COLUMNSTORE",
        ("username",),
        None,
        "id",
        "id demoted",
    )
    [ddl] = create_sql(unit, Account)
    assert "PRIMARY KEY" not in ddl
    assert "`id` bigint AUTO_INCREMENT NOT NULL," in ddl
    assert "`username` varchar(30) NOT NULL UNIQUE" in ddl
    assert "KEY `id` (`id`) USING HASH" in ddl and ddl.endswith("SHARD KEY (`username`))")


@isolate_apps("tests.backend")
def test_unique_together_is_inline_and_the_shard_key(unit: Any) -> None:
    class Membership(models.Model):
        person = models.IntegerField()
        group = models.IntegerField()

        class Meta:
            app_label = "backend"
            unique_together = [("person", "group")]

    layout = resolve_layout(Membership, unit)
    assert (layout.shard_key, layout.demoted_key) == (("person", "group"), "id")
    statements = create_sql(unit, Membership)
    assert len(statements) == 1, "unique_together must not be deferred to ALTER TABLE"
    assert "UNIQUE KEY `backend_membership_person_group_" in statements[0]
    assert statements[0].endswith("SHARD KEY (`person`, `group`))")


@isolate_apps("tests.backend")
def test_unrelated_unique_columns_fall_back_to_rowstore_reference(unit: Any) -> None:
    class Person(models.Model):
        email = models.CharField(max_length=50, unique=True)
        handle = models.CharField(max_length=50, unique=True)

        class Meta:
            app_label = "backend"

    layout = resolve_layout(Person, unit)
    assert (layout.storage, layout.shard_key, layout.primary_key, layout.rule) == (
        "ROWSTORE REFERENCE",
        None,
        ("id",),
        "reference",
    )
    [ddl] = create_sql(unit, Person)
    assert ddl.startswith("CREATE ROWSTORE REFERENCE TABLE `backend_person`")
    assert "SHARD KEY" not in ddl and "PRIMARY KEY" in ddl


@isolate_apps("tests.backend")
def test_natural_primary_key_with_another_unique_is_a_reference_table(unit: Any) -> None:
    class Country(models.Model):
        code = models.CharField(max_length=2, primary_key=True)
        name = models.CharField(max_length=50, unique=True)

        class Meta:
            app_label = "backend"

    assert resolve_layout(Country, unit).storage == "ROWSTORE REFERENCE"


@isolate_apps("tests.backend")
def test_nested_uniques_with_a_multi_column_one_shard_a_rowstore(unit: Any) -> None:
    class Slot(models.Model):
        room = models.IntegerField(unique=True)
        hour = models.IntegerField()

        class Meta:
            app_label = "backend"
            unique_together = [("room", "hour")]

    layout = resolve_layout(Slot, unit)
    # (room) and (room, hour) share `room`; a columnstore cannot hold both, a rowstore can.
    assert (layout.storage, layout.shard_key, layout.demoted_key) == ("ROWSTORE", ("room",), "id")
    [ddl] = create_sql(unit, Slot)
    assert ddl.startswith("CREATE ROWSTORE TABLE") and "KEY `id` (`id`)," in ddl  # no USING HASH on rowstore


@isolate_apps("tests.backend")
def test_storage_precedence(unit: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    class Food(models.Model):
        name = models.CharField(max_length=20, unique=True)
        objects = models.Manager()
        storage = ModelStorageManager(table_storage_type="reference")

        class Meta:
            app_label = "backend"

    class Drink(models.Model):
        name = models.CharField(max_length=20)

        class Meta:
            app_label = "backend"

    monkeypatch.setenv("DJANGO_SINGLESTORE_TABLE_STORAGE_TYPE_BACKEND", "ROWSTORE")
    monkeypatch.setattr(
        unit,
        "singlestore_options",
        parse_options({"table_storage_type": "ROWSTORE REFERENCE"}),
    )
    # The model's manager beats everything; the env var beats the OPTIONS default.
    assert (resolve_layout(Food, unit).storage, resolve_layout(Food, unit).source) == ("REFERENCE", "model")
    drink = resolve_layout(Drink, unit)
    assert (drink.storage, drink.source) == ("ROWSTORE", "DJANGO_SINGLESTORE_TABLE_STORAGE_TYPE_BACKEND")
    # The OPTIONS app map beats the env var.
    monkeypatch.setattr(
        unit,
        "singlestore_options",
        parse_options({"app_table_storage_types": {"backend": "REFERENCE"}}),
    )
    assert resolve_layout(Drink, unit).storage == "REFERENCE"
    monkeypatch.setenv("DJANGO_SINGLESTORE_TABLE_STORAGE_TYPE_BACKEND", "ROWSTOR")
    monkeypatch.setattr(
        unit,
        "singlestore_options",
        parse_options({}),
    )
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SINGLESTORE_TABLE_STORAGE_TYPE_BACKEND"):
        resolve_layout(Drink, unit)


def test_model_storage_manager_validates_and_deconstructs() -> None:
    with pytest.raises(ImproperlyConfigured, match="table_storage_type"):
        ModelStorageManager(table_storage_type="HEAP")
    manager = ModelStorageManager(table_storage_type="rowstore  reference")
    assert manager.table_storage_type == "ROWSTORE REFERENCE"
    assert manager.deconstruct()[4] == {"table_storage_type": "rowstore  reference"}


@isolate_apps("tests.backend")
def test_explicit_sharded_storage_that_cannot_hold_the_uniques_is_an_error(
    unit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Person(models.Model):
        email = models.CharField(max_length=50, unique=True)
        handle = models.CharField(max_length=50, unique=True)

        class Meta:
            app_label = "backend"

    monkeypatch.setenv("DJANGO_SINGLESTORE_TABLE_STORAGE_TYPE_BACKEND", "COLUMNSTORE")
    layout = resolve_layout(Person, unit)
    assert layout.errors
    errors = unit.validation._check_table_layouts(app_configs=None)
    assert [e.id for e in errors if e.obj is Person] == []  # isolated models are not in the registry
    with pytest.raises(NotSupportedError, match=r"backend\.Person"):
        create_sql(unit, Person)


@isolate_apps("tests.backend")
def test_declared_shard_sort_and_hash_keys(unit: Any) -> None:
    class Order(models.Model):
        tenant = models.IntegerField()
        created = models.DateTimeField()

        class Meta:
            app_label = "backend"
            indexes = [
                ShardKey(fields=["tenant"]),
                SortKey(fields=["created"]),
                HashIndex(fields=["created"], name="order_created_hash"),
            ]

    layout = resolve_layout(Order, unit)
    assert (layout.shard_key, layout.sort_key, layout.primary_key, layout.demoted_key) == (
        ("tenant",),
        ("created",),
        None,
        "id",
    )
    statements = create_sql(unit, Order)
    assert statements[0].endswith("SHARD KEY (`tenant`), SORT KEY (`created`))")
    assert statements[1:] == ["CREATE INDEX `order_created_hash` ON `backend_order` (`created`) USING HASH"]


@isolate_apps("tests.backend")
def test_keyless_sharding_and_composite_primary_key(unit: Any) -> None:
    class Event(models.Model):
        payload = models.TextField()

        class Meta:
            app_label = "backend"
            indexes = [ShardKey(name="event_keyless")]

    class Line(models.Model):
        pk = models.CompositePrimaryKey("tenant", "number")
        tenant = models.IntegerField()
        number = models.IntegerField()

        class Meta:
            app_label = "backend"
            indexes = [ShardKey(fields=["tenant"])]

    assert resolve_layout(Event, unit).shard_key == ()
    assert create_sql(unit, Event)[0].endswith("SHARD KEY ())")
    line = resolve_layout(Line, unit)
    assert (line.shard_key, line.primary_key) == (("tenant",), ("tenant", "number"))
    ddl = create_sql(unit, Line)[0]
    assert "PRIMARY KEY (`tenant`, `number`)" in ddl and ddl.endswith("SHARD KEY (`tenant`))")
    with pytest.raises(ValueError, match="needs a name"):
        ShardKey()


@isolate_apps("tests.backend")
def test_sort_key_on_rowstore_and_unique_without_declared_shard_key_are_errors(unit: Any) -> None:
    class Log(models.Model):
        at = models.DateTimeField()
        storage = ModelStorageManager(table_storage_type="ROWSTORE")

        class Meta:
            app_label = "backend"
            indexes = [SortKey(fields=["at"])]

    class Badge(models.Model):
        owner = models.IntegerField()
        code = models.CharField(max_length=10, unique=True)

        class Meta:
            app_label = "backend"
            indexes = [ShardKey(fields=["owner"])]

    assert "SORT KEY" in resolve_layout(Log, unit).errors[0]
    assert "lack shard-key columns" in resolve_layout(Badge, unit).errors[0]


@isolate_apps("tests.backend")
def test_not_enforced_unique_env_writes_unenforced_rely(unit: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    class Tag(models.Model):
        label = models.CharField(max_length=20, unique=True)

        class Meta:
            app_label = "backend"

    monkeypatch.setenv("DJANGO_SINGLESTORE_NOT_ENFORCED_UNIQUE_BACKEND", "1")
    layout = resolve_layout(Tag, unit)
    assert (layout.shard_key, layout.demoted_key) == (("id",), None)  # nothing enforced besides the pk
    [ddl] = create_sql(unit, Tag)
    assert "`label` varchar(20) NOT NULL," in ddl
    assert "UNIQUE KEY `backend_tag_label_" in ddl and "UNENFORCED RELY" in ddl


@isolate_apps("tests.backend")
def test_auto_created_m2m_through_table_keeps_its_id(unit: Any) -> None:
    class Topping(models.Model):
        class Meta:
            app_label = "backend"

    class Pizza(models.Model):
        toppings = models.ManyToManyField(Topping)

        class Meta:
            app_label = "backend"

    through = Pizza._meta.get_field("toppings").remote_field.through
    layout = resolve_layout(through, unit)
    assert (layout.storage, layout.shard_key, layout.demoted_key) == (
        "COLUMNSTORE",
        ("pizza_id", "topping_id"),
        "id",
    )
    statements = create_sql(unit, Pizza)
    through_ddl = next(
        s for s in statements if "backend_pizza_toppings" in s and s.startswith("CREATE TABLE")
    )
    assert "`id` bigint AUTO_INCREMENT NOT NULL" in through_ddl
    assert "`pizza_id` bigint NOT NULL" in through_ddl, "FK columns to auto ids are BIGINT"


def collect(connection: Any, action: Any) -> list[str]:
    with connection.schema_editor(collect_sql=True, atomic=False) as editor:
        action(editor)
    return [str(s).rstrip(";") for s in editor.collected_sql]


@isolate_apps("tests.backend")
def test_auto_field_to_big_auto_field_is_a_no_op_for_the_pk_and_the_columns_pointing_at_it(unit: Any) -> None:
    class Legacy(models.Model):
        id = models.AutoField(primary_key=True)

        class Meta:
            app_label = "backend"

    class Ref(models.Model):
        legacy = models.ForeignKey(Legacy, on_delete=models.CASCADE)

        class Meta:
            app_label = "backend"

    old_pk = Legacy._meta.get_field("id")
    new_pk = models.BigAutoField(primary_key=True)
    new_pk.set_attributes_from_name("id")
    new_pk.model = Legacy
    assert collect(unit, lambda e: e.alter_field(Legacy, old_pk, new_pk)) == []
    # An FK re-pointed from an AutoField target to a BigAutoField one keeps its BIGINT column.
    old_fk = Ref._meta.get_field("legacy")
    new_fk = models.ForeignKey(Legacy, on_delete=models.PROTECT)
    new_fk.set_attributes_from_name("legacy")
    new_fk.model = Ref
    assert collect(unit, lambda e: e.alter_field(Ref, old_fk, new_fk)) == []


@isolate_apps("tests.backend")
def test_a_foreign_key_to_a_one_to_one_primary_key_is_bigint(unit: Any) -> None:
    class Place(models.Model):
        class Meta:
            app_label = "backend"

    class Restaurant(models.Model):
        place = models.OneToOneField(Place, on_delete=models.CASCADE, primary_key=True)

        class Meta:
            app_label = "backend"

    class Waiter(models.Model):
        restaurant = models.ForeignKey(Restaurant, on_delete=models.CASCADE)

        class Meta:
            app_label = "backend"

    assert "`place_id` bigint NOT NULL PRIMARY KEY" in create_sql(unit, Restaurant)[0]
    assert "`restaurant_id` bigint NOT NULL" in create_sql(unit, Waiter)[0]


@isolate_apps("tests.backend")
def test_a_layout_change_creates_the_table_again(unit: Any) -> None:
    class Entry(models.Model):
        feed = models.IntegerField()
        guid = models.CharField(max_length=40)

        class Meta:
            app_label = "backend"
            unique_together = [("feed", "guid")]

    # AlterUniqueTogether ([] -> [(feed, guid)]) on a table sharded on its id.
    sql = collect(unit, lambda e: e.alter_unique_together(Entry, [], [("feed", "guid")]))
    assert sql[0].startswith(
        "-- backend.Entry: changing unique_together changes its layout from COLUMNSTORE, "
    )
    assert "shard key (id)" in sql[0] and "shard key (feed, guid)" in sql[0]
    # Writes are fenced off (the table renamed away), the table created again, the fence dropped.
    assert sql[1] == "ALTER TABLE `backend_entry` RENAME TO `backend_entry__s2_fence`"
    assert sql[2].startswith("CREATE TABLE `backend_entry` (") and sql[2].endswith(
        "SHARD KEY (`feed`, `guid`))"
    )
    assert sql[3] == "DROP TABLE IF EXISTS `backend_entry__s2_fence`"
    assert len(sql) == 4
    # The same unique_together again: nothing changes, nothing is emitted.
    assert (
        collect(unit, lambda e: e.alter_unique_together(Entry, [("feed", "guid")], [("feed", "guid")])) == []
    )


@isolate_apps("tests.backend")
def test_adding_a_shard_key_or_a_unique_column_creates_the_table_again(unit: Any) -> None:
    class Metric(models.Model):
        tenant = models.IntegerField()

        class Meta:
            app_label = "backend"
            indexes = [ShardKey(fields=["tenant"], name="backend_metric_shard")]

    sql = collect(unit, lambda e: e.add_index(Metric, Metric._meta.indexes[0]))
    assert "adding ShardKey backend_metric_shard" in sql[0]
    assert sql[-2].endswith("SHARD KEY (`tenant`))")

    class Box(models.Model):
        label = models.CharField(max_length=10)

        class Meta:
            app_label = "backend"

    code = models.CharField(max_length=10, unique=True)
    code.set_attributes_from_name("code")
    sql = collect(unit, lambda e: e.add_field(Box, code))
    assert "adding code changes its layout" in sql[0]
    assert "`code` varchar(10) NOT NULL UNIQUE" in sql[-2] and sql[-2].endswith("SHARD KEY (`code`))")
    # A plain column is an ordinary ALTER.
    note = models.CharField(max_length=10, default="")
    note.set_attributes_from_name("note")
    assert collect(unit, lambda e: e.add_field(Box, note))[0].startswith(
        "ALTER TABLE `backend_box` ADD COLUMN"
    )


@isolate_apps("tests.backend")
def test_a_columnstore_type_change_creates_the_table_again(unit: Any) -> None:
    class Doc(models.Model):
        title = models.CharField(max_length=50)
        code = models.CharField(max_length=10)

        class Meta:
            app_label = "backend"
            indexes = [SortKey(fields=["code"], name="doc_sort")]

    # A column in no key is replaced column by column (issue 6, django_singlestore.alter).
    old = Doc._meta.get_field("title")
    new = models.CharField(max_length=255)
    new.set_attributes_from_name("title")
    new.model = Doc
    sql = collect(unit, lambda e: e.alter_field(Doc, old, new))
    # NOT NULL with a DEFAULT while it is filled: inserts made meanwhile omit the column.
    assert sql[0] == "ALTER TABLE `backend_doc` ADD COLUMN `title__s2tmp` varchar(255) NOT NULL DEFAULT ''"
    assert "ALTER TABLE `backend_doc__s2_fence` CHANGE `title__s2tmp` `title`" in sql
    assert sql[-1] == "ALTER TABLE `backend_doc__s2_fence` RENAME TO `backend_doc`"
    # A sort-key column: the table is created again.
    old = Doc._meta.get_field("code")
    new = models.CharField(max_length=20)
    new.set_attributes_from_name("code")
    new.model = Doc
    sql = collect(unit, lambda e: e.alter_field(Doc, old, new))
    assert "altering code (type varchar(10) -> varchar(20))" in sql[0]
    assert sql[-2].startswith("CREATE TABLE `backend_doc`") and "`code` varchar(20) NOT NULL" in sql[-2]


@isolate_apps("tests.backend")
def test_a_float_primary_key_gets_a_sharded_rowstore(unit: Any) -> None:
    class Measure(models.Model):
        value = models.FloatField(primary_key=True)

        class Meta:
            app_label = "backend"

    layout = resolve_layout(Measure, unit)
    assert (layout.storage, layout.shard_key, layout.label) == (
        "ROWSTORE",
        ("value",),
        "primary key, rowstore (float key)",
    )
    assert "FLOAT or DOUBLE" in layout.reason
    [ddl] = create_sql(unit, Measure)
    assert ddl.startswith("CREATE ROWSTORE TABLE `backend_measure`") and ddl.endswith("SHARD KEY (`value`))")


@isolate_apps("tests.backend")
def test_unique_constraints_stay_in_create_table_when_columns_have_defaults(unit: Any) -> None:
    class Pony(models.Model):
        pink = models.IntegerField(default=3)
        weight = models.FloatField()

        class Meta:
            app_label = "backend"
            constraints = [
                models.UniqueConstraint(fields=["pink"], name="pony_pink_uq"),
                models.UniqueConstraint(
                    fields=["weight"], name="pony_deferred_uq", deferrable=models.Deferrable.DEFERRED
                ),
            ]

    statements = create_sql(unit, Pony)
    assert len(statements) == 1, statements  # no deferred ALTER TABLE, no `None` statement
    assert "CONSTRAINT `pony_pink_uq` UNIQUE (`pink`)" in statements[0]
    assert "pony_deferred_uq" not in statements[0]  # deferrable constraints are not supported: skipped
    # ... and the layout does not count it: sharded on `pink`, not a reference table.
    assert statements[0].startswith("CREATE TABLE ") and statements[0].endswith("SHARD KEY (`pink`))")
