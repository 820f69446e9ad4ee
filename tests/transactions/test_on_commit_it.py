"""on_commit (policy item 5) works as Django documents, on the master and the child aggregator."""

from __future__ import annotations

import logging

import pytest
from django.db import transaction

from tests.transactions.test_atomic_it import insert

pytestmark = pytest.mark.filterwarnings("ignore::django_singlestore.transactions.ChildAggregatorWarning")


def test_runs_after_the_outermost_commit_and_sees_committed_data(tx, observer):
    conn = tx("s2oc")
    seen = []
    with transaction.atomic(using="s2oc"):
        insert(conn, 1)
        transaction.on_commit(lambda: seen.append(observer.ids()), using="s2oc")
        with transaction.atomic(using="s2oc"):
            transaction.on_commit(lambda: seen.append("inner"), using="s2oc")
        assert seen == []  # an inner exit is not a commit
    assert seen == [[1], "inner"]  # in registration order, after the data was committed


def test_never_runs_after_a_rollback(tx, observer):
    conn = tx("s2oc")
    ran = []
    with pytest.raises(ValueError), transaction.atomic(using="s2oc"):
        transaction.on_commit(lambda: ran.append("outer"), using="s2oc")
        insert(conn, 1)
        raise ValueError
    # Without savepoints a failed inner block discards the whole transaction's callbacks, the outer
    # ones registered before it included.
    with transaction.atomic(using="s2oc"):
        transaction.on_commit(lambda: ran.append("before inner"), using="s2oc")
        with pytest.raises(ValueError), transaction.atomic(using="s2oc"):
            transaction.on_commit(lambda: ran.append("inner"), using="s2oc")
            raise ValueError
    assert ran == []
    assert conn.run_on_commit == []
    assert observer.ids() == []


def test_runs_immediately_in_autocommit(tx):
    tx("s2oc")
    ran = []
    transaction.on_commit(lambda: ran.append("now"), using="s2oc")
    assert ran == ["now"]


def test_robust_callbacks_log_and_the_rest_still_run(tx, caplog):
    tx("s2oc")
    ran = []

    def broken():
        raise RuntimeError("callback failed")

    with caplog.at_level(logging.ERROR, logger="django.db.backends.base"):
        with transaction.atomic(using="s2oc"):
            transaction.on_commit(broken, using="s2oc", robust=True)
            transaction.on_commit(lambda: ran.append("after"), using="s2oc")
        assert ran == ["after"]
    assert any("callback failed" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)
    # Not robust: the exception propagates (after the commit), later callbacks do not run.
    with pytest.raises(RuntimeError, match="callback failed"), transaction.atomic(using="s2oc"):
        transaction.on_commit(broken, using="s2oc")
        transaction.on_commit(lambda: ran.append("skipped"), using="s2oc")
    assert ran == ["after"]
