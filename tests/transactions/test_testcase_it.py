"""Django's TestCase on this backend (policy items 2 and 3): one transaction per test without
savepoints; with skip_autocommit, flushing as TransactionTestCase does. On master and child."""

from __future__ import annotations

import pytest

from tests.transactions.cases import doomed_case, isolation_case, run_case

pytestmark = pytest.mark.filterwarnings("ignore::django_singlestore.transactions.ChildAggregatorWarning")


def _assert_passed(result) -> None:
    problems = [f"{test}: {trace}" for test, trace in (*result.errors, *result.failures)]
    assert not problems, "\n".join(problems)
    assert result.testsRun == 2


def test_testcase_isolates_each_test_in_a_rolled_back_transaction(tx, observer):
    conn = tx("s2tc")
    assert conn.features.supports_transactions is True
    assert conn.features.uses_savepoints is False
    case, record = isolation_case("s2tc", observer.names)
    result = run_case(case)
    _assert_passed(result)
    # Each test saw setUpTestData's row and its own, never the other test's: rolled back in between.
    assert record["a"]["own"] == ["a", "setup"]
    assert record["b"]["own"] == ["b", "setup"]
    # Without savepoints setUpTestData runs inside each test's transaction, once per test.
    assert record["setup_runs"] == 2
    # Nothing was committed while the tests ran (a transaction, not a flush) ...
    assert record["a"]["committed"] == [] and record["b"]["committed"] == []
    assert record["a"]["in_atomic_block"] is True
    # ... not even the durable block nested in the test's transaction.
    assert record["a"]["own_after_durable"] == ["a", "a-durable", "setup"]
    # ... and nothing is left afterwards.
    assert observer.names() == []


def test_testcase_flushes_when_the_alias_skips_autocommit(tx, observer):
    conn = tx("s2tc", skip_autocommit=True)
    assert conn.features.supports_transactions is False
    case, record = isolation_case("s2tc", observer.names)
    result = run_case(case)
    _assert_passed(result)
    # Each test still starts clean (flushed), with setUpTestData run again before it.
    assert record["a"]["own"] == ["a", "setup"]
    assert record["b"]["own"] == ["b", "setup"]
    assert record["setup_runs"] == 2
    # But every write was committed at once: another connection saw it during the test.
    assert record["a"]["committed"] == ["a", "setup"]
    assert record["b"]["committed"] == ["b", "setup"]
    assert record["a"]["in_atomic_block"] is False
    assert record["a"]["own_after_durable"] == ["a", "a-durable", "setup"]
    # The flush after the last test emptied the table.
    assert observer.names() == []


def test_a_caught_error_in_an_inner_block_dooms_the_rest_of_that_test_only(tx, observer):
    tx("s2tc")
    case, record = doomed_case("s2tc")
    _assert_passed(run_case(case))
    assert record["needs_rollback"] is True
    assert record["rows_in_b"] == 0  # test_a's row was rolled back with its transaction
    assert observer.ids() == []
