"""The translation table: rewrites (pure) and their results when MariaDB executes them."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from tests.gateway.engine_harness import EngineHarness
from tests.testbed.gateway.engine import Forward
from tests.testbed.gateway.sqllex import significant
from tests.testbed.gateway.translate import TRANSLATIONS, translate, translate_kill
from tests.testbed.mariadb import MariaDB


def test_every_translation_names_its_difference() -> None:
    assert TRANSLATIONS and all(t.singlestore and t.mariadb and t.difference for t in TRANSLATIONS)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 'DATE_TRUNC(1)', `json_extract_string` FROM t -- :> INT",
        "SELECT JSON_EXTRACT('{}', '$.a'), REGEXP_INSTR('a', 'b')",
        "SELECT db.DATE_TRUNC('day', x) FROM t",
    ],
)
def test_untranslatable_or_native_text_is_returned_unchanged(sql: str) -> None:
    assert translate(sql) is sql


def test_non_literal_json_key_and_regexp_position_stay_untranslated() -> None:
    assert translate("SELECT JSON_EXTRACT_STRING(j, k) FROM t") == "SELECT JSON_EXTRACT_STRING(j, k) FROM t"
    sql = "SELECT REGEXP_INSTR(s, 'a', 2, 1, 0, 'c') FROM t"
    assert translate(sql) == sql


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT a :> BIGINT AS x FROM t", "SELECT CAST(a AS SIGNED) AS x FROM t"),
        ("SELECT t.a :> BIGINT UNSIGNED v FROM t", "SELECT CAST(t.a AS UNSIGNED) v FROM t"),
        ("SELECT (a + 1) :> DECIMAL(10, 2) x", "SELECT CAST((a + 1) AS DECIMAL(10,2)) x"),
        ("SELECT f(a) :> TEXT x", "SELECT CAST(f(a) AS CHAR) x"),
        ("SELECT j :> JSON x", "SELECT JSON_EXTRACT(j, '$') x"),
        (
            "SELECT 1 WHERE a :> DATETIME(6) > '2020-01-01'",
            "SELECT 1 WHERE CAST(a AS DATETIME(6)) > '2020-01-01'",
        ),
        ("SELECT j::a x FROM t", "SELECT JSON_EXTRACT(j, '$.\"a\"') x FROM t"),
        ("SELECT a :> INT", "SELECT CAST(a AS SIGNED) AS `a :> INT`"),
    ],
)
def test_rewrites(sql: str, expected: str) -> None:
    assert translate(sql) == expected


def test_kill_query_drops_node_id() -> None:
    sql = "KILL QUERY 42 3"
    assert translate_kill(sql, significant(sql)) == "KILL QUERY 42"
    assert translate_kill("KILL 42", significant("KILL 42")) is None


@pytest.fixture(scope="module")
def harness(mariadb: MariaDB) -> Iterator[EngineHarness]:
    h = EngineHarness(mariadb, "gw_translate_exec")
    h.run("CREATE TABLE doc (id BIGINT PRIMARY KEY, j JSON, s VARCHAR(20), d DATETIME(6))")
    h.run(
        'INSERT INTO doc VALUES (1, \'{"a": {"b": "x", "n": 2.5, "i": 7, "z": null}, "arr": [1, "q", 3]}\', '
        "'Hello World', '2024-05-09 13:14:15.123456')"
    )
    yield h
    h.close()


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("DATE_TRUNC('second', d)", "2024-05-09 13:14:15"),
        ("DATE_TRUNC('minute', d)", "2024-05-09 13:14:00"),
        ("DATE_TRUNC('hour', d)", "2024-05-09 13:00:00"),
        ("DATE_TRUNC('day', d)", "2024-05-09 00:00:00"),
        ("DATE_TRUNC('week', d)", "2024-05-06 00:00:00"),
        ("DATE_TRUNC('month', d)", "2024-05-01 00:00:00"),
        ("DATE_TRUNC('quarter', d)", "2024-04-01 00:00:00"),
        ("DATE_TRUNC('year', d)", "2024-01-01 00:00:00"),
        ("JSON_EXTRACT_STRING(j, 'a', 'b')", "x"),
        ("JSON_EXTRACT_STRING(j, 'a', 'z')", None),
        ("JSON_EXTRACT_STRING(j, 'arr', 1)", "q"),
        ("JSON_EXTRACT_JSON(j, 'a', 'b')", '"x"'),
        ("JSON_EXTRACT_DOUBLE(j, 'a', 'n')", 2.5),
        ("JSON_EXTRACT_BIGINT(j, 'a', 'i')", 7),
        ("j::a::$b", "x"),
        ("JSON_ARRAY_CONTAINS_STRING(j::arr, 'q')", 1),
        ("JSON_ARRAY_CONTAINS_BIGINT(j::arr, 3)", 1),
        ("JSON_ARRAY_CONTAINS_BIGINT(j::arr, 4)", 0),
        ("JSON_MATCH_ANY_EXISTS(j, 'a', 'n')", 1),
        ("REGEXP_INSTR(s, 'world', 1, 1, 0, 'i')", 7),
        ("REGEXP_INSTR(s, 'world', 1, 1, 0, 'c')", 0),
        ("REGEXP_INSTR(s, 'World')", 7),
        ("'12' :> BIGINT + 1", 13),
        ("(id + 0.5) :> DECIMAL(10,1)", Decimal("1.5")),
        ("s :> CHAR(5)", "Hello"),
    ],
)
def test_translation_results_on_mariadb(harness: EngineHarness, expr: str, expected: object) -> None:
    decision, rows = harness.run(f"SELECT {expr} FROM doc WHERE id = 1")
    assert isinstance(decision, Forward)
    value = rows[0][0]
    if hasattr(value, "strftime"):
        value = value.strftime("%Y-%m-%d %H:%M:%S")
    assert value == expected


def test_persisted_computed_column_with_cast_runs_on_mariadb(mariadb: MariaDB) -> None:
    h = EngineHarness(mariadb, "gw_translate_computed")
    try:
        h.run(
            "CREATE ROWSTORE TABLE c (id BIGINT PRIMARY KEY, a INT, b AS ((a * 2) :> CHAR(10)) PERSISTED VARCHAR(10))"
        )
        h.run("INSERT INTO c (id, a) VALUES (1, 21)")
        _, rows = h.run("SELECT b FROM c")
        assert rows == [("42",)]
    finally:
        h.close()
