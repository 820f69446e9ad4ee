"""Server errors arrive as the mapped Django exceptions (through the gateway or a real server)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, NotSupportedError, transaction

from django_singlestore.errors import ReferenceTableWriteOnChildAggregator
from tests.conftest import require_child


def test_feature_not_supported_is_not_supported_error(s2):
    with pytest.raises(NotSupportedError) as info, transaction.atomic(using="s2"), s2.cursor() as cursor:
        cursor.execute("SAVEPOINT s1")
    assert info.value.args[0] == 1706


def test_duplicate_key_and_not_null_are_integrity_errors(s2):
    with s2.cursor() as cursor:
        cursor.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, v INT NOT NULL)")
        cursor.execute("INSERT INTO t VALUES (1, 1)")
        with pytest.raises(IntegrityError) as duplicate:
            cursor.execute("INSERT INTO t VALUES (1, 2)")
        assert duplicate.value.args[0] == 1062
        with pytest.raises(IntegrityError) as null:
            cursor.execute("INSERT INTO t VALUES (2, NULL)")
        assert null.value.args[0] == 1048


def test_reference_table_write_in_a_transaction_on_a_child_aggregator(make_alias, testbed):
    require_child(testbed)
    master = make_alias("s2_master")
    with master.cursor() as cursor:
        cursor.execute("CREATE REFERENCE TABLE ref (id BIGINT PRIMARY KEY)")
    child = make_alias("s2_child", endpoint=testbed.child)
    with child.cursor() as cursor:
        cursor.execute("INSERT INTO ref VALUES (1)")  # autocommitted: allowed
    with (
        pytest.raises(ReferenceTableWriteOnChildAggregator) as info,
        transaction.atomic(using="s2_child"),
        child.cursor() as cursor,
    ):
        cursor.execute("INSERT INTO ref VALUES (2)")
    assert info.value.args[0] == 2549
    with master.cursor() as cursor:
        cursor.execute("SELECT id FROM ref ORDER BY id")
        assert [row[0] for row in cursor.fetchall()] == [1]
