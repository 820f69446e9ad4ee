"""skip_autocommit (policy item 3): the connection never leaves autocommit; atomic() keeps Django's
bookkeeping, sends no BEGIN/COMMIT/ROLLBACK, and says so when a rollback was asked for.
On the master and the child aggregator."""

from __future__ import annotations

import warnings

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from django_singlestore.transactions import SKIP_AUTOCOMMIT_ENV, NoRollbackWarning
from tests.transactions.test_atomic_it import insert, scalar

pytestmark = pytest.mark.filterwarnings("ignore::django_singlestore.transactions.ChildAggregatorWarning")


@pytest.fixture
def skip(tx):
    conn = tx("s2skip", skip_autocommit=True)
    assert conn.transaction_policy.skip_autocommit is True
    assert conn.transaction_policy.source == "OPTIONS"
    return conn


def test_atomic_sends_no_begin_and_each_statement_commits_at_once(skip, observer):
    with CaptureQueriesContext(skip) as captured, transaction.atomic(using="s2skip"):
        assert skip.in_atomic_block and skip.get_autocommit() is False  # Django's bookkeeping
        assert int(scalar(skip, "SELECT @@autocommit")) == 1  # the server's truth
        insert(skip, 1)
        assert observer.ids() == [1]  # committed before the block ends
        insert(skip, 2)
    assert observer.ids() == [1, 2]
    sent = [q["sql"].upper() for q in captured.captured_queries]
    assert len(sent) == 3
    assert not [q for q in sent if q.startswith(("BEGIN", "COMMIT", "ROLLBACK", "SET AUTOCOMMIT"))]
    assert skip.get_autocommit() is True


def test_a_failed_block_keeps_its_writes_and_warns(skip, observer):
    with pytest.warns(NoRollbackWarning, match=r"2 statement\(s\).*NOT undone") as record:  # noqa: SIM117
        with pytest.raises(ZeroDivisionError), transaction.atomic(using="s2skip"):
            insert(skip, 1)
            insert(skip, 2)
            _ = 1 / 0
    assert "s2skip" in str(record[0].message) and "OPTIONS" in str(record[0].message)
    assert record[0].filename == __file__  # the `with atomic()` block, not Django's Atomic.__exit__
    assert observer.ids() == [1, 2]  # nothing was undone, and nobody was told otherwise
    assert skip.get_autocommit() is True and not skip.needs_rollback


def test_a_block_whose_only_statement_failed_does_not_warn(skip, observer):
    """get_or_create's shape: the INSERT fails, nothing was written, so there is nothing to report."""
    insert(skip, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoRollbackWarning)
        with pytest.raises(IntegrityError), transaction.atomic(using="s2skip"):
            insert(skip, 1)
    assert observer.ids() == [1]


def test_a_rollback_warns_only_of_the_statements_since_the_last_one(skip, observer):
    """A rollback before the connection ever ran anything, and a second rollback right after one that
    reported its statements, have nothing to report."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoRollbackWarning)
        transaction.rollback(using="s2skip")  # the alias has not even connected yet
    transaction.set_autocommit(False, using="s2skip")
    try:
        insert(skip, 1)
        with pytest.warns(NoRollbackWarning, match=r"its 1 statement\(s\)") as record:
            transaction.rollback(using="s2skip")
        assert record[0].filename == __file__
        with warnings.catch_warnings():
            warnings.simplefilter("error", NoRollbackWarning)
            transaction.rollback(using="s2skip")  # nothing ran since the last rollback
    finally:
        transaction.set_autocommit(True, using="s2skip")
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoRollbackWarning)
        transaction.rollback(using="s2skip")  # back in autocommit, nothing ran since
    transaction.set_autocommit(False, using="s2skip")
    try:
        insert(skip, 2)
        with pytest.warns(NoRollbackWarning) as record:
            skip.rollback()  # the connection's own rollback(): the warning names this line
        assert (record[0].filename, record[0].lineno) == (__file__, _line_of("skip.rollback()  # the"))
    finally:
        transaction.set_autocommit(True, using="s2skip")
    transaction.set_autocommit(False, using="s2skip")
    try:
        insert(skip, 3)
        transaction.commit(using="s2skip")
        with warnings.catch_warnings():
            warnings.simplefilter("error", NoRollbackWarning)
            transaction.rollback(using="s2skip")  # nothing ran since the commit
    finally:
        transaction.set_autocommit(True, using="s2skip")
    assert observer.ids() == [1, 2, 3]


def _line_of(text: str) -> int:
    with open(__file__) as source:
        return next(n for n, line in enumerate(source, 1) if text in line and "_line_of" not in line)


def test_the_warning_can_be_made_an_error_and_leaves_a_clean_connection(skip, observer):
    ran = []
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoRollbackWarning)
        with pytest.raises(NoRollbackWarning) as info, transaction.atomic(using="s2skip"):
            transaction.on_commit(lambda: ran.append("hook"), using="s2skip")
            insert(skip, 1)
            raise ValueError("app failure")
    assert isinstance(info.value.__context__, ValueError)
    assert observer.ids() == [1]
    assert skip.get_autocommit() is True and not skip.in_atomic_block
    assert skip.run_on_commit == [] and not skip.needs_rollback
    with transaction.atomic(using="s2skip"):
        insert(skip, 2)
    assert ran == [] and observer.ids() == [1, 2]


def test_nested_failure_semantics_are_kept(skip, observer):
    with pytest.warns(NoRollbackWarning), pytest.raises(TransactionManagementError):  # noqa: SIM117
        with transaction.atomic(using="s2skip"):
            insert(skip, 1)
            with pytest.raises(ValueError), transaction.atomic(using="s2skip"):
                insert(skip, 2)
                raise ValueError("inner")
            insert(skip, 3)  # refused, exactly as with transactions
    assert observer.ids() == [1, 2]


def test_durable_is_enforced(skip, observer):
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic(using="s2skip"):  # noqa: SIM117
        with transaction.atomic(using="s2skip", durable=True):
            insert(skip, 1)  # never reached
    with transaction.atomic(using="s2skip", durable=True):
        insert(skip, 2)
    assert observer.ids() == [2]


def test_on_commit_runs_at_the_outermost_exit_and_not_after_a_failure(skip, observer):
    ran = []
    with transaction.atomic(using="s2skip"):
        transaction.on_commit(lambda: ran.append("ok"), using="s2skip")
        insert(skip, 1)
        assert ran == []
    assert ran == ["ok"]
    with pytest.warns(NoRollbackWarning, match="on_commit callbacks were discarded"):  # noqa: SIM117
        with pytest.raises(ValueError), transaction.atomic(using="s2skip"):
            transaction.on_commit(lambda: ran.append("failed"), using="s2skip")
            insert(skip, 2)
            raise ValueError
    assert ran == ["ok"]


def test_environment_variable_turns_it_on_for_every_alias(tx, monkeypatch, observer):
    monkeypatch.setenv(SKIP_AUTOCOMMIT_ENV, "1")
    conn = tx("s2env")
    assert conn.features.supports_transactions is False
    assert conn.transaction_policy.source == SKIP_AUTOCOMMIT_ENV
    with transaction.atomic(using="s2env"):
        insert(conn, 1)
        assert observer.ids() == [1]
    # An explicit option wins over the variable.
    opted_out = tx("s2env_off", skip_autocommit=False)
    assert opted_out.features.supports_transactions is True
    with transaction.atomic(using="s2env_off"):
        insert(opted_out, 2)
        assert observer.ids() == [1]
    assert observer.ids() == [1, 2]


@pytest.mark.parametrize("value", ["0", "false", "No", ""])
def test_environment_variable_false_values_keep_transactions(tx, monkeypatch, value):
    monkeypatch.setenv(SKIP_AUTOCOMMIT_ENV, value)
    assert tx("s2env").features.supports_transactions is True


def test_a_bad_environment_value_refuses_to_connect(tx, monkeypatch):
    monkeypatch.setenv(SKIP_AUTOCOMMIT_ENV, "maybe")
    conn = tx("s2env")
    with pytest.raises(ImproperlyConfigured, match=rf"{SKIP_AUTOCOMMIT_ENV}='maybe'"):
        conn.ensure_connection()
    assert conn.connection is None
