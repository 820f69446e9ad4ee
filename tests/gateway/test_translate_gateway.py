"""SingleStore-only spellings sent through the gateway with both drivers execute on MariaDB with the
right results (and the column names SingleStore would send)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gateway.gwclients import DRIVERS, client, db_for, fresh_database
from tests.testbed import Endpoint, Testbed
from tests.testbed.gateway.process import GatewayProcess
from tests.testbed.mariadb import MariaDB

pytestmark = pytest.mark.gateway_only


@pytest.mark.parametrize("driver", DRIVERS)
def test_translations_execute(driver: str, testbed: Testbed, request: pytest.FixtureRequest) -> None:
    with (
        fresh_database(testbed, db_for("gw_translate_", request)) as db,
        client(driver, testbed.master, db) as c,
    ):
        c.execute("CREATE TABLE doc (id BIGINT PRIMARY KEY, j JSON, d DATETIME(6), s VARCHAR(20))")
        c.execute(
            "INSERT INTO doc VALUES (1, '{\"k\": \"v\", \"n\": 41}', '2023-08-17 10:20:30.5', 'Abc'), "
            "(2, '{\"k\": \"w\", \"n\": 1}', '2023-11-02 00:00:00', 'xyz')"
        )
        rows = c.execute(
            "SELECT id, JSON_EXTRACT_STRING(j, 'k'), JSON_EXTRACT_BIGINT(j, 'n') + 1, DATE_TRUNC('month', d), "
            "s :> CHAR(1) FROM doc WHERE REGEXP_INSTR(s, '^a', 1, 1, 0, 'i') > 0 ORDER BY id"
        )
        assert len(rows) == 1
        rid, k, n, month, first = rows[0]
        assert (rid, k, n, str(month)[:19], first) == (1, "v", 42, "2023-08-01 00:00:00", "A")
        assert c.execute("SELECT id FROM doc WHERE j::$k = 'w'") == [(2,)]


def test_cast_column_name_is_the_expression_as_written(
    testbed: Testbed, request: pytest.FixtureRequest
) -> None:
    import MySQLdb

    with fresh_database(testbed, db_for("gw_translate_", request)) as db:
        conn = MySQLdb.connect(**testbed.master.mysqldb_kwargs(database=db))
        try:
            cur = conn.cursor()
            cur.execute("SELECT '7' :> BIGINT, DATE_TRUNC('day', '2020-02-03 04:05:06') AS d")
            assert [col[0] for col in cur.description] == ["'7' :> BIGINT", "d"]
            assert cur.fetchone()[0] == 7
        finally:
            conn.close()


@pytest.mark.parametrize("driver", DRIVERS)
def test_kill_query_with_node_id(driver: str, testbed: Testbed, request: pytest.FixtureRequest) -> None:
    with (
        fresh_database(testbed, db_for("gw_translate_", request)) as db,
        client(driver, testbed.master, db) as victim,
        client(driver, testbed.master, db) as killer,
    ):
        ((conn_id,),) = victim.execute("SELECT CONNECTION_ID()")
        # a KILL QUERY with SingleStore's node id reaches MariaDB without it (no syntax error)
        killer.execute(f"KILL QUERY {conn_id} 1")
        assert victim.execute("SELECT 1") == [(1,)]


def test_no_implicit_order_mode_shuffles_unordered_selects(mariadb: MariaDB, tmp_path: Path) -> None:
    gw = GatewayProcess(
        mariadb.port, mariadb.admin_user, mariadb.admin_password, state_dir=tmp_path, no_implicit_order=True
    ).start()
    db = "gw_translate_noorder"
    try:
        ep = Endpoint("127.0.0.1", gw.master_port, mariadb.user, mariadb.password, mariadb.database)
        with client("mysqldb", ep, mariadb.database) as c:
            c.execute(f"DROP DATABASE IF EXISTS {db}")
            c.execute(f"CREATE DATABASE {db}")
            c.execute(f"CREATE ROWSTORE TABLE {db}.t (id BIGINT PRIMARY KEY)")
            c.execute(f"INSERT INTO {db}.t VALUES " + ", ".join(f"({i})" for i in range(1, 41)))
            orders = {tuple(r[0] for r in c.execute(f"SELECT id FROM {db}.t LIMIT 40")) for _ in range(5)}
            assert len(orders) > 1  # ORDER BY RAND() was added
            ordered = [r[0] for r in c.execute(f"SELECT id FROM {db}.t ORDER BY id DESC LIMIT 3")]
            assert ordered == [40, 39, 38]  # explicit ORDER BY untouched
            c.execute(f"DROP DATABASE {db}")
    finally:
        gw.stop()
