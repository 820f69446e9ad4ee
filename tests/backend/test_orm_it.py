"""The ORM through the gateway (or SINGLESTORE_URL): SingleStore SQL executed, results checked.

Where the gateway's translation to MariaDB changes semantics, the test says so. No test here turns a
server error into a skip: malformed SQL from the backend (MariaDB 1064/1305 behind the gateway) fails.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.db import NotSupportedError, models, transaction
from django.db.models import F, Window
from django.db.models.fields.json import KT
from django.db.models.functions import (
    Cast,
    Chr,
    ExtractHour,
    ExtractIsoYear,
    ExtractMonth,
    JSONObject,
    Lag,
    Length,
    Now,
    Ord,
    Rank,
    RowNumber,
    TruncDay,
    TruncMonth,
    TruncQuarter,
    TruncWeek,
)
from django.test.utils import override_settings
from django.utils import timezone

from tests.backend.models import Child, Computed, Counter, Documented, Item

UTC = datetime.UTC


@pytest.fixture
def db(s2) -> Iterator:
    created = []
    with s2.schema_editor() as editor:
        for model in (Item, Counter, Child):
            editor.create_model(model)
            created.append(model)
    yield s2


def using(model):
    return model.objects.using("s2")


def names(queryset) -> list[str]:
    return sorted(queryset.values_list("name", flat=True))


def test_crud_and_big_auto_increment_ids(db):
    first = using(Item).create(name="one", count=1, amount=Decimal("1.50"), score=0.25)
    second = using(Item).create(name="two")
    assert first.pk and second.pk and first.pk != second.pk
    assert using(Item).get(pk=second.pk).name == "two"
    assert using(Item).filter(pk=first.pk).update(count=F("count") + 1) == 1
    fetched = using(Item).get(pk=first.pk)
    assert (fetched.count, fetched.amount, fetched.score) == (2, Decimal("1.50"), 0.25)
    # A ForeignKey column to such ids must be BIGINT too: issue 4 (schema) widens FK columns.
    first.delete(using="s2")
    assert names(using(Item).all()) == ["two"]


JSON_ROWS = {
    "a": {"k": "Value", "n": 3, "nested": {"x": [10, 20]}, "nil": None},
    "b": {"k": "other", "n": 12},
    "c": [1, 2],
    "d": None,
}
# `JSON_EXTRACT_JSON(data, 'k') = (('"Value"') :> JSON)` compares JSON values; through the gateway it
# compares JSON_NORMALIZE(...) of both sides in MariaDB (translate.py names the semantic difference).
JSON_CASES = {
    "key exact": ({"data__k": "Value"}, ["a"]),
    "key exact (nested index)": ({"data__nested__x__1": 20}, ["a"]),
    "key lt (number)": ({"data__n__lt": 5}, ["a"]),
    "key gte (number)": ({"data__n__gte": 5}, ["b"]),
    "has_key": ({"data__has_key": "nested"}, ["a"]),
    "has_keys": ({"data__has_keys": ["k", "n"]}, ["a", "b"]),
    "has_any_keys": ({"data__has_any_keys": ["nested", "zzz"]}, ["a"]),
    "key isnull False": ({"data__nested__isnull": False}, ["a"]),
    "key isnull True": ({"data__nested__isnull": True}, ["b", "c", "d"]),
    "key in": ({"data__k__in": ["other", "Value"]}, ["a", "b"]),
    "key iexact": ({"data__k__iexact": "VALUE"}, ["a"]),
    "key icontains": ({"data__k__icontains": "ALU"}, ["a"]),
    "key startswith": ({"data__k__startswith": "oth"}, ["b"]),
    "document exact": ({"data": {"k": "other", "n": 12}}, ["b"]),
    "key is JSON null": ({"data__nil": None}, ["a"]),
    # SingleStore reads a numeric key on an array as an index ('JSON Keypaths'); has_key means an
    # object's key, so an array never has one.
    "has_key numeric on an array": ({"data__has_key": "0"}, []),
    "has_any_keys numeric on an array": ({"data__has_any_keys": ["1", "zzz"]}, []),
    "nested has_key numeric on an array": ({"data__nested__x__has_key": "1"}, []),
}


@pytest.fixture
def json_items(db):
    using(Item).bulk_create([Item(name=name, data=data) for name, data in JSON_ROWS.items()])
    return using(Item)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("case", sorted(JSON_CASES))
def test_json_lookup(json_items, case):
    lookup, expected = JSON_CASES[case]
    assert names(json_items.filter(**lookup)) == expected


def test_json_key_transforms_in_select(json_items):
    texts = dict(json_items.annotate(t=KT("data__k")).values_list("name", "t"))
    assert texts == {"a": "Value", "b": "other", "c": None, "d": None}
    assert json_items.get(name="a").data["nested"] == {"x": [10, 20]}
    assert json_items.annotate(x=F("data__nested__x")).get(name="a").x == [10, 20]


def test_json_contains_is_not_supported(db):
    with pytest.raises(NotSupportedError):
        list(using(Item).filter(data__contains={"k": "Value"}))


def test_cast(db):
    using(Item).create(name="42", count=7)
    row = (
        using(Item)
        .annotate(
            as_int=Cast("name", models.IntegerField()),
            as_float=Cast("count", models.FloatField()),
            as_text=Cast("count", models.CharField(max_length=10)),
        )
        .get()
    )
    assert (row.as_int, row.as_float, row.as_text) == (42, 7.0, "7")


@pytest.fixture
def events(db):
    # 2024-01-31 23:30 UTC is 2024-02-01 00:30 in Paris (UTC+1 in winter).
    moment = datetime.datetime(2024, 1, 31, 23, 30, 15, 123456, tzinfo=UTC)
    with override_settings(USE_TZ=True, TIME_ZONE="UTC"):
        using(Item).create(
            name="e", created=moment, day=datetime.date(2021, 1, 3), at=datetime.time(10, 45, 5)
        )
    return moment


def test_datetimes_are_stored_as_naive_utc(events, db):
    with db.cursor() as cursor:
        cursor.execute("SELECT created FROM s2_item")
        assert cursor.fetchone()[0] == datetime.datetime(2024, 1, 31, 23, 30, 15, 123456)


@override_settings(USE_TZ=True, TIME_ZONE="Europe/Paris")
def test_trunc_and_extract_in_a_non_utc_time_zone(events, db):
    row = (
        using(Item)
        .annotate(
            month=TruncMonth("created"),
            day_=TruncDay("created"),
            m=ExtractMonth("created"),
            h=ExtractHour("created"),
        )
        .get()
    )
    paris = timezone.get_current_timezone()
    assert row.month == datetime.datetime(2024, 2, 1, tzinfo=paris)
    assert row.day_ == datetime.datetime(2024, 2, 1, tzinfo=paris)
    assert (row.m, row.h) == (2, 0)
    assert row.created == events
    assert using(Item).filter(created__month=2, created__day=1).count() == 1


@override_settings(USE_TZ=True, TIME_ZONE="UTC")
def test_trunc_units_and_iso_year_in_utc(events, db):
    row = (
        using(Item)
        .annotate(
            q=TruncQuarter("created"), w=TruncWeek("created"), wd=TruncWeek("day"), iy=ExtractIsoYear("day")
        )
        .get()
    )
    assert row.q == datetime.datetime(2024, 1, 1, tzinfo=UTC)
    assert row.w == datetime.datetime(2024, 1, 29, tzinfo=UTC)  # Monday
    assert row.wd == datetime.date(2020, 12, 28)
    assert row.iy == 2020  # 2021-01-03 belongs to ISO week 53 of 2020


@override_settings(USE_TZ=False)
def test_naive_datetimes_without_time_zone_support(db):
    naive = datetime.datetime(2024, 1, 31, 23, 30)
    using(Item).create(name="n", created=naive)
    row = using(Item).annotate(month=TruncMonth("created"), now=Now()).get()
    assert row.created == naive
    assert row.month == datetime.datetime(2024, 1, 1)
    assert timezone.is_naive(row.now)


@override_settings(USE_TZ=True, TIME_ZONE="UTC")
def test_now_is_utc(db):
    row = using(Item).annotate(now=Now()).values_list("now", flat=True)
    using(Item).create(name="x")
    (value,) = list(row)
    assert abs((value - timezone.now()).total_seconds()) < 120


def test_regex_lookups(db):
    using(Item).bulk_create([Item(name="Apple"), Item(name="apricot"), Item(name="banana")])
    assert names(using(Item).filter(name__regex="^ap")) == ["apricot"]
    assert names(using(Item).filter(name__iregex="^ap")) == ["Apple", "apricot"]
    assert names(using(Item).filter(name__regex="an{1}a$")) == ["banana"]


@pytest.mark.parametrize("make_alias", ["utf8mb4_bin"], indirect=True)
def test_case_insensitive_lookups_under_a_binary_collation(db):
    using(Item).bulk_create([Item(name="Straße", note="MiXeD"), Item(name="other", note="mixed")])
    with db.cursor() as cursor:  # the collation really is binary: plain LIKE is case-sensitive
        cursor.execute("SELECT COUNT(*) FROM s2_item WHERE note LIKE 'mixed'")
        assert cursor.fetchone()[0] == 1
    assert names(using(Item).filter(note__iexact="MIXED")) == ["Straße", "other"]
    assert names(using(Item).filter(note__icontains="XE")) == ["Straße", "other"]
    assert names(using(Item).filter(name__istartswith="STR")) == ["Straße"]
    assert names(using(Item).filter(note__iendswith="ED")) == ["Straße", "other"]
    assert names(using(Item).filter(note__contains="XeD")) == ["Straße"]
    assert names(using(Item).filter(name__icontains=F("note"))) == []


def test_window_functions(db):
    using(Item).bulk_create([Item(name=n, count=c) for n, c in (("a", 3), ("b", 1), ("c", 3), ("d", 2))])
    rows = using(Item).annotate(
        r=Window(Rank(), order_by=F("count").desc()),
        rn=Window(RowNumber(), order_by=[F("count").asc(), F("name").asc()]),
        prev=Window(Lag("count"), order_by=F("name").asc()),
    )
    got = {row.name: (row.r, row.rn, row.prev) for row in rows}
    assert got == {"a": (1, 3, None), "b": (4, 1, 3), "c": (1, 4, 1), "d": (3, 2, 3)}


def test_bulk_create_ignore_and_update_conflicts(db):
    counters = using(Counter)
    counters.bulk_create([Counter(key="a", value=1, label="first"), Counter(key="b", value=2)])
    counters.bulk_create([Counter(key="a", value=100), Counter(key="c", value=3)], ignore_conflicts=True)
    assert dict(counters.values_list("key", "value")) == {"a": 1, "b": 2, "c": 3}
    counters.bulk_create(
        [Counter(key="a", value=10, label="new"), Counter(key="d", value=4)],
        update_conflicts=True,
        update_fields=["value"],
    )
    assert dict(counters.values_list("key", "value")) == {"a": 10, "b": 2, "c": 3, "d": 4}
    assert counters.get(key="a").label == "first"  # only update_fields changed
    with pytest.raises(NotSupportedError):
        counters.bulk_create(
            [Counter(key="a")], update_conflicts=True, update_fields=["value"], unique_fields=["key"]
        )


def test_select_for_update(db):
    item = using(Item).create(name="locked")
    with transaction.atomic(using="s2"):
        assert using(Item).select_for_update().get(pk=item.pk).name == "locked"
        for flags in ({"nowait": True}, {"skip_locked": True}, {"of": ("self",)}):
            with pytest.raises(NotSupportedError):
                list(using(Item).select_for_update(**flags))


def test_select_for_update_with_a_join_on_columnstore_is_refused(db, testbed):
    """SingleStore refuses FOR UPDATE with a join involving a columnstore table (1706)."""
    with transaction.atomic(using="s2"), pytest.raises(NotSupportedError) as info:
        list(using(Child).select_related("item").select_for_update())
    assert info.value.args[0] == 1706


def test_explain(db):
    using(Item).create(name="x")
    assert using(Item).filter(name="x").explain()
    with pytest.raises(NotSupportedError, match="ANALYZE"):
        using(Item).explain(analyze=True)
    plan = using(Item).filter(name="x").explain(format="json")
    json.loads(plan)


def test_db_default_and_comments(s2, testbed):
    with s2.schema_editor() as editor:
        editor.create_model(Documented)
    doc = using(Documented).create(title="t")
    doc.refresh_from_db(using="s2")
    assert (doc.size, doc.kind) == (5, "plain")
    assert doc.stamped is not None
    with s2.cursor() as cursor:
        cursor.execute(
            "SELECT column_comment FROM information_schema.columns "
            "WHERE table_schema = DATABASE() AND table_name = 's2_documented' AND column_name = 'title'"
        )
        assert cursor.fetchone()[0] == "the title, shown to users"
        cursor.execute(
            "SELECT table_comment FROM information_schema.tables "
            "WHERE table_schema = DATABASE() AND table_name = 's2_documented'"
        )
        assert cursor.fetchone()[0] == "models with comments and database defaults"
    with pytest.raises(NotSupportedError), s2.schema_editor() as editor:
        editor.alter_db_table_comment(Documented, "models with comments and database defaults", "changed")


def test_generated_field_is_a_persisted_computed_column(s2):
    with s2.schema_editor() as editor:
        editor.create_model(Computed)
    obj = using(Computed).create(width=4, height=5)
    obj.refresh_from_db(using="s2")
    assert obj.area == 20
    assert using(Computed).filter(area__gt=10).count() == 1


def test_length_and_other_functions(db):
    using(Item).create(name="Straße", count=65)
    row = using(Item).annotate(n=Length("name"), o=Ord("name"), c=Chr("count")).get()
    assert (row.n, row.o, row.c) == (6, 83, "A")


def test_json_object(db):
    using(Item).create(name="x", count=3)
    value = using(Item).annotate(j=JSONObject(name="name", n="count")).get().j
    assert value == {"name": "x", "n": 3}


def test_rename_column_and_table(s2):

    with s2.schema_editor() as editor:
        editor.create_model(Counter)
    using(Counter).create(key="k", value=1, label="kept")
    old = Counter._meta.get_field("label")
    new = models.CharField(max_length=50, default="")
    new.set_attributes_from_name("caption")
    new.model = Counter
    with s2.schema_editor() as editor:
        editor.alter_field(Counter, old, new)
    with s2.schema_editor() as editor:
        editor.alter_db_table(Counter, "s2_counter", "s2_counter_renamed")
    with s2.cursor() as cursor:
        cursor.execute("SELECT caption FROM s2_counter_renamed WHERE `key` = 'k'")
        assert cursor.fetchone() == ("kept",)
