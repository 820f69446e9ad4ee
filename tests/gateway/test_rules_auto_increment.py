"""AUTO_INCREMENT on sharded tables: per-aggregator ranges (master from 1, child above 2^50: SingleStore's
"AGGREGATOR SYNC AUTO_INCREMENT" page shows a sharded table's first value on the master as 1; semantics
s1.6), non-consecutive values, cursor.lastrowid equal to the stored id, explicit values untouched,
``SELECT LAST_INSERT_ID()`` and the OK packet reporting the FIRST id of a multi-row INSERT (SingleStore's
"LAST_INSERT_ID" page), ids for ``INSERT ... SELECT``, the jump to the next 1,000,000 after a restart, and
reference tables left alone."""

from __future__ import annotations

import itertools

import pytest

from tests.gateway.engine_harness import EngineHarness
from tests.gateway.gwclients import DRIVERS, client, db_for, fresh_database
from tests.testbed import Testbed
from tests.testbed.gateway.engine import Engine, Forward, GatewayConfig
from tests.testbed.gateway.rules import inject_auto_increment
from tests.testbed.gateway.sqllex import significant
from tests.testbed.mariadb import MariaDB

pytestmark = pytest.mark.gateway_only

MASTER_BASE, CHILD_BASE = 1, 2**50


def _inject(sql: str, cols: list[str] | None = None) -> str | None:
    values = iter(range(100, 200))
    return inject_auto_increment(sql, significant(sql), "id", cols or ["id", "name"], lambda: next(values))


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "INSERT INTO t (name) VALUES ('a'), ('b')",
            "INSERT INTO t (name, `id`) VALUES ('a', 100), ('b', 101)",
        ),
        (
            "INSERT INTO t VALUES (NULL, 'a'), (0, 'b'), (7, 'c')",
            "INSERT INTO t VALUES (100, 'a'), (101, 'b'), (7, 'c')",
        ),
        ("INSERT INTO t (id, name) VALUE (DEFAULT, 'a')", "INSERT INTO t (id, name) VALUE (100, 'a')"),
        ("INSERT IGNORE INTO t SET name = 'a'", "INSERT IGNORE INTO t SET name = 'a', `id` = 100"),
        ("REPLACE t SET id = NULL, name = 'a'", "REPLACE t SET id = 100, name = 'a'"),
        ("INSERT INTO t SET id = NULL, name = 'a'", "INSERT INTO t SET id = 100, name = 'a'"),
        ("INSERT INTO t () VALUES ()", "INSERT INTO t (`id`) VALUES (100)"),
        (
            "INSERT INTO t (name) VALUES ('a') ON DUPLICATE KEY UPDATE name = VALUES(name)",
            "INSERT INTO t (name, `id`) VALUES ('a', 100) ON DUPLICATE KEY UPDATE name = VALUES(name)",
        ),
    ],
)
def test_injection_shapes(sql: str, expected: str) -> None:
    assert _inject(sql) == expected


@pytest.mark.parametrize(
    "sql", ["INSERT INTO t (id, name) VALUES (5, 'a')", "INSERT INTO t (name) SELECT name FROM u"]
)
def test_explicit_values_and_insert_select_are_untouched(sql: str) -> None:
    assert _inject(sql) is None


@pytest.mark.parametrize(
    "sql",
    ["INSERT INTO t (name VALUES ('a')", "INSERT INTO t (name) VALUES ('a'", "INSERT INTO t VALUES (NULL"],
)
def test_unbalanced_parentheses_are_left_to_mariadbs_syntax_error(sql: str) -> None:
    """The rewrite never fails on a malformed INSERT (the gateway would answer with its own internal
    error): whatever it returns still reaches MariaDB, whose 1064 is the error the client sees."""
    result = _inject(sql)
    assert result is None or result.count("(") > result.count(")")


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize("role", ["master", "child"])
def test_ranges_lastrowid_and_gaps(
    driver: str, role: str, testbed: Testbed, request: pytest.FixtureRequest
) -> None:
    endpoint = testbed.master if role == "master" else testbed.child
    assert endpoint is not None
    low, high = (MASTER_BASE - 1, CHILD_BASE) if role == "master" else (CHILD_BASE, 2 * CHILD_BASE)
    with fresh_database(testbed, db_for("gw_autoinc_", request)) as db:
        with client(driver, testbed.master, db) as m:
            m.execute(
                "CREATE TABLE t (id BIGINT AUTO_INCREMENT NOT NULL, name VARCHAR(10), PRIMARY KEY (id))"
            )
            m.execute("CREATE REFERENCE TABLE r (id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(10))")
        with client(driver, endpoint, db) as c:
            ids = []
            for n in range(3):
                c.execute(f"INSERT INTO t (name) VALUES ('n{n}')")
                assert c.lastrowid is not None
                ids.append(c.lastrowid)
            assert all(low < i < high for i in ids)
            if role == "master":
                assert ids[0] == 1  # the documented first value on the master
            assert all(b - a > 1 for a, b in itertools.pairwise(ids))  # increasing, never consecutive
            stored = [row[0] for row in c.execute("SELECT id FROM t ORDER BY id")]
            assert stored == ids
            c.execute("INSERT INTO t (name) VALUES ('m1'), ('m2')")
            assert c.rowcount == 2
            first_of_two = c.lastrowid
            assert first_of_two is not None and first_of_two > max(ids)
            assert list(c.execute("SELECT LAST_INSERT_ID()")) == [(first_of_two,)]
            two = [row[0] for row in c.execute("SELECT id FROM t WHERE name IN ('m1', 'm2') ORDER BY id")]
            assert two[0] == first_of_two < two[1]  # the FIRST id is reported, not the last
            # an explicit value outside the ids handed out so far (explicit values may collide with
            # generated ones on SingleStore too: the docs' ct_auto example)
            c.execute("INSERT INTO t (id, name) VALUES (999999999, 'explicit')")
            assert c.lastrowid == 999999999
            c.execute("INSERT INTO t (name) VALUES ('after')")
            assert c.lastrowid is not None and c.lastrowid > max(ids) and c.lastrowid != 999999999
            assert len({row[0] for row in c.execute("SELECT id FROM t")}) == 7
            c.execute("INSERT INTO r (name) VALUES ('a')")
            first = c.lastrowid
            c.execute("INSERT INTO r (name) VALUES ('b')")
            assert first is not None and c.lastrowid == first + 1 < 1000  # reference tables: MySQL-like


@pytest.mark.parametrize("driver", DRIVERS)
def test_last_insert_id_and_insert_select(
    driver: str, testbed: Testbed, request: pytest.FixtureRequest
) -> None:
    """``SELECT LAST_INSERT_ID()`` right after a gateway-chosen id returns it ([doc] "LAST_INSERT_ID"), and
    ``INSERT ... SELECT`` into a sharded table gets unique ids from the gateway's counter (no MariaDB ids)."""
    with (
        fresh_database(testbed, db_for("gw_autoinc_lid_", request)) as db,
        client(driver, testbed.master, db) as c,
    ):
        c.execute("CREATE TABLE t (id BIGINT AUTO_INCREMENT PRIMARY KEY, v INT)")
        c.execute("INSERT INTO t (v) VALUES (1)")
        assert c.lastrowid == 1
        assert list(c.execute("SELECT LAST_INSERT_ID()")) == [(1,)]
        c.execute("INSERT INTO t (v) VALUES (2), (3)")
        c.execute("INSERT INTO t (v) SELECT v * 10 FROM t ORDER BY v")
        assert c.rowcount == 3
        first = c.lastrowid
        assert list(c.execute("SELECT LAST_INSERT_ID()")) == [(first,)]
        rows = list(c.execute("SELECT id, v FROM t WHERE v >= 10 ORDER BY id"))
        assert [r[0] for r in rows] == [first, first + 1, first + 2]
        assert len({r[0] for r in c.execute("SELECT id FROM t")}) == 6
        c.execute("INSERT INTO t (v) VALUES (4)")
        # past the block the INSERT ... SELECT reserved (MariaDB's own ids would not move the counter)
        assert first is not None and c.lastrowid is not None and c.lastrowid >= first + 1_000_000


def test_insert_select_shapes(mariadb: MariaDB) -> None:
    h = EngineHarness(mariadb, "gw_autoinc_select")
    try:
        h.run("CREATE TABLE t (id BIGINT AUTO_INCREMENT PRIMARY KEY, v INT)")
        decision = h.decide("INSERT INTO t (v) SELECT 1 UNION ALL SELECT 2")
        assert isinstance(decision, Forward)
        assert decision.sql == (
            b"INSERT INTO t (v, `id`) SELECT _s2gw_q.*, LAST_INSERT_ID(1) + ROW_NUMBER() OVER () - 1 "
            b"FROM (SELECT 1 UNION ALL SELECT 2) AS _s2gw_q"
        )
        joined = h.decide("INSERT INTO t (v) SELECT a.v FROM t AS a JOIN t AS b ON a.id = b.id")
        assert isinstance(joined, Forward)
        assert joined.sql.endswith(b"FROM (SELECT a.v FROM t AS a JOIN t AS b ON a.id = b.id) AS _s2gw_q")
        explicit = b"INSERT INTO t (id, v) SELECT 5, 1"
        assert h.decide(explicit.decode()) == Forward(explicit)  # the column is given: untouched
    finally:
        h.close()


def test_restart_jumps_to_the_next_million(mariadb: MariaDB) -> None:
    h = EngineHarness(mariadb, "gw_autoinc_restart")
    try:
        h.run("CREATE TABLE t (id BIGINT AUTO_INCREMENT PRIMARY KEY, v INT)")
        h.run("INSERT INTO t (v) VALUES (1)")
        first = h.lastrowid
        assert first == MASTER_BASE
        restarted = Engine(h.admin, GatewayConfig())
        h.loop.run_until_complete(restarted.start())
        decision = h.loop.run_until_complete(
            restarted.handle_query(b"INSERT INTO t (v) VALUES (2)", h.session)
        )
        assert isinstance(decision, Forward)
        h.conn.cursor().execute(decision.sql)
        second = h.conn.cursor().connection.insert_id()
        boundary = (first // 1_000_000 + 1) * 1_000_000
        assert boundary < second < boundary + 20
    finally:
        h.close()


def test_a_table_created_again_starts_at_one(mariadb: MariaDB) -> None:
    """A dropped and re-created table (or database) is a new table: its master ids start at 1 again."""
    h = EngineHarness(mariadb, "gw_autoinc_recreate")
    try:
        for _ in range(2):
            h.run("CREATE TABLE t (id BIGINT AUTO_INCREMENT PRIMARY KEY, v INT)")
            h.run("INSERT INTO t (v) VALUES (1)")
            assert h.lastrowid == MASTER_BASE
            h.run("INSERT INTO t (v) VALUES (2)")
            assert h.lastrowid > MASTER_BASE
            h.run("DROP TABLE t")
    finally:
        h.close()
