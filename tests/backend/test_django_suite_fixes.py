"""Backend fixes found by Django's own test suite (issue 7); no server: the `unit` alias points nowhere."""

from __future__ import annotations

import django
import pytest
from django.db import DataError, models
from django.db.models import F, Value
from django.db.models.functions import Abs, Trunc
from django.db.models.sql.query import ExplainInfo

from django_singlestore.test_skips import (
    AUTO_IDS_NOT_SMALL,
    EXPECTED_FAILURES,
    SKIPS,
    expected_failures_for,
    skips_for,
)
from tests.backend.models import Child, Item

HAS_JSON_NULL = hasattr(models, "JSONNull")


def _json_default_model(name, default):
    meta = type("Meta", (), {"app_label": "s2backend_suite"})
    body = {"value": models.JSONField(db_default=default, null=True), "Meta": meta, "__module__": __name__}
    return type(name, (models.Model,), body)


@pytest.mark.skipif(not HAS_JSON_NULL, reason="environment: JSONNull is Django >= 6.1")
def test_json_null_db_default_is_a_literal(unit):
    model = _json_default_model("JSONNullDefault", models.JSONNull())
    with unit.schema_editor(collect_sql=True) as editor:
        assert editor.db_default_sql(model._meta.get_field("value")) == ("%s", ["null"])
        editor.create_model(model)
    (create,) = editor.collected_sql
    assert "`value` json DEFAULT 'null' NULL" in create
    assert "JSON_EXTRACT" not in create


def test_value_db_defaults_are_literals(unit):
    with unit.schema_editor(collect_sql=True) as editor:
        assert editor.db_default_sql(
            _json_default_model("NoneDefault", Value(None))._meta.get_field("value")
        ) == ("NULL", [])
        field = _json_default_model("DictDefault", {"a": [1]})._meta.get_field("value")
        assert editor.db_default_sql(field) == ("%s", ['{"a": [1]}'])


def test_explain_of_an_ordered_union_goes_in_front(unit):
    qs = Item.objects.filter(count=1).union(Item.objects.filter(count=2)).order_by("name")
    qs.query.explain_info = ExplainInfo("json", {})
    text, params = qs.query.get_compiler("unit").as_sql()
    assert text.startswith("EXPLAIN JSON SELECT * FROM (")
    assert text.count("EXPLAIN") == 1 and params == (1, 2)
    assert qs.query.explain_info is not None  # restored for explain_query()


def test_plain_explain_unchanged(unit):
    qs = Item.objects.filter(count=1)
    qs.query.explain_info = ExplainInfo(None, {})
    text, _ = qs.query.get_compiler("unit").as_sql()
    assert text.startswith("EXPLAIN SELECT ")


def _update_sql(queryset, **values):
    query = queryset.query.chain(django.db.models.sql.UpdateQuery)
    query.add_update_values(values)
    return query.get_compiler("unit").as_sql()


def test_update_sends_no_ordering(unit):
    """SingleStore's UPDATE grammar has no ORDER BY (issue 21); the queryset keeps its ordering."""
    qs = Item.objects.order_by("-count")
    text, _ = _update_sql(qs, name="x")
    assert text == "UPDATE `s2_item` SET `name` = %s"
    assert qs.query.order_by == ("-count",)


def test_update_drops_ordering_by_an_expression_over_a_joined_table(unit):
    qs = Item.objects.order_by(Abs("child__position"))
    text, _ = _update_sql(qs, name="x")
    assert "ORDER BY" not in text
    assert qs.query.order_by  # the queryset's own ordering is untouched


def test_update_ordering_by_expression_on_own_column_not_sent(unit):
    text, _ = _update_sql(Child.objects.order_by(Abs(F("position"))), position=1)
    assert text == "UPDATE `s2_child` SET `position` = %s"


def test_invalid_trunc_unit_is_a_data_error_and_a_value_error(unit):
    qs = Item.objects.annotate(t=Trunc("created", "year', created)) OR 1=1;--"))
    with pytest.raises(DataError, match="Invalid truncation unit"):
        qs.query.get_compiler("unit").as_sql()
    with pytest.raises(ValueError):
        qs.query.get_compiler("unit").as_sql()


def test_auto_fields_introspect_as_big_auto_field(unit):
    types = unit.features.introspected_field_types
    assert types["AutoField"] == types["SmallAutoField"] == types["BigAutoField"] == "BigAutoField"


def test_every_skip_reason_follows_the_prefix_convention():
    for reason, _tests, _applies in [*SKIPS, *EXPECTED_FAILURES]:
        assert reason.startswith(
            ("SingleStore: ", "SingleStore's planner refuses ", "gateway: ", "environment: ")
        )


def test_skips_depend_on_the_django_version():
    old, new = skips_for((5, 2)), skips_for((6, 1))
    old_ids = set().union(*old.values())
    new_ids = set().union(*new.values())
    assert "schema.tests.SchemaTests.test_m2m_create" in old_ids - new_ids
    assert "inspectdb.tests.InspectDBTestCase.test_same_relations" in old_ids & new_ids
    assert all(tests for tests in old.values())
    assert expected_failures_for((6, 1)) == {} or all(expected_failures_for((6, 1)).values())


def test_small_id_skips_apply_on_a_child_aggregator_only():
    """The master aggregator hands out AUTO_INCREMENT ids from 1 (SingleStore's "AGGREGATOR SYNC
    AUTO_INCREMENT" page); only a child aggregator's ids start above 2**50, too large for 32-bit columns."""
    for version in ((5, 2), (6, 1)):
        master = set().union(*skips_for(version).values())
        child = set().union(*skips_for(version, "child").values())
        unknown = set().union(*skips_for(version, "unknown").values())
        assert "queries.tests.RelatedLookupTypeTests" in child - master
        assert "prefetch_related.tests.GenericRelationTests" in child - master
        assert master == unknown and master < child
        assert AUTO_IDS_NOT_SMALL in skips_for(version, "child") and AUTO_IDS_NOT_SMALL not in skips_for(
            version
        )


def test_features_read_the_tables(unit):
    skips = unit.features.django_test_skips
    assert skips == skips_for(django.VERSION)
    assert unit.features.django_test_expected_failures == set().union(
        *expected_failures_for(django.VERSION).values()
    )


def test_test_databases_are_utf8mb4_unless_configured(unit):
    creation = unit.creation
    test = unit.settings_dict["TEST"]
    saved = dict(test)
    try:
        test["CHARSET"] = test["COLLATION"] = None
        assert creation.sql_table_creation_suffix() == "CHARACTER SET utf8mb4"
        test["COLLATION"] = "utf8mb4_bin"
        assert creation.sql_table_creation_suffix() == "COLLATE utf8mb4_bin"
        test["CHARSET"], test["COLLATION"] = "utf8", None
        assert creation.sql_table_creation_suffix() == "CHARACTER SET utf8"
    finally:
        test.clear()
        test.update(saved)


def test_historical_model_uses_the_installed_models_shard_key(unit):
    from django.contrib.contenttypes.models import ContentType
    from django.db.migrations.state import ModelState, ProjectState

    from django_singlestore.compiler import _installed_model, shard_key_columns

    state = ModelState.from_model(ContentType)
    state.options.pop("unique_together", None)  # a migration state before AlterUniqueTogether
    project = ProjectState()
    project.add_model(state)
    historical = project.apps.get_model("contenttypes", "ContentType")
    assert historical is not ContentType and not historical._meta.unique_together
    assert shard_key_columns(unit, ContentType) == {"app_label", "model"}
    assert shard_key_columns(unit, historical) >= {"app_label", "model"}
    assert _installed_model(historical) is ContentType
    assert _installed_model(ContentType) is None and _installed_model(Item) is None


def test_negative_json_array_index_is_refused(unit):
    from django.db import NotSupportedError

    assert unit.features.supports_json_negative_indexing is False
    with pytest.raises(NotSupportedError, match="negative JSON array indices"):
        Item.objects.filter(**{"data__-2": 1}).query.get_compiler("unit").as_sql()
    _text, params = Item.objects.filter(**{"data__2": 1}).query.get_compiler("unit").as_sql()
    assert 2 in params


def test_create_test_db_serialize_deprecation_names_the_caller(unit, monkeypatch):
    """Django 6.1 deprecates create_test_db(serialize): the warning must name the caller (Django's
    backends.base.test_creation checks ctx.filename), not the backend's creation.py; Django 5.2 gets the
    argument through unchanged. Django's own create_test_db (which creates a database) is replaced by a
    recorder: what is checked is the backend's override around it."""
    import warnings

    from django.db.backends.mysql.creation import DatabaseCreation as MySQLCreation

    from django_singlestore import creation

    calls = []
    monkeypatch.setattr(MySQLCreation, "create_test_db", lambda self, *a, **kw: calls.append((a, kw)) or "t")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert unit.creation.create_test_db(verbosity=0, serialize=False) == "t"
    if creation._SERIALIZE_DEPRECATED:
        assert [(w.filename, "serialize" in str(w.message)) for w in caught] == [(__file__, True)]
        assert calls == [((0, False), {"keepdb": False})]
    else:
        assert caught == [] and calls == [((0, False, False, False), {})]


def test_async_engine_wrapper_can_be_copied(unit):
    """Django's backends.base.test_creation copies a connection (copy.copy, which calls __new__ with no
    arguments); the async engine's wrapper picks its class in __new__ and must allow that."""
    import copy

    from django_singlestore_async.base import DatabaseWrapper as AsyncWrapper

    wrapper = AsyncWrapper({**unit.settings_dict, "ENGINE": "django_singlestore_async"}, "copied")
    copied = copy.copy(wrapper)
    assert type(copied) is AsyncWrapper and copied.settings_dict is wrapper.settings_dict
    assert copied.alias == "copied"
