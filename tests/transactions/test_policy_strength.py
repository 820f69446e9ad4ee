"""The transaction policy's edges that mutation testing found untested (issue 19): the child-aggregator
warning's bookkeeping and text, and the policy being a value that cannot change after it is decided."""

from __future__ import annotations

import dataclasses
import warnings

import pytest
from django.core.exceptions import ImproperlyConfigured

from django_singlestore.transactions import (
    ChildAggregatorWarning,
    TransactionPolicy,
    forget_child_aggregator_warnings,
    policy_from_options,
    set_test_flush,
    transaction_policy_for,
    warn_if_child_aggregator,
)
from django_singlestore.transactions import (
    test_reset_mode as reset_mode_of,  # not collected as a test
)


@pytest.fixture
def clean_warnings():
    forget_child_aggregator_warnings()
    yield
    forget_child_aggregator_warnings()


def _warns(policy: TransactionPolicy, **where: object) -> bool:
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        return warn_if_child_aggregator(policy, "child", **{"host": "h", "port": 1, **where})


def test_forgetting_one_alias_keeps_the_others_warned(clean_warnings):
    one, other = TransactionPolicy(alias="tx_one"), TransactionPolicy(alias="tx_other")
    before = TransactionPolicy(alias="tx_a")  # sorts before "tx_one"
    assert _warns(one) and _warns(other) and _warns(before)
    forget_child_aggregator_warnings("".join(["tx_", "one"]))  # an equal name, not the same object
    assert _warns(one), "the forgotten alias warns again"
    assert not _warns(other), "the other alias stays warned"
    assert not _warns(before), "an alias sorting before it stays warned"
    forget_child_aggregator_warnings()
    assert _warns(other)


@pytest.mark.parametrize("alias", ["Analytics", "9th", "__no_db_", "__no_db__x", "replica"])
def test_every_alias_but_djangos_no_db_helper_is_warned(clean_warnings, alias):
    """Only Django's NO_DB_ALIAS ("__no_db__") is exempt: names sorting before or after it warn."""
    assert _warns(TransactionPolicy(alias=alias))


def test_the_warning_names_the_default_address_and_points_at_the_caller(clean_warnings):
    with pytest.warns(ChildAggregatorWarning) as record:
        assert warn_if_child_aggregator(TransactionPolicy(alias="tx_where"), "child", host="", port=None)
    assert "(localhost:3306," in str(record[0].message)
    assert record[0].filename == __file__, "the warning should point at the code that connected"


def test_a_policy_cannot_change_once_decided():
    policy = TransactionPolicy(alias="tx_frozen")
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.skip_autocommit = True  # type: ignore[misc]
    assert {policy: 1}[TransactionPolicy(alias="tx_frozen")] == 1  # a value: equal policies hash alike


def _options(**options: object):
    from django_singlestore.options import parse_options

    return parse_options(options, alias="tx_opts", environ={})


def test_a_bare_policy_uses_transactions():
    policy = TransactionPolicy(alias="tx_bare")
    assert (policy.skip_autocommit, policy.test_flush, policy.source) == (False, False, "default")
    assert policy.supports_transactions and policy.sends_transaction_control


def test_skip_autocommit_needs_no_autocommit_argument():
    """AUTOCOMMIT defaults to True (Django's default): skip_autocommit alone is consistent."""
    policy = policy_from_options("tx_skip", _options(skip_autocommit=True))
    assert policy.skip_autocommit and not policy.supports_transactions


@pytest.mark.parametrize(
    ("test", "mode"),
    [
        (None, "transaction"),
        ({}, "transaction"),
        ({"NAME": "t"}, "transaction"),
        ({"RESET": "flush"}, "flush"),
    ],
)
def test_the_reset_mode_is_read_from_the_test_settings(test, mode):
    settings = {} if test is None else {"TEST": test}
    assert reset_mode_of("tx_mode", settings) == mode
    with pytest.raises(ImproperlyConfigured, match="'Flush'"):
        reset_mode_of("tx_mode", {"TEST": {"RESET": "Flush"}})


def test_flush_mode_read_from_the_environment_applies():
    """A RESET value built at run time (an environment variable, as tests/third_party does) is a
    different str object from the literal "flush": compared by value, it still turns flush mode on."""
    built = "".join(["fl", "ush"])
    set_test_flush("tx_env_flush", True)
    try:
        assert policy_from_options("tx_env_flush", _options(), test_reset=built).test_flush
    finally:
        set_test_flush("tx_env_flush", False)


def test_a_settings_dict_without_autocommit_means_autocommit():
    """transaction_policy_for on a settings dict with no AUTOCOMMIT key: Django's default (True), so
    skip_autocommit is consistent and not refused as contradicting AUTOCOMMIT=False."""
    policy = transaction_policy_for("tx_no_key", {"OPTIONS": {"skip_autocommit": True}}, environ={})
    assert policy.skip_autocommit and policy.source == "OPTIONS"


def test_the_policy_of_an_async_alias_with_a_pool():
    """transaction_policy_for serves both engines: the async engine's OPTIONS["pool"] is accepted."""
    options = {"pool": {"max_size": 5}, "skip_autocommit": True}
    policy = transaction_policy_for("tx_async", {"OPTIONS": options, "AUTOCOMMIT": True}, environ={})
    assert policy.skip_autocommit


@pytest.mark.parametrize("alias", ["tx_flush", "Analytics", "9th"])
def test_flush_mode_applies_only_to_an_alias_in_flush_mode_whose_test_database_is_in_use(alias):
    options = _options()
    assert not policy_from_options(alias, options, test_reset="flush").test_flush, "test database not in use"
    set_test_flush(alias, True)
    try:
        flushing = policy_from_options(alias, options, test_reset="flush")
        assert flushing.test_flush and not flushing.supports_transactions
        assert flushing.sends_transaction_control, "flush mode still sends COMMIT and ROLLBACK"
        for mode in ("transaction", "flusher", "Flush"):
            assert not policy_from_options(alias, options, test_reset=mode).test_flush, mode
    finally:
        set_test_flush(alias, False)
    assert not policy_from_options(alias, options, test_reset="flush").test_flush
