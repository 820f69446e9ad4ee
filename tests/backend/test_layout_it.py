"""The layout through the gateway (or SINGLESTORE_URL), on the master and the child aggregator:
shard-key updates, layout changes of tables that hold rows, ids above 2**50, AutoField -> BigAutoField."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import IntegrityError, NotSupportedError, models
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from django_singlestore.indexes import ShardKey
from tests.conftest import require_child

APP = "s2layout"


class Account(models.Model):
    """Sharded on `username` by the automatic layout (id demoted to a plain KEY)."""

    username = models.CharField(max_length=30, unique=True)
    score = models.IntegerField(default=0)

    class Meta:
        app_label = APP
        db_table = "s2l_account"


class AccountProxy(Account):
    class Meta:
        app_label = APP
        proxy = True


class Note(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE)
    text = models.CharField(max_length=30)

    class Meta:
        app_label = APP
        db_table = "s2l_note"


class Slot(models.Model):
    """Sharded on its primary key `code` (a natural key)."""

    code = models.CharField(max_length=10, primary_key=True)
    value = models.IntegerField(default=0)

    class Meta:
        app_label = APP
        db_table = "s2l_slot"


class Legacy(models.Model):
    """A plain AutoField model: its id column is BIGINT, and so is every column pointing at it."""

    id = models.AutoField(primary_key=True)
    name = models.CharField(max_length=30)

    class Meta:
        app_label = APP
        db_table = "s2l_legacy"


class LegacyRef(models.Model):
    legacy = models.ForeignKey(Legacy, on_delete=models.CASCADE)

    class Meta:
        app_label = APP
        db_table = "s2l_legacyref"


MODELS = (Account, Note, Slot, Legacy, LegacyRef)


@pytest.fixture(params=["master", "child"])
def s2(request: pytest.FixtureRequest, make_alias: Callable[..., Any], testbed: Any) -> Iterator[Any]:
    """Tables made on the master; the ORM runs on the aggregator of the parameter."""
    master = make_alias("s2")
    with master.schema_editor() as editor:
        for model in MODELS:
            editor.create_model(model)
    if request.param == "child":
        require_child(testbed)
        yield make_alias("s2child", endpoint=testbed.child)
    else:
        yield master


def objects(model: type[models.Model], connection: Any) -> Any:
    return model._default_manager.db_manager(connection.alias)


def update_statements(ctx: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("UPDATE")]


def test_save_leaves_an_unchanged_shard_key_out_of_set(s2: Any) -> None:
    accounts = objects(Account, s2)
    account = accounts.create(username="ann")
    account.score = 5
    with CaptureQueriesContext(s2) as ctx:
        account.save()
    [update] = update_statements(ctx)
    assert "`score`" in update and "`username` =" not in update.split("WHERE")[0]
    assert accounts.get(pk=account.pk).score == 5


def test_changing_a_shard_key_moves_the_row_keeping_its_id(s2: Any) -> None:
    accounts = objects(Account, s2)
    account = accounts.create(username="bob", score=1)
    note = objects(Note, s2).create(account=account, text="hi")
    account.username = "robert"
    account.save()
    assert list(accounts.values_list("pk", "username", "score")) == [(account.pk, "robert", 1)]
    assert accounts.filter(username="robert").update(username="rob", score=2) == 1
    assert list(accounts.values_list("pk", "username", "score")) == [(account.pk, "rob", 2)]
    assert objects(Note, s2).get(pk=note.pk).account.username == "rob"
    # Through a proxy model: the same table, the same shard key.
    assert objects(AccountProxy, s2).filter(pk=account.pk).update(username="bobby") == 1
    assert objects(Account, s2).get(pk=account.pk).username == "bobby"


def test_a_move_that_breaks_a_unique_key_changes_nothing(s2: Any) -> None:
    accounts = objects(Account, s2)
    first = accounts.create(username="one")
    accounts.create(username="two")
    with pytest.raises(IntegrityError):
        accounts.filter(pk=first.pk).update(username="two")
    assert sorted(accounts.values_list("username", flat=True)) == ["one", "two"]


def test_expression_moves_swap_values_between_rows(s2: Any) -> None:
    accounts = objects(Account, s2)
    accounts.create(username="a")
    accounts.create(username="b")
    # Every row moves at once (delete, then insert, in one transaction): no transient duplicate.
    assert accounts.update(username=models.functions.Concat(F("username"), models.Value("x"))) == 2
    assert sorted(accounts.values_list("username", flat=True)) == ["ax", "bx"]


def test_bulk_update_and_update_conflicts_with_shard_keys(s2: Any) -> None:
    accounts = objects(Account, s2)
    rows = [accounts.create(username=name) for name in ("c", "d")]
    for row in rows:
        row.score = 7
    assert accounts.bulk_update(rows, ["username", "score"]) == 2
    assert sorted(accounts.values_list("score", flat=True)) == [7, 7]
    with CaptureQueriesContext(s2) as ctx:
        accounts.bulk_create(
            [Account(username="c", score=9)], update_conflicts=True, update_fields=["username", "score"]
        )
    [insert] = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("INSERT")]
    assert "ON DUPLICATE KEY UPDATE" in insert and "`username` = VALUES" not in insert
    assert accounts.get(username="c").score == 9
    assert accounts.count() == 2


def test_a_shard_key_that_is_the_primary_key_is_not_moved(s2: Any) -> None:
    slots = objects(Slot, s2)
    slots.create(code="x1")
    with pytest.raises(NotSupportedError, match=r"s2layout\.Slot\.code"):
        slots.filter(code="x1").update(code="x2")
    slots.filter(code="x1").update(code="x1", value=3)  # unchanged: left out of SET
    assert slots.get(code="x1").value == 3


def test_auto_field_ids_and_the_columns_pointing_at_them_take_big_ids(s2: Any, testbed: Any) -> None:
    legacy = objects(Legacy, s2).create(name="l")
    ref = objects(LegacyRef, s2).create(legacy=legacy)
    if s2.alias == "s2child":
        assert legacy.pk > 2**50  # a child aggregator's AUTO_INCREMENT range
    big = 2**50 + 12345
    objects(Legacy, s2).create(id=big, name="big")
    objects(LegacyRef, s2).create(legacy_id=big)
    assert objects(Legacy, s2).get(pk=big).name == "big"
    assert objects(LegacyRef, s2).filter(legacy__pk__in=[big, legacy.pk]).count() == 2
    assert objects(LegacyRef, s2).get(pk=ref.pk).legacy_id == legacy.pk


def _with(model: type[models.Model], **meta: Any) -> type[models.Model]:
    """A twin of `model` (same table) with other Meta options, as a later migration state would be."""
    import copy

    from django.apps.registry import Apps

    # deepcopy keeps a foreign key's resolved target (clone() would look it up in the new registry).
    attrs: dict[str, Any] = {f.name: copy.deepcopy(f) for f in model._meta.local_fields}
    attrs["__module__"] = __name__
    attrs["Meta"] = type(
        "Meta", (), {"app_label": APP, "db_table": model._meta.db_table, "apps": Apps(), **meta}
    )
    return type(model.__name__, (models.Model,), attrs)


def test_a_layout_change_copies_the_rows(make_alias: Callable[..., Any]) -> None:
    s2 = make_alias("s2")
    with s2.schema_editor() as editor:
        editor.create_model(Note)
        editor.create_model(Account)
    account = objects(Account, s2).create(username="zed")
    note = objects(Note, s2).create(account=account, text="t")
    # unique_together on a table sharded on its id: the layout moves to (account_id, text).
    new = _with(Note, unique_together=[("account", "text")])
    with s2.schema_editor() as editor:
        editor.alter_unique_together(new, [], [("account", "text")])
    assert list(objects(Note, s2).values_list("pk", "account_id", "text")) == [(note.pk, account.pk, "t")]
    with pytest.raises(IntegrityError):
        objects(Note, s2).create(account=account, text="t")
    # A declared shard key added later: the table is created again, the rows stay.
    keyed = _with(Account, indexes=[ShardKey(fields=["username"], name="s2l_account_shard")])
    with s2.schema_editor() as editor:
        editor.add_index(keyed, keyed._meta.indexes[0])
    assert objects(Account, s2).get(pk=account.pk).username == "zed"


def test_a_layout_change_that_the_rows_break_keeps_the_old_table(make_alias: Callable[..., Any]) -> None:
    s2 = make_alias("s2")
    with s2.schema_editor() as editor:
        editor.create_model(Note)
    account_id = 1
    objects(Note, s2).create(account_id=account_id, text="same")
    objects(Note, s2).create(account_id=account_id, text="same")
    new = _with(Note, unique_together=[("account", "text")])
    with pytest.raises(IntegrityError), s2.schema_editor() as editor:
        editor.alter_unique_together(new, [], [("account", "text")])
    assert objects(Note, s2).count() == 2
    with s2.cursor() as cursor:
        tables = s2.introspection.table_names(cursor)
    assert "s2l_note" in tables and not [t for t in tables if "rebuild" in t]


def test_a_copied_table_fills_nulls_with_the_new_default(make_alias: Callable[..., Any]) -> None:
    import copy

    s2 = make_alias("s2")
    with s2.schema_editor() as editor:
        editor.create_model(Legacy)
    objects(Legacy, s2).create(name="kept")
    # NULL -> NOT NULL on columnstore is an ALTER SingleStore refuses: the table is copied. A nullable
    # column gains a db_default; the copy fills its NULLs with it.
    shade = models.CharField(max_length=10, null=True)
    shade.set_attributes_from_name("shade")
    with s2.schema_editor() as editor:
        editor.add_field(Legacy, shade)
    objects(Legacy, s2).create(name="second")
    not_null = copy.deepcopy(shade)
    not_null.null = False
    not_null.db_default = "blue"
    not_null.model = Legacy  # as in a migration (Django compiles db_default against the field's model)
    with s2.schema_editor() as editor:
        editor.alter_field(Legacy, shade, not_null)
    with s2.cursor() as cursor:
        cursor.execute("SELECT name, shade FROM s2l_legacy ORDER BY name")
        assert cursor.fetchall() == (("kept", "blue"), ("second", "blue"))
