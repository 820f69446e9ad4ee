"""Derived tables without an alias (Django's `SELECT * FROM (<union>) ORDER BY ...` when the backend sets
requires_compound_order_by_subquery) get a made-up alias; everything else is left alone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.gateway.engine_harness import EngineHarness
from tests.gateway.gwclients import DRIVERS, client, db_for, fresh_database
from tests.testbed import Testbed
from tests.testbed.gateway.engine import Forward
from tests.testbed.gateway.translate import translate
from tests.testbed.mariadb import MariaDB

A1 = "AS `__s2gw_derived_1`"


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "SELECT * FROM ( SELECT a FROM t UNION SELECT a FROM u ) ORDER BY a DESC LIMIT 21",
            f"SELECT * FROM ( SELECT a FROM t UNION SELECT a FROM u ) {A1} ORDER BY a DESC LIMIT 21",
        ),
        (
            "SELECT * FROM ((SELECT a FROM t) UNION (SELECT a FROM u)) ORDER BY 1",
            f"SELECT * FROM ((SELECT a FROM t) UNION (SELECT a FROM u)) {A1} ORDER BY 1",
        ),
        ("SELECT COUNT(*) FROM (SELECT 1)", f"SELECT COUNT(*) FROM (SELECT 1) {A1}"),
        ("SELECT * FROM t JOIN (SELECT 1 AS a) ON 1", f"SELECT * FROM t JOIN (SELECT 1 AS a) {A1} ON 1"),
        (
            "SELECT * FROM (SELECT 1) JOIN (SELECT 2) ON 1",
            f"SELECT * FROM (SELECT 1) {A1} JOIN (SELECT 2) AS `__s2gw_derived_2` ON 1",
        ),
    ],
)
def test_unaliased_derived_tables_get_an_alias(sql: str, expected: str) -> None:
    assert translate(sql) == expected


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM (SELECT 1) x",
        "SELECT * FROM (SELECT 1) AS `x` WHERE 1",
        "SELECT * FROM (t1 JOIN t2 ON 1)",
        "SELECT a FROM t WHERE a IN (SELECT b FROM u)",
        "SELECT * FROM t WHERE EXISTS (SELECT 1)",
    ],
)
def test_aliased_tables_and_other_subqueries_are_left_alone(sql: str) -> None:
    assert translate(sql) is sql


@pytest.fixture(scope="module")
def harness(mariadb: MariaDB) -> Iterator[EngineHarness]:
    h = EngineHarness(mariadb, "gw_translate_derived_exec")
    h.run("CREATE TABLE n (id BIGINT PRIMARY KEY, v INT)")
    h.run("INSERT INTO n VALUES (1, 10), (2, 20), (3, 30)")
    yield h
    h.close()


@pytest.mark.gateway_only
def test_union_ordered_through_a_derived_table_runs(harness: EngineHarness) -> None:
    decision, rows = harness.run(
        "SELECT * FROM (SELECT v AS x FROM n WHERE id = 1 UNION SELECT v FROM n WHERE id >= 2) ORDER BY x DESC"
    )
    assert isinstance(decision, Forward)
    assert rows == [(30,), (20,), (10,)]


@pytest.mark.gateway_only
@pytest.mark.parametrize("driver", DRIVERS)
def test_derived_table_through_the_gateway(
    driver: str, testbed: Testbed, request: pytest.FixtureRequest
) -> None:
    with (
        fresh_database(testbed, db_for("gw_translate_derived_", request)) as db,
        client(driver, testbed.master, db) as c,
    ):
        c.execute("CREATE TABLE n (id BIGINT PRIMARY KEY, v INT)")
        c.execute("INSERT INTO n VALUES (1, 10), (2, 20)")
        rows = c.execute(
            "SELECT * FROM ((SELECT v FROM n WHERE id = 1) UNION (SELECT v FROM n)) ORDER BY 1 DESC"
        )
        assert rows == [(20,), (10,)]
        assert c.execute("SELECT COUNT(*) FROM (SELECT id FROM n)") == [(2,)]
