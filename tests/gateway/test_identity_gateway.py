"""Identity answers through the gateway with both drivers, including the column names the client sees."""

from __future__ import annotations

import pytest

from tests.gateway.gwclients import DRIVERS, client
from tests.testbed import Testbed

pytestmark = pytest.mark.gateway_only


@pytest.mark.parametrize("driver", DRIVERS)
def test_server_identifies_as_singlestore(driver: str, testbed: Testbed) -> None:
    with client(driver, testbed.master, testbed.master.database) as c:
        rows = c.execute(
            "SELECT VERSION(), @@version, @@memsql_version, @@SESSION.aggregator_id, @@master_aggregator, "
            "@@default_table_type, @@transaction_isolation, @@version_comment"
        )
        assert rows[0][:7] == ("5.7.32", "5.7.32", "8.9.3", 0, "self", "columnstore", "READ-COMMITTED")
        assert rows[0][7].startswith("SingleStoreDB source distribution")
        c.execute("SET time_zone = '+05:00', @x = 1")
        assert c.execute("SELECT @x, @@session.time_zone = '+05:00'") == [(1, 0)]


def test_child_port_is_a_child_aggregator(testbed: Testbed) -> None:
    assert testbed.child is not None
    with client("mysqldb", testbed.child, testbed.child.database) as c:
        ((agg_id, master),) = c.execute("SELECT @@aggregator_id, @@master_aggregator")
        assert agg_id == 1 and master != "self"


def test_column_names_are_the_expressions_as_written(testbed: Testbed) -> None:
    import MySQLdb

    conn = MySQLdb.connect(**testbed.master.mysqldb_kwargs())
    try:
        cur = conn.cursor()
        cur.execute("SELECT @@memsql_version, VERSION(), @@Session.transaction_isolation")
        assert [d[0] for d in cur.description] == [
            "@@memsql_version",
            "VERSION()",
            "@@Session.transaction_isolation",
        ]
    finally:
        conn.close()


@pytest.mark.parametrize("driver", DRIVERS)
def test_show_variables_answers_like_singlestore(driver: str, testbed: Testbed) -> None:
    with client(driver, testbed.master, testbed.master.database) as c:
        rows = dict(c.execute("SHOW VARIABLES LIKE '%version%'"))
        assert rows["version"] == "5.7.32" and rows["memsql_version"] == "8.9.3"
        assert rows["version_comment"].startswith("SingleStoreDB")
        assert dict(c.execute("SHOW GLOBAL VARIABLES WHERE Variable_name = 'transaction_isolation'")) == {
            "transaction_isolation": "READ-COMMITTED"
        }
        assert dict(c.execute("SHOW SESSION VARIABLES LIKE 'max_allowed_packet'")) == {
            "max_allowed_packet": "104857600"
        }
        assert dict(c.execute("SHOW VARIABLES LIKE 'aggregator_id'")) == {"aggregator_id": "0"}


def test_multi_statement_packet(testbed: Testbed) -> None:
    import MySQLdb
    from MySQLdb.constants import CLIENT

    conn = MySQLdb.connect(**testbed.master.mysqldb_kwargs(client_flag=CLIENT.MULTI_STATEMENTS))
    try:
        cur = conn.cursor()
        cur.execute("SET time_zone = 'UTC'; SELECT @@memsql_version AS v")
        assert cur.fetchall() == ()
        assert cur.nextset()
        assert cur.fetchall() == (("8.9.3",),)
        cur.close()
        cur = conn.cursor()
        with pytest.raises(MySQLdb.OperationalError) as info:
            cur.execute("SELECT 1; SAVEPOINT s")  # a later statement is refused: nothing runs
        assert info.value.args[0] == 1706
    finally:
        conn.close()
