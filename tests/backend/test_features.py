"""Features are static SingleStore facts; the server facts come from one query, once per alias."""

from __future__ import annotations

import pytest
from django.db import NotSupportedError
from django.db.backends.base.features import BaseDatabaseFeatures

from django_singlestore import MINIMUM_SINGLESTORE_VERSION
from django_singlestore.base import (
    DatabaseWrapper,
    ServerData,
    _server_data_cache,
    forget_server_data,
    parse_singlestore_version,
)
from tests.backend.conftest import UNREACHABLE
from tests.dbtools import alias_settings

EXPECTED = {
    "mysql_is_mariadb": False,
    "can_return_columns_from_insert": False,
    "can_return_rows_from_bulk_insert": False,
    "supports_column_check_constraints": False,
    "supports_table_check_constraints": False,
    "uses_savepoints": False,
    "can_release_savepoints": False,
    "supports_foreign_keys": False,
    "can_create_inline_fk": False,
    "supports_deferrable_unique_constraints": False,
    "can_defer_constraint_checks": False,
    "has_select_for_update": True,
    "has_select_for_update_nowait": False,
    "has_select_for_update_skip_locked": False,
    "has_select_for_update_of": False,
    "supports_over_clause": True,
    "supports_stored_generated_columns": True,
    "supports_virtual_generated_columns": False,
    "supports_json_field_contains": False,
    "supports_explain_analyze": False,
    "allows_auto_pk_0": False,
    "supports_transactions": True,
    "can_clone_databases": False,
    "supports_comments": True,
    "supports_comments_inline": True,
}


def feature_names():
    return sorted(
        name
        for cls in DatabaseWrapper.features_class.__mro__
        if issubclass(cls, BaseDatabaseFeatures)
        for name in vars(cls)
        if not name.startswith("__") and name not in {"django_test_skips", "django_test_expected_failures"}
    )


def test_singlestore_facts(unit):
    for name, value in EXPECTED.items():
        owner = unit if name == "mysql_is_mariadb" else unit.features
        assert getattr(owner, name) == value, name
    assert unit.features.minimum_database_version == MINIMUM_SINGLESTORE_VERSION


def test_reading_every_feature_does_no_io(unit):
    values = {}
    for name in feature_names():
        value = getattr(unit.features, name)
        if not callable(value):
            values[name] = value
    assert unit.connection is None  # nothing connected (and the address is unreachable anyway)
    other = DatabaseWrapper(alias_settings(UNREACHABLE, "other_db"), "other")
    assert {n: getattr(other.features, n) for n in values} == values


def test_mysql_server_data_is_never_read(unit):
    with pytest.raises(NotSupportedError, match="singlestore_server_data"):
        unit.mysql_server_data  # noqa: B018


@pytest.mark.parametrize(
    ("text", "version"),
    [("8.9.3", (8, 9, 3)), ("9.0.12", (9, 0, 12)), ("8.5", (8, 5)), ("10.0.1-abc", (10, 0, 1))],
)
def test_version_parsing(text, version):
    assert parse_singlestore_version(text) == version


def test_server_data_is_cached_per_alias_and_old_versions_are_refused(monkeypatch):
    wrapper = DatabaseWrapper(alias_settings(UNREACHABLE, "db"), "versioned")
    calls = []

    def read(self):
        calls.append(self.alias)
        return ServerData("8.1.0", (8, 1, 0), frozenset({"STRICT_ALL_TABLES"}))

    monkeypatch.setattr(DatabaseWrapper, "_read_server_data", read)
    forget_server_data("versioned")
    try:
        with pytest.raises(
            NotSupportedError, match=r"SingleStore 8\.5 or later is required \(found 8\.1\.0\)"
        ):
            wrapper.check_database_version_supported()
        second = DatabaseWrapper(alias_settings(UNREACHABLE, "db"), "versioned")
        assert second.get_database_version() == (8, 1, 0)
        assert second.sql_mode == {"STRICT_ALL_TABLES"}
        assert calls == ["versioned"]
    finally:
        forget_server_data("versioned")
    assert not any(key[0] == "versioned" for key in _server_data_cache)


def test_strict_mode_warning_when_the_server_is_not_strict(monkeypatch):
    wrapper = DatabaseWrapper(alias_settings(UNREACHABLE, "db"), "lenient")
    monkeypatch.setattr(
        DatabaseWrapper, "_read_server_data", lambda self: ServerData("8.9.0", (8, 9, 0), frozenset())
    )
    forget_server_data("lenient")
    try:
        (warning,) = [
            issue for issue in wrapper.validation._check_sql_mode() if issue.id == "singlestore.W001"
        ]
    finally:
        forget_server_data("lenient")
    assert warning.id == "singlestore.W001" and "lenient" in warning.msg


def test_async_engine_adds_only_its_mocked_ensure_connection_skip(unit):
    """The async engine's features are the sync backend's plus one skip of Django's suite (a test that
    mocks BaseDatabaseWrapper.ensure_connection, which the engine's override calls)."""
    from django_singlestore_async.base import DatabaseWrapper as AsyncWrapper

    settings = {**unit.settings_dict, "ENGINE": "django_singlestore_async"}
    features = AsyncWrapper.features_class(AsyncWrapper(settings, alias="async_unit_features"))
    sync_skips, async_skips = unit.features.django_test_skips, features.django_test_skips
    added = {test for tests in async_skips.values() for test in tests} - {
        test for tests in sync_skips.values() for test in tests
    }
    assert added == {
        "test_utils.tests.AssertNumQueriesUponConnectionTests.test_ignores_connection_configuration_queries"
    }
    assert all(async_skips[reason] >= tests for reason, tests in sync_skips.items())
