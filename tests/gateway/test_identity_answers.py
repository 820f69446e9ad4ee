"""Identity answers: VERSION() and SingleStore's variables, SET time_zone / TRANSACTION, savepoints."""

from __future__ import annotations

import pytest

from tests.gateway.fakes import decide, forwarded_sql, make_engine, session
from tests.testbed.gateway.engine import Forward, GatewayConfig, LocalOK, Reject
from tests.testbed.gateway.errors import ERRORS


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT @@memsql_version", "SELECT '8.9.3' AS `@@memsql_version`"),
        ("select @@SESSION.memsql_version", "select '8.9.3' AS `@@SESSION.memsql_version`"),
        ("SELECT @@global.Version_Comment", None),
        ("SELECT VERSION()", "SELECT '5.7.32' AS `VERSION()`"),
        ("SELECT version ( )", "SELECT '5.7.32' AS `version ( )`"),
        ("SELECT @@version AS v", "SELECT '5.7.32' AS v"),
        ("SELECT @@aggregator_id, 1", "SELECT 0 AS `@@aggregator_id`, 1"),
        ("SELECT @@master_aggregator FROM DUAL", "SELECT 'self' AS `@@master_aggregator` FROM DUAL"),
        ("SELECT @@default_table_type", "SELECT 'columnstore' AS `@@default_table_type`"),
        ("SELECT @@transaction_isolation", "SELECT @@tx_isolation AS `@@transaction_isolation`"),
        (
            "SELECT @@session.transaction_isolation",
            "SELECT @@session.tx_isolation AS `@@session.transaction_isolation`",
        ),
        ("SELECT 1 WHERE @@version LIKE '5%'", "SELECT 1 WHERE '5.7.32' LIKE '5%'"),
        ("SELECT CONCAT(@@memsql_version, 'x')", "SELECT CONCAT('8.9.3', 'x')"),
        ("SET @v = @@memsql_version", "SET @v = '8.9.3'"),
    ],
)
def test_identity_rewrites(sql: str, expected: str | None) -> None:
    out = forwarded_sql(decide(make_engine(), sql))
    if expected is None:
        assert "SingleStoreDB source distribution" in out and "AS `@@global.Version_Comment`" in out
    else:
        assert out == expected


def test_child_role_answers_its_own_aggregator() -> None:
    engine = make_engine(GatewayConfig(master_port=4321))
    out = forwarded_sql(decide(engine, "SELECT @@aggregator_id, @@master_aggregator", session("child")))
    assert out == "SELECT 1 AS `@@aggregator_id`, '127.0.0.1:4321' AS `@@master_aggregator`"


def test_configured_memsql_version() -> None:
    out = forwarded_sql(decide(make_engine(GatewayConfig(memsql_version="9.0.1")), "SELECT @@memsql_version"))
    assert "'9.0.1'" in out


def test_strings_and_comments_are_not_rewritten() -> None:
    sql = b"SELECT '@@memsql_version', `version` FROM t /* VERSION() */"
    dec = decide(make_engine(), sql)
    assert isinstance(dec, Forward) and dec.sql == sql


def test_untouched_statement_forwards_the_original_bytes_object() -> None:
    sql = b"SELECT a FROM t WHERE b = 'caf\xc3\xa9 \xff'"
    dec = decide(make_engine(), sql)
    assert isinstance(dec, Forward) and dec.sql is sql


@pytest.mark.parametrize(
    "sql",
    [
        "SET time_zone = '+00:00'",
        "SET SESSION time_zone = 'UTC'",
        "SET @@session.time_zone = 'UTC'",
        "set TIME_ZONE='Europe/Paris'",
        "SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE",
        "SET TRANSACTION ISOLATION LEVEL READ COMMITTED",
        "SET @@transaction_isolation = 'READ-COMMITTED'",
    ],
)
def test_ignored_set_answers_ok_locally(sql: str) -> None:
    assert isinstance(decide(make_engine(), sql), LocalOK)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SET time_zone = 'UTC', autocommit = 0", "SET autocommit = 0"),
        (
            "SET autocommit=1, time_zone='UTC', sql_mode='STRICT_ALL_TABLES'",
            "SET autocommit=1, sql_mode='STRICT_ALL_TABLES'",
        ),
        ("SET GLOBAL time_zone='UTC', x=1", "SET GLOBAL x=1"),
        ("SET SESSION a=1, GLOBAL time_zone='UTC', b=2", "SET SESSION a=1, GLOBAL b=2"),
        ("SET NAMES utf8mb4, time_zone = '+00:00'", None),
    ],
)
def test_set_time_zone_combined_with_other_assignments(sql: str, expected: str | None) -> None:
    dec = decide(make_engine(), sql)
    if expected is None:
        assert isinstance(dec, Forward) and dec.sql == sql.encode()
    else:
        assert forwarded_sql(dec) == expected


def test_other_set_statements_pass_untouched() -> None:
    sql = b"SET autocommit=0"
    dec = decide(make_engine(), sql)
    assert isinstance(dec, Forward) and dec.sql is sql


@pytest.mark.parametrize(
    "sql",
    [
        "SAVEPOINT s1",
        "savepoint `x`",
        "RELEASE SAVEPOINT s1",
        "ROLLBACK TO SAVEPOINT s1",
        "ROLLBACK WORK TO s1",
    ],
)
def test_savepoints_are_rejected(sql: str) -> None:
    dec = decide(make_engine(), sql)
    spec = ERRORS["savepoint"]
    assert dec == Reject(spec.code, spec.sqlstate, spec.template)


def test_plain_rollback_is_forwarded() -> None:
    assert isinstance(decide(make_engine(), "ROLLBACK"), Forward)


def test_multi_statement_local_answers_become_noops() -> None:
    out = forwarded_sql(decide(make_engine(), "SET time_zone='UTC'; SELECT @@memsql_version"))
    assert out == "DO 0; SELECT '8.9.3' AS `@@memsql_version`"


def test_multi_statement_rejects_whole_packet_when_a_later_statement_fails() -> None:
    dec = decide(make_engine(), "SELECT 1; SAVEPOINT a")
    assert isinstance(dec, Reject) and dec.code == ERRORS["savepoint"].code
