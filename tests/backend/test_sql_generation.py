"""SQL the ORM compiles to on SingleStore (no server: the `unit` alias points nowhere)."""

from __future__ import annotations

import datetime

import pytest
from django.db import NotSupportedError
from django.db.models import F, FloatField, IntegerField, JSONField, Window
from django.db.models.fields.json import KT
from django.db.models.functions import (
    Cast,
    Chr,
    CumeDist,
    ExtractIsoYear,
    ExtractWeekDay,
    JSONObject,
    Lag,
    Length,
    Now,
    Ord,
    Rank,
    TruncDay,
    TruncMonth,
    TruncWeek,
)
from django.test.utils import override_settings

from tests.backend.models import Item


def sql(queryset, using="unit"):
    text, params = queryset.query.get_compiler(using).as_sql()
    return text, tuple(params)


def where(queryset):
    text, params = sql(queryset)
    return text.split(" WHERE ", 1)[1], params


def test_key_transform_uses_json_extract_json_with_key_arguments(unit):
    clause, params = where(Item.objects.filter(data__a__b="x"))
    assert clause == "JSON_EXTRACT_JSON(`s2_item`.`data`, %s, %s) = ((%s) :> JSON)"
    assert params == ("a", "b", '"x"')


def test_array_index_is_an_integer_key_argument(unit):
    _clause, params = where(Item.objects.filter(data__list__1="x"))
    assert params[:2] == ("list", 1)


def test_key_text_transform_uses_json_extract_string(unit):
    text, params = sql(Item.objects.annotate(t=KT("data__a__b")).values("t"))
    assert "JSON_EXTRACT_STRING(`s2_item`.`data`, %s, %s) AS `t`" in text
    assert params == ("a", "b")


def test_numeric_key_comparison_uses_json_extract_double_and_text_uses_string(unit):
    clause, params = where(Item.objects.filter(data__n__lt=5))
    assert clause == "JSON_EXTRACT_DOUBLE(`s2_item`.`data`, %s) < %s" and params == ("n", 5)
    clause, params = where(Item.objects.filter(data__s__gte="m"))
    assert clause.startswith("JSON_EXTRACT_STRING(`s2_item`.`data`, %s) >= ")


def test_numeric_key_comparison_with_a_numeric_expression(unit):
    clause, _ = where(Item.objects.filter(data__n__gt=F("count")))
    assert clause == "JSON_EXTRACT_DOUBLE(`s2_item`.`data`, %s) > (`s2_item`.`count`)"


@pytest.mark.skipif(
    not hasattr(__import__("django.db.models", fromlist=["JSONNull"]), "JSONNull"),
    reason="environment: JSONNull is Django >= 6.1",
)
def test_json_null_is_cast_to_json(unit):
    from django.db.models import JSONNull

    clause, params = where(Item.objects.filter(data__k=JSONNull()))
    assert clause == "JSON_EXTRACT_JSON(`s2_item`.`data`, %s) = ((%s) :> JSON)" and params == ("k", "null")


def test_has_key_lookups_use_json_match_any_exists(unit):
    clause, params = where(Item.objects.filter(data__has_key="a"))
    assert clause == "JSON_MATCH_ANY_EXISTS(`s2_item`.`data`, %s)" and params == ("a",)
    clause, params = where(Item.objects.filter(data__x__has_keys=["b", "c"]))
    assert clause.count("JSON_MATCH_ANY_EXISTS") == 2 and " AND " in clause
    assert params == ("x", "b", "x", "c")
    clause, _ = where(Item.objects.filter(data__has_any_keys=["b", "c"]))
    assert " OR " in clause
    # a numeric key must be an object's key, not an array index
    clause, params = where(Item.objects.filter(data__x__has_key="0"))
    assert clause == (
        "(JSON_MATCH_ANY_EXISTS(`s2_item`.`data`, %s, %s) AND "
        "JSON_GET_TYPE(JSON_EXTRACT_JSON(`s2_item`.`data`, %s)) = 'object')"
    )
    assert params == ("x", "0", "x")


def test_key_isnull(unit):
    clause, params = where(Item.objects.filter(data__a__isnull=False))
    assert clause == "JSON_MATCH_ANY_EXISTS(`s2_item`.`data`, %s)" and params == ("a",)
    clause, _params = where(Item.objects.filter(data__a__isnull=True))
    assert clause == "(NOT JSON_MATCH_ANY_EXISTS(`s2_item`.`data`, %s) OR `s2_item`.`data` IS NULL)"


def test_json_exact_and_in_cast_the_value_to_json(unit):
    clause, params = where(Item.objects.filter(data={"a": 1}))
    assert clause == "`s2_item`.`data` = ((%s) :> JSON)" and params == ('{"a": 1}',)
    clause, params = where(Item.objects.filter(data__k__in=["x", 2]))
    assert clause == "JSON_EXTRACT_JSON(`s2_item`.`data`, %s) IN (((%s) :> JSON), ((%s) :> JSON))"
    assert params == ("k", '"x"', "2")


def test_json_contains_is_refused(unit):
    with pytest.raises(NotSupportedError):
        sql(Item.objects.filter(data__contains={"a": 1}))


def test_cast_uses_the_cast_operator_with_column_types(unit):
    text, _ = sql(
        Item.objects.annotate(
            f=Cast("count", FloatField()), i=Cast("name", IntegerField()), j=Cast("name", JSONField())
        ).values("f", "i", "j")
    )
    assert "((`s2_item`.`count`) :> DOUBLE) AS `f`" in text
    assert "((`s2_item`.`name`) :> INT) AS `i`" in text
    assert "((`s2_item`.`name`) :> JSON) AS `j`" in text


def test_trunc_uses_date_trunc(unit):
    text, _ = sql(Item.objects.annotate(m=TruncMonth("created"), w=TruncWeek("day")).values("m", "w"))
    assert "((DATE_TRUNC('month', `s2_item`.`created`)) :> DATETIME(6)) AS `m`" in text
    assert "((DATE_TRUNC('week', `s2_item`.`day`)) :> DATE) AS `w`" in text


@override_settings(USE_TZ=True, TIME_ZONE="Europe/Paris")
def test_trunc_and_extract_convert_from_utc_to_the_current_zone_first(unit):
    text, params = sql(
        Item.objects.annotate(d=TruncDay("created"), y=ExtractWeekDay("created")).values("d", "y")
    )
    assert "DATE_TRUNC('day', CONVERT_TZ(`s2_item`.`created`, %s, %s))" in text
    assert "DAYOFWEEK(CONVERT_TZ(`s2_item`.`created`, %s, %s))" in text
    assert params == ("UTC", "Europe/Paris", "UTC", "Europe/Paris")


@override_settings(USE_TZ=False)
def test_trunc_without_time_zone_support_does_not_convert(unit):
    text, params = sql(Item.objects.annotate(d=TruncDay("created")).values("d"))
    assert "CONVERT_TZ" not in text and params == ()


def test_iso_year_is_the_year_of_the_weeks_thursday(unit):
    text, _ = sql(Item.objects.annotate(y=ExtractIsoYear("day")).values("y"))
    assert "YEAR(DATE_ADD(`s2_item`.`day`, INTERVAL (3 - WEEKDAY(`s2_item`.`day`)) DAY)) AS `y`" in text


def test_regex_lookups_use_six_argument_regexp_instr(unit):
    clause, params = where(Item.objects.filter(name__regex="^a"))
    assert clause == "REGEXP_INSTR(`s2_item`.`name`, %s, 1, 1, 0, 'c') > 0" and params == ("^a",)
    clause, _params = where(Item.objects.filter(name__iregex="^a"))
    assert clause == "REGEXP_INSTR(`s2_item`.`name`, %s, 1, 1, 0, 'i') > 0"


def test_case_insensitive_lookups_lower_both_sides(unit):
    for lookup, pattern in (
        ("iexact", "Ab"),
        ("icontains", "%Ab%"),
        ("istartswith", "Ab%"),
        ("iendswith", "%Ab"),
    ):
        clause, params = where(Item.objects.filter(**{f"name__{lookup}": "Ab"}))
        assert clause == "LOWER(`s2_item`.`name`) LIKE LOWER(%s)", lookup
        assert params == (pattern,)
    clause, _ = where(Item.objects.filter(name__icontains=F("note")))
    assert clause.startswith("LOWER(`s2_item`.`name`) LIKE LOWER(CONCAT(")


def test_json_case_insensitive_lookups_lower_once(unit):
    clause, params = where(Item.objects.filter(data__k__icontains="X"))
    assert clause == "LOWER(JSON_EXTRACT_STRING(`s2_item`.`data`, %s)) LIKE LOWER(%s)"
    assert params == ("k", "%X%")
    clause, _ = where(Item.objects.filter(data__k__iregex="^x"))
    assert clause == "REGEXP_INSTR(JSON_EXTRACT_STRING(`s2_item`.`data`, %s), %s, 1, 1, 0, 'i') > 0"


def test_case_sensitive_lookups_stay_binary(unit):
    clause, _ = where(Item.objects.filter(name__contains="Ab"))
    assert clause == "`s2_item`.`name` LIKE BINARY %s"


def test_window_functions_compile_and_cume_dist_is_refused(unit):
    text, _ = sql(
        Item.objects.annotate(r=Window(Rank(), order_by="count"), lg=Window(Lag("count"), order_by="id"))
    )
    assert "RANK() OVER (ORDER BY `s2_item`.`count`)" in text
    assert "LAG(`s2_item`.`count`, %s) OVER (ORDER BY `s2_item`.`id`)" in text
    with pytest.raises(NotSupportedError, match="CUME_DIST"):
        sql(Item.objects.annotate(c=Window(CumeDist(), order_by="count")))


def test_functions_with_singlestore_spellings(unit):
    text, _ = sql(
        Item.objects.annotate(l=Length("name"), o=Ord("name"), c=Chr("count"), j=JSONObject(a="name")).values(
            "l", "o", "c", "j"
        )
    )
    assert "CHARACTER_LENGTH(`s2_item`.`name`) AS `l`" in text
    assert "ASCII(`s2_item`.`name`) AS `o`" in text
    assert "((CHAR(`s2_item`.`count`)) :> LONGTEXT) AS `c`" in text
    assert "JSON_BUILD_OBJECT(%s, `s2_item`.`name`) AS `j`" in text


@override_settings(USE_TZ=True, TIME_ZONE="UTC")
def test_now_is_utc_under_use_tz(unit):
    assert "UTC_TIMESTAMP(6) AS `n`" in sql(Item.objects.annotate(n=Now()).values("n"))[0]


@override_settings(USE_TZ=False)
def test_now_is_local_without_use_tz(unit):
    assert "CURRENT_TIMESTAMP(6) AS `n`" in sql(Item.objects.annotate(n=Now()).values("n"))[0]


def test_bulk_insert_ignore_and_update_conflicts(unit):
    from django.db.models.constants import OnConflict

    ops = unit.ops
    assert ops.insert_statement(on_conflict=OnConflict.IGNORE) == "INSERT IGNORE INTO"
    suffix = ops.on_conflict_suffix_sql([], OnConflict.UPDATE, ["value", "label"], [])
    assert suffix == "ON DUPLICATE KEY UPDATE `value` = VALUES(`value`), `label` = VALUES(`label`)"


def test_explain_prefixes(unit):
    ops = unit.ops
    assert ops.explain_query_prefix() == "EXPLAIN"
    assert ops.explain_query_prefix("json") == "EXPLAIN JSON"
    assert ops.explain_query_prefix("TEXT") == "EXPLAIN"
    with pytest.raises(ValueError):
        ops.explain_query_prefix("TREE")
    with pytest.raises(NotSupportedError, match="ANALYZE"):
        ops.explain_query_prefix(analyze=True)


def test_flush_has_no_foreign_key_switches(unit):
    from django.core.management.color import no_style

    assert unit.ops.sql_flush(no_style(), ["a"]) == ["DELETE FROM `a`;"]
    assert unit.ops.sql_flush(no_style(), ["a"], reset_sequences=True) == ["TRUNCATE TABLE `a`;"]
    assert unit.ops.sequence_reset_by_name_sql(no_style(), [{"table": "a", "column": "id"}]) == []


def test_datetime_values_are_stored_naive_utc(unit):
    aware = datetime.datetime(2024, 3, 1, 12, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    with override_settings(USE_TZ=True):
        assert unit.ops.adapt_datetimefield_value(aware) == "2024-03-01 10:00:00"
