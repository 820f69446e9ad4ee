"""atomic() on SingleStore (policy item 1): real transactions, nesting without savepoints, durable.

Every test runs on the master and on the child aggregator (`endpoint`); `tx_row` is sharded, so the
child accepts its writes inside transactions. `observer` reads committed rows from another connection.
"""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

# The child-aggregator warning at connect has its own tests (test_aggregator_it.py).
pytestmark = pytest.mark.filterwarnings("ignore::django_singlestore.transactions.ChildAggregatorWarning")


def insert(conn, pk: int, v: str = "x") -> None:
    with conn.cursor() as cursor:
        cursor.execute("INSERT INTO tx_row (id, v) VALUES (%s, %s)", [pk, v])


def scalar(conn, sql: str):
    with conn.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def test_autocommit_by_default_and_atomic_is_a_transaction(tx, observer):
    conn = tx("s2tx")
    assert conn.get_autocommit() is True
    assert int(scalar(conn, "SELECT @@autocommit")) == 1
    insert(conn, 1)
    assert observer.ids() == [1]  # autocommitted at once
    with transaction.atomic(using="s2tx"):
        assert int(scalar(conn, "SELECT @@autocommit")) == 0
        insert(conn, 2)
        assert observer.ids() == [1]  # not committed yet (READ COMMITTED elsewhere)
        assert scalar(conn, "SELECT COUNT(*) FROM tx_row") == 2  # but visible to itself
    assert observer.ids() == [1, 2]
    assert int(scalar(conn, "SELECT @@autocommit")) == 1


def test_a_failed_block_rolls_back_everything_it_did(tx, observer):
    conn = tx("s2tx")
    with pytest.raises(ZeroDivisionError), transaction.atomic(using="s2tx"):
        insert(conn, 1)
        insert(conn, 2)
        _ = 1 / 0
    assert observer.ids() == []
    assert conn.get_autocommit() is True and not conn.in_atomic_block
    insert(conn, 3)  # the connection is usable afterwards
    assert observer.ids() == [3]


def test_a_database_error_rolls_back_the_block(tx, observer):
    conn = tx("s2tx")
    insert(conn, 1)
    with pytest.raises(IntegrityError), transaction.atomic(using="s2tx"):
        insert(conn, 2)
        insert(conn, 1)  # duplicate key
    assert observer.ids() == [1]


def test_nested_failure_dooms_the_outer_block(tx, observer):
    """Without savepoints an exception leaving an inner block marks the whole transaction: further
    queries raise TransactionManagementError and the outer block rolls back everything."""
    conn = tx("s2tx")
    with (
        CaptureQueriesContext(conn) as captured,
        pytest.raises(TransactionManagementError),
        transaction.atomic(using="s2tx"),
    ):
        insert(conn, 1)
        try:
            with transaction.atomic(using="s2tx"):
                insert(conn, 2)
                raise ValueError("inner failure")
        except ValueError:
            pass
        assert conn.needs_rollback is True
        assert transaction.get_rollback(using="s2tx") is True
        insert(conn, 3)  # refused: the transaction is doomed
    assert observer.ids() == []
    assert not any("SAVEPOINT" in q["sql"].upper() for q in captured.captured_queries)
    insert(conn, 4)
    assert observer.ids() == [4]


def test_nested_failure_caught_then_outer_exits_normally_still_rolls_back(tx, observer):
    conn = tx("s2tx")
    with transaction.atomic(using="s2tx"):
        insert(conn, 1)
        with pytest.raises(ValueError), transaction.atomic(using="s2tx"):
            insert(conn, 2)
            raise ValueError("inner failure")
        # No further query: the outer block exits without an exception, and still rolls back.
    assert observer.ids() == []


def test_nested_blocks_commit_once_at_the_outermost_exit(tx, observer):
    conn = tx("s2tx")
    with transaction.atomic(using="s2tx"):
        insert(conn, 1)
        with transaction.atomic(using="s2tx"):
            insert(conn, 2)
            with transaction.atomic(using="s2tx", savepoint=False):
                insert(conn, 3)
        assert observer.ids() == []  # an inner exit commits nothing
        assert conn.savepoint_ids == []
    assert observer.ids() == [1, 2, 3]


def test_durable_block_commits_at_its_exit(tx, observer):
    conn = tx("s2tx")
    with transaction.atomic(using="s2tx", durable=True):
        insert(conn, 1)
    assert observer.ids() == [1]


def test_durable_block_nested_in_another_raises_and_the_outer_rolls_back(tx, observer):
    conn = tx("s2tx")
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic(using="s2tx"):
        insert(conn, 1)
        with transaction.atomic(using="s2tx", durable=True):
            insert(conn, 2)  # never reached
    assert observer.ids() == []


def test_explicit_set_rollback_undoes_the_block(tx, observer):
    conn = tx("s2tx")
    with transaction.atomic(using="s2tx"):
        insert(conn, 1)
        transaction.set_rollback(True, using="s2tx")
    assert observer.ids() == []
