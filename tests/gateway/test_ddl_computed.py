"""Persisted computed columns that read CHAR columns: the gateway wraps the CHAR references in RTRIM()
(MariaDB refuses them otherwise with 1901; see the ddl module docstring), and the value is unchanged."""

from __future__ import annotations

from collections.abc import Iterator

import MySQLdb
import pytest

from tests.gateway.engine_harness import EngineHarness
from tests.gateway.gwclients import client, db_for, fresh_database
from tests.testbed import Testbed
from tests.testbed.gateway.ddl import parse_alter_table, parse_create_table, rtrim_char_references
from tests.testbed.gateway.engine import Forward
from tests.testbed.gateway.sqllex import significant
from tests.testbed.mariadb import MariaDB

pytestmark = pytest.mark.gateway_only

UUID_COPY = (
    "CREATE TABLE `m` (`id` BIGINT AUTO_INCREMENT NOT NULL PRIMARY KEY, `field` char(32) NOT NULL, "
    "`field_copy` AS ((`field`) :> char(32)) PERSISTED char(32))"
)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("((`field`) :> char(32))", "((RTRIM(`field`)) :> char(32))"),
        ("(CONCAT(v, m.field, LOWER(Field)))", "(CONCAT(v, RTRIM(m.field), LOWER(RTRIM(Field))))"),
        # cast target types, function names and JSON keys are not column references
        ("(CAST(v AS CHAR) + field(1) + j::field)", "(CAST(v AS CHAR) + field(1) + j::field)"),
        ("(v :> CHAR(3))", "(v :> CHAR(3))"),
        # after an operator (one that sorts before `:>` too) a name is a column reference
        ("(n * 2 - field + field)", "(n * 2 - RTRIM(field) + RTRIM(field))"),
    ],
)
def test_rtrim_char_references(expr: str, expected: str) -> None:
    assert rtrim_char_references(expr, {"field"}) == expected


def test_create_table_wraps_only_char_columns() -> None:
    sql = UUID_COPY[:-1] + ", v VARCHAR(5), w AS (CONCAT(v, field)) PERSISTED VARCHAR(40), k CHARACTER(2))"
    ct = parse_create_table(sql, significant(sql))
    assert ct is not None
    assert "`field_copy` char(32) AS ((RTRIM(`field`)) :> char(32)) PERSISTENT" in ct.mariadb_sql
    assert "w VARCHAR(40) AS (CONCAT(v, RTRIM(field))) PERSISTENT" in ct.mariadb_sql
    assert [c.name for c in ct.columns if c.is_char] == ["field", "field_copy", "k"]
    # without CHAR columns the text is the plain translation
    plain = "CREATE TABLE t (v VARCHAR(5), w AS (UPPER(v)) PERSISTED VARCHAR(5))"
    ct2 = parse_create_table(plain, significant(plain))
    assert ct2 is not None and "w VARCHAR(5) AS (UPPER(v)) PERSISTENT" in ct2.mariadb_sql


def test_alter_add_column_uses_the_table_and_added_char_columns() -> None:
    sql = "ALTER TABLE m ADD COLUMN c CHAR(2), ADD COLUMN x AS (CONCAT(c, `field`, v)) PERSISTED VARCHAR(40)"
    alter = parse_alter_table(sql, significant(sql))
    assert alter is not None
    alter.unpad_computed({"field"})
    assert alter.mariadb_sql() == (
        "ALTER TABLE m ADD COLUMN c CHAR(2), "
        "ADD COLUMN x VARCHAR(40) AS (CONCAT(RTRIM(c), RTRIM(`field`), v)) PERSISTENT"
    )


def test_mariadb_refuses_the_unwrapped_column(mariadb: MariaDB) -> None:
    """The premise: the plain translation is refused by MariaDB (1901), the RTRIM() one is accepted."""
    conn = MySQLdb.connect(host=mariadb.host, port=mariadb.port, user=mariadb.user, password=mariadb.password)
    name = "gw_computed_premise"
    try:
        cur = conn.cursor()
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.execute(f"CREATE DATABASE `{name}`")
        cur.execute(f"USE `{name}`")
        with pytest.raises(MySQLdb.OperationalError) as exc:
            cur.execute("CREATE TABLE a (f CHAR(32), g CHAR(32) AS (CAST(f AS CHAR(32))) PERSISTENT)")
        assert exc.value.args[0] == 1901
        cur.execute("CREATE TABLE b (f CHAR(32), g CHAR(32) AS (CAST(RTRIM(f) AS CHAR(32))) PERSISTENT)")
    finally:
        conn.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
        conn.close()


@pytest.fixture
def harness(mariadb: MariaDB, request: pytest.FixtureRequest) -> Iterator[EngineHarness]:
    h = EngineHarness(mariadb, db_for("gw_computed_", request))
    yield h
    h.close()


def test_alter_add_column_reads_the_char_columns_from_mariadb(harness: EngineHarness) -> None:
    h = harness
    h.run("CREATE TABLE t (id BIGINT PRIMARY KEY, code CHAR(4) NOT NULL, label VARCHAR(10) NULL)")
    h.run("INSERT INTO t (id, code, label) VALUES (1, 'ab', 'x')")
    decision, _ = h.run("ALTER TABLE t ADD COLUMN both_ AS (CONCAT(code, label)) PERSISTED VARCHAR(20)")
    assert isinstance(decision, Forward) and b"CONCAT(RTRIM(code), label)" in decision.sql
    _, rows = h.run("SELECT both_ FROM t")
    assert rows == [("abx",)]


def test_char_copy_through_the_gateway(testbed: Testbed, request: pytest.FixtureRequest) -> None:
    value = "0123456789abcdef0123456789abcdef"
    with (
        fresh_database(testbed, db_for("gw_computed_", request)) as db,
        client("mysqldb", testbed.master, db) as c,
    ):
        c.execute(UUID_COPY)
        c.execute(f"INSERT INTO m (field) VALUES ('{value}'), ('ab')")
        assert c.execute("SELECT field, field_copy FROM m ORDER BY id") == [(value, value), ("ab", "ab")]
        c.execute("ALTER TABLE m ADD COLUMN up AS (UPPER(`field`)) PERSISTED char(32)")
        assert c.execute("SELECT up FROM m ORDER BY id") == [(value.upper(),), ("AB",)]
