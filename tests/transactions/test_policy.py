"""The transaction policy without a server: settings, the environment variable, features per alias,
aggregator roles and the 2549 text."""

from __future__ import annotations

import MySQLdb
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError

from django_singlestore.base import SERVER_DATA_QUERY, DatabaseWrapper, ServerData
from django_singlestore.errors import ReferenceTableWriteOnChildAggregator, django_exception_for
from django_singlestore.transactions import (
    REFERENCE_WRITE_REMEDIES,
    SKIP_AUTOCOMMIT_ENV,
    aggregator_role,
    parse_skip_autocommit_env,
    transaction_policy_for,
)
from tests.backend.conftest import UNREACHABLE
from tests.dbtools import alias_settings


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes", "Yes", "on", " 1 "])
def test_env_true_values(value):
    assert parse_skip_autocommit_env(value) is True


@pytest.mark.parametrize("value", ["0", "false", "False", "no", "off", "", "  "])
def test_env_false_values(value):
    assert parse_skip_autocommit_env(value) is False


def test_env_unset_means_no_opinion():
    assert parse_skip_autocommit_env(None) is None


@pytest.mark.parametrize("value", ["2", "y", "enable", "truee", "-1"])
def test_env_anything_else_is_refused_naming_the_variable(value):
    with pytest.raises(ImproperlyConfigured, match=SKIP_AUTOCOMMIT_ENV) as info:
        parse_skip_autocommit_env(value)
    assert repr(value) in str(info.value)


def settings_dict(**options):
    return alias_settings(UNREACHABLE, "s2_unit_tx", **options)


def test_policy_defaults_to_transactions():
    policy = transaction_policy_for("a", settings_dict(), environ={})
    assert (policy.skip_autocommit, policy.source, policy.sends_transaction_control) == (
        False,
        "default",
        True,
    )


def test_policy_option_env_and_precedence():
    assert transaction_policy_for("a", settings_dict(skip_autocommit=True), environ={}).source == "OPTIONS"
    from_env = transaction_policy_for("a", settings_dict(), environ={SKIP_AUTOCOMMIT_ENV: "yes"})
    assert from_env.skip_autocommit is True and from_env.source == SKIP_AUTOCOMMIT_ENV
    opted_out = transaction_policy_for(
        "a", settings_dict(skip_autocommit=False), environ={SKIP_AUTOCOMMIT_ENV: "1"}
    )
    assert opted_out.skip_autocommit is False and opted_out.source == "OPTIONS"
    # A bad variable is refused even where the option decides: the process configuration is wrong.
    with pytest.raises(ImproperlyConfigured, match=SKIP_AUTOCOMMIT_ENV):
        transaction_policy_for("a", settings_dict(skip_autocommit=True), environ={SKIP_AUTOCOMMIT_ENV: "x"})


def test_skip_autocommit_with_autocommit_false_is_refused():
    sd = dict(settings_dict(skip_autocommit=True), AUTOCOMMIT=False)
    with pytest.raises(ImproperlyConfigured, match="AUTOCOMMIT=False"):
        transaction_policy_for("a", sd, environ={})
    sd = dict(settings_dict(), AUTOCOMMIT=False)
    assert transaction_policy_for("a", sd, environ={}).skip_autocommit is False


def test_features_are_per_alias_and_need_no_server(monkeypatch):
    monkeypatch.delenv(SKIP_AUTOCOMMIT_ENV, raising=False)
    normal = DatabaseWrapper(settings_dict(), "tx_normal")
    skipping = DatabaseWrapper(settings_dict(skip_autocommit=True), "tx_skip")
    assert type(normal.features) is type(skipping.features)
    assert normal.features.supports_transactions is True
    assert skipping.features.supports_transactions is False
    for conn in (normal, skipping):
        assert conn.features.uses_savepoints is False
        assert conn.features.can_release_savepoints is False
        assert conn.connection is None  # nothing connected (UNREACHABLE would have failed anyway)


def test_features_can_still_be_patched_per_instance(monkeypatch):
    conn = DatabaseWrapper(settings_dict(), "tx_patch")
    monkeypatch.setattr(conn.features, "supports_transactions", False)
    assert conn.features.supports_transactions is False


@pytest.mark.parametrize(
    ("value", "role"),
    [
        ("self", "master"),
        ("SELF", "master"),
        (b"self", "master"),
        ("10.0.0.1:3306", "child"),
        # Host names that sort after "self" are masters' addresses too, not "self".
        ("svc-master.internal:3306", "child"),
        ("singlestore-master-0:3306", "child"),
        ("", "unknown"),
        (None, "unknown"),
    ],
)
def test_aggregator_role(value, role):
    assert aggregator_role(value) == role


def test_server_data_from_a_row_of_each_shape():
    full = ServerData.from_row(("8.9.3", "STRICT_ALL_TABLES", "127.0.0.1:3306", 1))
    assert (full.version, full.aggregator_role, full.aggregator_id) == ((8, 9, 3), "child", 1)
    basic = ServerData.from_row(("8.9.3", "STRICT_ALL_TABLES"))
    assert basic.aggregator_role == "unknown" and basic.aggregator_id is None
    assert ServerData.from_row((b"8.9.3", b"", b"self", "0")).aggregator_role == "master"
    assert SERVER_DATA_QUERY.startswith("SELECT @@memsql_version, @@sql_mode")


def test_2549_keeps_the_servers_args_and_names_the_remedies():
    server_text = (
        "Writing to a reference table in multi-statement transaction is not permitted on child "
        "aggregators. Try the command again on the master aggregator."
    )
    exc = django_exception_for(MySQLdb.OperationalError(2549, server_text))
    assert isinstance(exc, ReferenceTableWriteOnChildAggregator) and isinstance(exc, OperationalError)
    assert exc.args == (2549, server_text)
    text = str(exc)
    assert text.startswith(f"(2549) {server_text}")
    assert text.endswith(REFERENCE_WRITE_REMEDIES)
    for remedy in ("sharded", "master aggregator", "skip_autocommit", "DJANGO_SINGLESTORE_SKIP_AUTOCOMMIT"):
        assert remedy in REFERENCE_WRITE_REMEDIES


class _FakeCursor:
    def __init__(self, answers):
        self.answers = answers
        self.sent = []
        self.row = None

    def execute(self, sql):
        self.sent.append(sql)
        answer = self.answers[len(self.sent) - 1]
        if isinstance(answer, Exception):
            raise answer
        self.row = answer

    def fetchone(self):
        return self.row


def _read_with(monkeypatch, answers):
    import contextlib

    cursor = _FakeCursor(answers)
    conn = DatabaseWrapper(settings_dict(), "tx_fake")

    @contextlib.contextmanager
    def fake_connection():
        yield cursor

    monkeypatch.setattr(conn, "temporary_connection", fake_connection)
    return conn._read_server_data(), cursor.sent


def test_a_server_without_an_aggregator_variable_falls_back_to_the_basic_query(monkeypatch):
    from django_singlestore.base import SERVER_DATA_QUERY_BASIC

    missing = OperationalError(1193, "Unknown system variable 'master_aggregator'")
    data, sent = _read_with(monkeypatch, [missing, ("8.9.3", "STRICT_ALL_TABLES")])
    assert sent == [SERVER_DATA_QUERY, SERVER_DATA_QUERY_BASIC]
    assert data.version == (8, 9, 3) and data.aggregator_role == "unknown"


def test_no_memsql_version_is_still_refused_as_not_singlestore(monkeypatch):
    from django.db import NotSupportedError

    missing = OperationalError(1193, "Unknown system variable 'memsql_version'")
    with pytest.raises(NotSupportedError, match="not SingleStore"):
        _read_with(monkeypatch, [missing])


def test_child_warning_once_per_alias_and_never_for_skip_or_the_no_db_helper():
    import warnings

    from django.db.backends.base.base import NO_DB_ALIAS

    from django_singlestore.transactions import (
        ChildAggregatorWarning,
        TransactionPolicy,
        forget_child_aggregator_warnings,
        warn_if_child_aggregator,
    )

    forget_child_aggregator_warnings("tx_unit_child")
    policy = TransactionPolicy(alias="tx_unit_child")
    with pytest.warns(ChildAggregatorWarning, match="'tx_unit_child'"):
        assert warn_if_child_aggregator(policy, "child", host="h", port=1, master="m:2", aggregator_id=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ChildAggregatorWarning)
        assert not warn_if_child_aggregator(policy, "child", host="h", port=1)
        assert not warn_if_child_aggregator(policy, "master", host="h", port=9)
        assert not warn_if_child_aggregator(policy, "unknown", host="h", port=9)
        skip = TransactionPolicy(alias="tx_unit_skip", skip_autocommit=True, source="OPTIONS")
        assert not warn_if_child_aggregator(skip, "child", host="h", port=1)
        assert not warn_if_child_aggregator(TransactionPolicy(alias=NO_DB_ALIAS), "child", host="h", port=1)
    forget_child_aggregator_warnings("tx_unit_child")
