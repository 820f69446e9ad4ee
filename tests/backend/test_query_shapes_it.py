"""Issue 21: the ORM patterns that would send SQL SingleStore refuses, through the gateway (which refuses
what SingleStore refuses, tests/testbed/gateway/query_rules.py). For each, the statement the backend now
sends is accepted, and the result equals Django's stock MySQL backend on the same data (the private
MariaDB, directly; its writes are rolled back before the backend runs the same operation)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.db import DatabaseError, connections, models, transaction
from django.db.models import Exists, F, OuterRef, Subquery, Sum
from django.db.models.functions import Collate
from django.test.utils import CaptureQueriesContext

from django_singlestore.schema import ModelStorageManager
from tests.backend.models import Counter
from tests.testbed import Testbed


class ShapeOwner(models.Model):
    """A sharded table."""

    kind = models.CharField(max_length=10)
    pos = models.IntegerField(default=0)
    day = models.DateField(null=True)

    class Meta:
        app_label = "s2backend"
        db_table = "s2_shape_owner"


class ShapeTag(models.Model):
    """A REFERENCE table pointing at the sharded one: multi-table DELETE/UPDATE with it as the target is
    refused (1706)."""

    name = models.CharField(max_length=20)
    weight = models.IntegerField(default=0)
    owner = models.ForeignKey(ShapeOwner, models.DO_NOTHING, db_constraint=False)
    objects = models.Manager()
    storage = ModelStorageManager(table_storage_type="ROWSTORE REFERENCE")

    class Meta:
        app_label = "s2backend"
        db_table = "s2_shape_tag"


class ShapeNote(models.Model):
    """A sharded table pointing at another sharded one."""

    text = models.CharField(max_length=20)
    owner = models.ForeignKey(ShapeOwner, models.DO_NOTHING, db_constraint=False)

    class Meta:
        app_label = "s2backend"
        db_table = "s2_shape_note"


@pytest.fixture
def aliases(make_alias: Callable[..., Any], testbed: Testbed) -> tuple[str, str]:
    """('s2', 'mysql'): the backend through the gateway, and Django's MySQL backend on the same database."""
    if not testbed.is_gateway or testbed.direct is None:
        pytest.skip("gateway only: compares with Django's MySQL backend on the gateway's private MariaDB")
    s2 = make_alias("s2")
    make_alias("mysql", endpoint=testbed.direct, engine="django.db.backends.mysql")
    with s2.schema_editor() as editor:
        for model in (ShapeOwner, ShapeTag, Counter):
            editor.create_model(model)
    owners = ShapeOwner.objects.using("s2")
    made = [
        owners.create(kind=k, pos=p, day=datetime.date(2020, 1, p))
        for k, p in (("x", 1), ("y", 2), ("x", 3), ("z", 4), ("z", 5))
    ]
    ShapeTag.objects.using("s2").bulk_create(
        ShapeTag(name=n, weight=w, owner=made[i])
        for n, w, i in (("a", 1, 0), ("b", 2, 1), ("c", 3, 2), ("d", 4, 4))
    )
    return "s2", "mysql"


def _tags(alias: str) -> list[tuple[str, int]]:
    return sorted(ShapeTag.objects.using(alias).values_list("name", "weight"))


def _owners(alias: str) -> list[tuple[str, int]]:
    return sorted(ShapeOwner.objects.using(alias).values_list("kind", "pos"))


def _same_as_mysql(
    op: Callable[[str], Any], state: Callable[[str], Any], aliases: tuple[str, str]
) -> list[str]:
    """Run `op` on Django's MySQL backend (rolled back), then through the backend; both results and
    states must match. Returns the SQL the backend sent."""
    s2, mysql = aliases
    with transaction.atomic(using=mysql):
        expected = op(mysql), state(mysql)
        transaction.set_rollback(True, using=mysql)
    with CaptureQueriesContext(connections[s2]) as captured:
        got = op(s2)
    assert (got, state(s2)) == expected
    return [q["sql"] for q in captured.captured_queries]


def test_delete_from_a_reference_table_filtered_through_a_sharded_one(aliases):
    def op(alias: str) -> Any:
        return ShapeTag.objects.using(alias).filter(owner__kind="x").delete()

    sent = _same_as_mysql(op, _tags, aliases)
    assert not any("DELETE `s2_shape_tag` FROM" in sql for sql in sent), sent


def test_raw_delete_from_a_reference_table_with_a_join(aliases):
    def op(alias: str) -> Any:
        return ShapeTag.objects.using(alias).filter(owner__pos__gte=3)._raw_delete(alias)

    sent = _same_as_mysql(op, _tags, aliases)
    assert any(sql.startswith("DELETE FROM `s2_shape_tag` WHERE") for sql in sent), sent


def test_a_reference_table_delete_through_a_join_that_matches_nothing(aliases):
    """The primary keys are looked up first; none found: nothing is deleted and the count is 0."""

    def op(alias: str) -> Any:
        tags = ShapeTag.objects.using(alias)
        return tags.filter(owner__kind="none").delete(), tags.filter(owner__pos__gt=99)._raw_delete(alias)

    _same_as_mysql(op, _tags, aliases)


def test_delete_from_a_sharded_table_through_a_join_is_one_statement(aliases):
    """Only a REFERENCE target needs its primary keys looked up first; a sharded one takes MySQL's
    multi-table DELETE, one statement."""
    with connections[aliases[0]].schema_editor() as editor:
        editor.create_model(ShapeNote)
    ShapeNote.objects.using(aliases[0]).bulk_create(
        ShapeNote(text=t, owner=o)
        for t, o in zip("pqr", ShapeOwner.objects.using(aliases[0]).order_by("pos")[:3], strict=True)
    )

    def notes(alias: str) -> list[str]:
        return sorted(ShapeNote.objects.using(alias).values_list("text", flat=True))

    def op(alias: str) -> Any:
        return ShapeNote.objects.using(alias).filter(owner__kind="x").delete()

    sent = _same_as_mysql(op, notes, aliases)
    assert [sql.split()[0] for sql in sent if sql not in ("BEGIN", "COMMIT")] == ["DELETE"], sent


def test_update_of_a_reference_table_filtered_through_a_sharded_one(aliases):
    def op(alias: str) -> Any:
        return ShapeTag.objects.using(alias).filter(owner__kind="z").update(weight=F("weight") + 10)

    _same_as_mysql(op, _tags, aliases)


def test_ordered_update_sends_no_order_by(aliases):
    def op(alias: str) -> Any:
        return ShapeOwner.objects.using(alias).order_by("-pos").update(pos=F("pos") + 1)

    sent = _same_as_mysql(op, _owners, aliases)
    updates = [sql for sql in sent if sql.startswith("UPDATE")]
    assert updates and not any("ORDER BY" in sql for sql in updates), sent


def test_create_with_a_subquery_value(aliases):
    def op(alias: str) -> Any:
        top = ShapeOwner.objects.filter(kind="z").order_by("-pos").values("pos")[:1]
        owner = ShapeOwner.objects.using(alias).get(pos=1)
        tag = ShapeTag.objects.using(alias).create(name="new", weight=Subquery(top), owner=owner)
        return ShapeTag.objects.using(alias).get(pk=tag.pk).weight

    sent = _same_as_mysql(op, _tags, aliases)
    inserts = [sql for sql in sent if sql.startswith("INSERT")]
    assert inserts and "SELECT" not in inserts[0], sent


def test_bulk_create_with_subquery_values(aliases):
    def op(alias: str) -> Any:
        low = ShapeOwner.objects.filter(kind="x").order_by("pos").values("pos")[:1]
        owner = ShapeOwner.objects.using(alias).get(pos=2)
        tags = [ShapeTag(name=f"n{i}", weight=Subquery(low), owner=owner) for i in range(3)]
        ShapeTag.objects.using(alias).bulk_create(tags)
        return len(tags)

    _same_as_mysql(op, _tags, aliases)


def test_upsert_through_the_backend(aliases):
    def op(alias: str) -> Any:
        counters = Counter.objects.using(alias)
        counters.bulk_create([Counter(key="k", value=1)])
        counters.bulk_create(
            [Counter(key="k", value=7, label="l")], update_conflicts=True, update_fields=["value"]
        )
        return sorted(counters.values_list("key", "value", "label"))

    _same_as_mysql(op, lambda alias: None, aliases)


def test_sliced_union_limits_the_whole_union(aliases):
    def op(alias: str) -> Any:
        x = ShapeOwner.objects.using(alias).filter(kind="x").values_list("pos", flat=True)
        z = ShapeOwner.objects.using(alias).filter(kind="z").values_list("pos", flat=True)
        whole = set(x.union(z))
        first, offset = list(x.union(z)[:2]), list(x.union(z)[1:3])
        ordered = list(x.union(z).order_by("-pos")[:3])
        assert set(first) <= whole and set(offset) <= whole
        return len(first), len(offset), ordered, sorted(whole)

    _same_as_mysql(op, lambda alias: None, aliases)


def test_dates_before_year_1000_are_refused_naming_the_field(aliases):
    s2, _mysql = aliases
    old = datetime.date(999, 12, 31)
    with CaptureQueriesContext(connections[s2]) as captured:
        with pytest.raises(ValueError, match=r"0999-12-31 in s2backend\.ShapeOwner\.day"):
            ShapeOwner.objects.using(s2).create(kind="old", day=old)
        with pytest.raises(ValueError, match=r"s2backend\.ShapeOwner\.day"):
            ShapeOwner.objects.using(s2).bulk_create([ShapeOwner(kind="old", day=old)])
        with pytest.raises(ValueError, match=r"s2backend\.ShapeOwner\.day"):
            ShapeOwner.objects.using(s2).filter(kind="x").update(day=old)
    sent = [q["sql"] for q in captured.captured_queries]
    # refused before the round trip
    assert not [sql for sql in sent if sql not in ("BEGIN", "ROLLBACK")], sent
    first = datetime.date(1000, 1, 1)
    owner = ShapeOwner.objects.using(s2).create(kind="new", day=first)
    assert ShapeOwner.objects.using(s2).get(pk=owner.pk).day == first


def test_subquery_annotation_in_order_by_and_its_documented_rewrite(aliases):
    """SingleStore refuses a correlated subselect in ORDER BY (README, limitations); the join it accepts
    gives the same order."""
    s2, mysql = aliases

    def refused(alias: str) -> list[str]:
        pos = ShapeOwner.objects.filter(pk=OuterRef("owner_id")).values("pos")[:1]
        tags = ShapeTag.objects.using(alias).annotate(owner_pos=Subquery(pos))
        return list(tags.order_by("-owner_pos").values_list("name", flat=True))

    def rewrite(alias: str) -> list[str]:
        tags = ShapeTag.objects.using(alias).annotate(owner_pos=F("owner__pos"))
        return list(tags.order_by("-owner_pos").values_list("name", flat=True))

    with pytest.raises(DatabaseError, match="correlated subselect in ORDER BY"):
        refused(s2)
    zed = Exists(ShapeOwner.objects.filter(pk=OuterRef("owner_id"), kind="z"))
    with pytest.raises(DatabaseError, match="correlated subselect in ORDER BY"):
        list(ShapeTag.objects.using(s2).order_by(zed.desc(), "name"))
    assert rewrite(s2) == refused(mysql) == ["d", "c", "b", "a"]


def test_aggregate_over_a_subquery_and_its_rewrite(aliases):
    """'Subselect in aggregate functions' is refused; the join gives the same total."""
    s2, mysql = aliases

    def refused(alias: str) -> Any:
        pos = ShapeOwner.objects.filter(pk=OuterRef("owner_id")).values("pos")[:1]
        return ShapeTag.objects.using(alias).aggregate(total=Sum(Subquery(pos)))["total"]

    with pytest.raises(DatabaseError, match="Subselect in aggregate functions"):
        refused(s2)
    rewrite = ShapeTag.objects.using(s2).aggregate(total=Sum("owner__pos"))["total"]
    assert rewrite == refused(mysql) == 1 + 2 + 3 + 5


def test_collate_in_order_by_and_its_rewrite(aliases):
    """COLLATE in ORDER BY is refused; the collation kept in the select list orders the same."""
    s2, mysql = aliases
    ShapeTag.objects.using(s2).filter(name="b").update(name="B")

    def refused(alias: str) -> list[str]:
        return list(
            ShapeTag.objects.using(alias)
            .order_by(Collate("name", "utf8mb4_bin"))
            .values_list("name", flat=True)
        )

    with pytest.raises(DatabaseError, match="COLLATE in ORDER BY"):
        refused(s2)
    tags = ShapeTag.objects.using(s2).annotate(n=Collate("name", "utf8mb4_bin")).order_by("n")
    assert [t.name for t in tags] == refused(mysql) == ["B", "a", "c", "d"]
