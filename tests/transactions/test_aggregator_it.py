"""Aggregator role (policy item 4): read with the server data; a child aggregator warns once per alias
at connect; 2549 arrives as ReferenceTableWriteOnChildAggregator naming its remedies."""

from __future__ import annotations

import warnings

import pytest
from django.db import connections, transaction

from django_singlestore.base import SERVER_DATA_QUERY
from django_singlestore.errors import ReferenceTableWriteOnChildAggregator
from django_singlestore.transactions import ChildAggregatorWarning
from tests.conftest import require_child
from tests.transactions.models import TxReference

REFERENCE_DDL = "CREATE REFERENCE TABLE tx_ref (id BIGINT PRIMARY KEY, v VARCHAR(20))"


@pytest.fixture
def child(testbed):
    require_child(testbed)
    return testbed.child


def test_master_role_is_read_with_the_server_data_and_does_not_warn(aliases, testbed):
    conn = aliases("s2agg", endpoint=testbed.master)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ChildAggregatorWarning)
        conn.force_debug_cursor = True
        conn.ensure_connection()
    data = conn.singlestore_server_data
    assert data.aggregator_role == "master"
    assert data.master_aggregator is not None and data.master_aggregator.lower() == "self"
    # One query at connect reads the version and the role together.
    assert [q["sql"] for q in conn.queries] == [SERVER_DATA_QUERY]


def test_child_role_warns_once_per_alias_at_connect(child, aliases, testbed):
    conn = aliases("s2agg", endpoint=child)
    with pytest.warns(ChildAggregatorWarning) as record:
        conn.ensure_connection()
    assert len(record) == 1
    text = str(record[0].message)
    assert "'s2agg'" in text and "child aggregator" in text and "2549" in text
    assert "master aggregator" in text and "skip_autocommit" in text and "sharded" in text
    assert conn.singlestore_server_data.aggregator_role == "child"
    assert conn.singlestore_server_data.aggregator_id is not None
    conn.close()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ChildAggregatorWarning)
        conn.ensure_connection()  # the same alias again: no second warning
    conn.close()
    # Another alias on the child warns for itself; an alias that skips autocommit does not need to.
    with pytest.warns(ChildAggregatorWarning, match="'s2agg2'"):
        aliases("s2agg2", endpoint=child).ensure_connection()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ChildAggregatorWarning)
        aliases("s2agg_skip", endpoint=child, skip_autocommit=True).ensure_connection()
    master = aliases("s2agg_master", endpoint=testbed.master)
    assert master.singlestore_server_data.aggregator_role == "master"


@pytest.mark.filterwarnings("ignore::django_singlestore.transactions.ChildAggregatorWarning")
def test_reference_write_in_atomic_on_the_child_raises_2549_with_remedies(child, aliases, testbed, observer):
    master = aliases("s2ref_master", endpoint=testbed.master)
    with master.cursor() as cursor:
        cursor.execute(REFERENCE_DDL)
    conn = aliases("s2ref_child", endpoint=child)
    with conn.cursor() as cursor:
        cursor.execute("INSERT INTO tx_ref VALUES (1, 'autocommit')")  # a single statement: allowed
    with (
        pytest.raises(ReferenceTableWriteOnChildAggregator) as info,
        transaction.atomic(using="s2ref_child"),
        conn.cursor() as cursor,
    ):
        cursor.execute("INSERT INTO tx_ref VALUES (2, 'in atomic')")
    assert info.value.args[0] == 2549
    text = str(info.value)
    assert "child aggregators" in text  # the server's own words ...
    assert "master aggregator" in text and "skip_autocommit" in text and "sharded" in text  # ... and ours
    assert observer.ids("tx_ref") == [1]
    # The same write on the master aggregator is fine inside a transaction.
    with transaction.atomic(using="s2ref_master"), master.cursor() as cursor:
        cursor.execute("INSERT INTO tx_ref VALUES (3, 'master')")
    assert observer.ids("tx_ref") == [1, 3]


@pytest.mark.filterwarnings("ignore::django_singlestore.transactions.ChildAggregatorWarning")
def test_reference_write_through_a_reference_model_on_the_child(child, aliases, testbed, observer):
    """The same through the ORM: a model stored as REFERENCE (ModelStorageManager), created by the
    schema editor on the master, written in atomic() on the child."""
    master = aliases("s2ref_master", endpoint=testbed.master)
    with master.schema_editor() as editor:
        editor.create_model(TxReference)
    aliases("s2ref_child", endpoint=child)
    with pytest.raises(ReferenceTableWriteOnChildAggregator, match="skip_autocommit"):  # noqa: SIM117
        with transaction.atomic(using="s2ref_child"):
            TxReference.objects.using("s2ref_child").create(name="refused")
    TxReference.objects.using("s2ref_child").create(name="autocommit")
    assert [r[0] for r in observer.query("SELECT name FROM tx_ref_model")] == ["autocommit"]


@pytest.mark.filterwarnings("ignore::django_singlestore.transactions.ChildAggregatorWarning")
def test_skip_autocommit_lets_the_child_write_reference_tables_in_atomic(child, aliases, testbed, observer):
    master = aliases("s2ref_master", endpoint=testbed.master)
    with master.cursor() as cursor:
        cursor.execute(REFERENCE_DDL)
    conn = aliases("s2ref_skip", endpoint=child, skip_autocommit=True)
    with transaction.atomic(using="s2ref_skip"), conn.cursor() as cursor:
        cursor.execute("INSERT INTO tx_ref VALUES (1, 'a')")
        cursor.execute("INSERT INTO tx_ref VALUES (2, 'b')")
    assert observer.ids("tx_ref") == [1, 2]
    assert connections["s2ref_skip"].features.supports_transactions is False
