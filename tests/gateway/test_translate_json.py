"""JSON equality (`:> JSON` operands), JSON_BUILD_OBJECT and EXPLAIN JSON: the rewrites, their results
on MariaDB, and the same statements through the gateway with both drivers."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.gateway.engine_harness import EngineHarness
from tests.gateway.gwclients import DRIVERS, client, db_for, fresh_database
from tests.testbed import Testbed
from tests.testbed.gateway.engine import Forward
from tests.testbed.gateway.sqllex import significant
from tests.testbed.gateway.translate import translate, translate_explain
from tests.testbed.mariadb import MariaDB

N = "JSON_NORMALIZE"


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "SELECT 1 FROM t WHERE JSON_EXTRACT_JSON(`t`.`j`, 'k') = (('\"v\"') :> JSON)",
            f"SELECT 1 FROM t WHERE {N}(JSON_EXTRACT(`t`.`j`, '$.\"k\"')) = {N}((JSON_EXTRACT(('\"v\"'), '$')))",
        ),
        (
            "SELECT 1 FROM t WHERE j <> ('1' :> JSON) AND x = 2",
            f"SELECT 1 FROM t WHERE {N}(j) <> {N}((JSON_EXTRACT('1', '$'))) AND x = 2",
        ),
        (
            "SELECT 1 FROM t WHERE (a :> JSON) <=> b.c",
            f"SELECT 1 FROM t WHERE {N}((JSON_EXTRACT(a, '$'))) <=> {N}(b.c)",
        ),
        (
            "SELECT 1 FROM t WHERE JSON_EXTRACT_JSON(j, 'k') NOT IN ((('1') :> JSON), (('2') :> JSON))",
            f"SELECT 1 FROM t WHERE {N}(JSON_EXTRACT(j, '$.\"k\"')) NOT IN "
            f"({N}((JSON_EXTRACT(('1'), '$'))), {N}((JSON_EXTRACT(('2'), '$'))))",
        ),
        (  # both operands JSON-typed, no cast
            "SELECT 1 FROM t WHERE JSON_EXTRACT_JSON(j, 'a') = JSON_EXTRACT_JSON(j, 'b', 0)",
            f"SELECT 1 FROM t WHERE {N}(JSON_EXTRACT(j, '$.\"a\"')) = {N}(JSON_EXTRACT(j, '$.\"b\"[0]'))",
        ),
        (
            "SELECT 1 FROM t WHERE j::a IN (j::b, ('1' :> JSON))",
            f"SELECT 1 FROM t WHERE {N}(JSON_EXTRACT(j, '$.\"a\"')) IN "
            f"({N}(JSON_EXTRACT(j, '$.\"b\"')), {N}((JSON_EXTRACT('1', '$'))))",
        ),
        (  # inside a function call's argument list
            "SELECT IF(j = ('[]' :> JSON), 1, 0) AS e FROM t",
            f"SELECT IF({N}(j) = {N}((JSON_EXTRACT('[]', '$'))), 1, 0) AS e FROM t",
        ),
    ],
)
def test_json_equality_rewrites(sql: str, expected: str) -> None:
    assert translate(sql) == expected


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1 FROM t WHERE a + (x :> JSON) = 2",  # `+` binds tighter: the left operand is a + ...
        "SELECT 1 FROM t WHERE (x :> JSON) = 2 + 1",
        "SELECT 1 FROM t WHERE (x :> JSON) = ANY (SELECT j FROM u)",
        "SELECT 1 FROM t WHERE (x :> JSON) IN (SELECT j FROM u)",
        "SELECT 1 FROM t WHERE JSON_EXTRACT_JSON(j, 'k') = '\"v\"'",  # JSON against text: plain comparison
        "SELECT 1 FROM t WHERE JSON_EXTRACT_JSON(j, 'k') IN (JSON_EXTRACT_JSON(j, 'm'), 'x')",
        "SELECT 1 FROM t WHERE JSON_EXTRACT_JSON(j) = JSON_EXTRACT_JSON(k)",  # no keys: the document as is
        "SELECT 1 FROM t WHERE (x :> JSON) > (y :> JSON)",  # ordering: not an equality
    ],
)
def test_json_equality_is_left_alone_where_operands_are_unclear(sql: str) -> None:
    assert "JSON_NORMALIZE" not in translate(sql)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "SELECT JSON_BUILD_OBJECT('a', t.x, 'b', (y :> JSON)) AS o FROM t",
            "SELECT JSON_COMPACT(JSON_OBJECT('a', t.x, 'b', (JSON_EXTRACT(y, '$')))) AS o FROM t",
        ),
        ("SELECT JSON_BUILD_OBJECT() AS o", "SELECT JSON_COMPACT(JSON_OBJECT()) AS o"),
        ("SELECT JSON_BUILD_OBJECT('a') AS o", "SELECT JSON_BUILD_OBJECT('a') AS o"),  # odd: untranslated
    ],
)
def test_json_build_object_rewrites(sql: str, expected: str) -> None:
    assert translate(sql) == expected


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("EXPLAIN JSON SELECT * FROM t", "EXPLAIN FORMAT=JSON SELECT * FROM t"),
        ("explain json UPDATE t SET a = 1", "explain FORMAT=JSON UPDATE t SET a = 1"),
        ("EXPLAIN JSON", None),
        ("EXPLAIN json", None),  # describes a table named json
        ("EXPLAIN JSON INTO OUTFILE '/tmp/x' SELECT 1", None),
        ("EXPLAIN SELECT 1", None),
    ],
)
def test_explain_json_rewrite(sql: str, expected: str | None) -> None:
    assert translate_explain(sql, significant(sql)) == expected


# --- on MariaDB, through the engine --------------------------------------------------------------------
ROWS = {
    "a": '{"k": "Value", "o": {"x": 1, "y": [1, 2]}, "nil": null}',
    "b": '{"k": "other", "o": {"y": [2, 1], "x": 1}}',
    "c": '{"k": "value", "n": 20}',
    "d": "[1, 2]",
    "e": None,
}
EQUALITY_CASES = {
    "string": ("JSON_EXTRACT_JSON(j, 'k') = (('\"Value\"') :> JSON)", ["a"]),
    "string is case-sensitive": ("JSON_EXTRACT_JSON(j, 'k') = (('\"value\"') :> JSON)", ["c"]),
    "object, other key order and spacing": (
        "JSON_EXTRACT_JSON(j, 'o') = (('{\"y\":[1,2],\"x\":1}') :> JSON)",
        ["a"],
    ),
    "number": ("JSON_EXTRACT_JSON(j, 'n') = (('20') :> JSON)", ["c"]),
    "JSON null": ("JSON_EXTRACT_JSON(j, 'nil') = (('null') :> JSON)", ["a"]),
    "whole document": ("j = (('[1,2]') :> JSON)", ["d"]),
    "not equal (SQL NULLs excluded)": ("JSON_EXTRACT_JSON(j, 'k') <> (('\"other\"') :> JSON)", ["a", "c"]),
    "in": ("JSON_EXTRACT_JSON(j, 'k') IN ((('\"other\"') :> JSON), (('\"Value\"') :> JSON))", ["a", "b"]),
    "in, one element": ("JSON_EXTRACT_JSON(j, 'k') IN ((('\"other\"') :> JSON))", ["b"]),
    "not in": ("JSON_EXTRACT_JSON(j, 'k') NOT IN ((('\"other\"') :> JSON))", ["a", "c"]),
    "null-safe": ("JSON_EXTRACT_JSON(j, 'n') <=> (('20') :> JSON)", ["c"]),
    "two extracted strings": ("JSON_EXTRACT_JSON(j, 'k') = JSON_EXTRACT_JSON(j, 'k')", ["a", "b", "c"]),
    "extracted value and a cast document": (
        "JSON_EXTRACT_JSON(j, 'o') = JSON_EXTRACT_JSON((('{\"o\": {\"x\": 1, \"y\": [2, 1]}}') :> JSON), 'o')",
        ["b"],
    ),
}


@pytest.fixture(scope="module")
def harness(mariadb: MariaDB) -> Iterator[EngineHarness]:
    h = EngineHarness(mariadb, "gw_translate_json_exec")
    h.run("CREATE TABLE doc (name VARCHAR(5) PRIMARY KEY, j JSON, n BIGINT)")
    for name, doc in ROWS.items():
        value = "NULL" if doc is None else "'" + doc.replace("'", "''") + "'"
        h.run(f"INSERT INTO doc VALUES ('{name}', {value}, 3)")
    yield h
    h.close()


@pytest.mark.gateway_only
@pytest.mark.parametrize("case", sorted(EQUALITY_CASES))
def test_json_equality_results(harness: EngineHarness, case: str) -> None:
    where, expected = EQUALITY_CASES[case]
    decision, rows = harness.run(f"SELECT name FROM doc WHERE {where} ORDER BY name")
    assert isinstance(decision, Forward) and b"JSON_NORMALIZE" in decision.sql
    assert [r[0] for r in rows] == expected


@pytest.mark.gateway_only
def test_json_build_object_results(harness: EngineHarness) -> None:
    _, rows = harness.run(
        "SELECT JSON_BUILD_OBJECT('name', name, 'n', n, 'doc', j, 'nested', JSON_BUILD_OBJECT('x', 1.5), "
        "'cast', ('[1, 2]' :> JSON), 'none', NULL) FROM doc WHERE name = 'd'"
    )
    text = rows[0][0]
    assert ": " not in text and ", " not in text  # compact text, like SingleStore's normalised JSON
    assert json.loads(text) == {
        "name": "d", "n": 3, "doc": [1, 2], "nested": {"x": 1.5}, "cast": [1, 2], "none": None,
    }  # fmt: skip
    _, rows = harness.run("SELECT JSON_BUILD_OBJECT()")
    assert rows == [("{}",)]


@pytest.mark.gateway_only
def test_json_get_type_results(harness: EngineHarness) -> None:
    """[doc] json-get-type: boolean, double, string, array, object, null, in lower case."""
    _, rows = harness.run(
        "SELECT JSON_GET_TYPE('true'), JSON_GET_TYPE('12345'), JSON_GET_TYPE('1.5'), JSON_GET_TYPE('\"a\"'), "
        "JSON_GET_TYPE('[1,2,3]'), JSON_GET_TYPE('{\"a\": 1}'), JSON_GET_TYPE('null'), "
        "JSON_GET_TYPE(JSON_EXTRACT_JSON('{\"k\": [1]}', 'k'))"
    )
    assert rows == [("boolean", "double", "double", "string", "array", "object", "null", "array")]


@pytest.mark.gateway_only
def test_explain_json_result(harness: EngineHarness) -> None:
    # (a condition holding a translated JSON path would show MariaDB's unescaped '$."k"' in the plan:
    # see the EXPLAIN JSON entry of TRANSLATIONS)
    decision, rows = harness.run("EXPLAIN JSON SELECT name FROM doc WHERE (n :> BIGINT) = 3")
    assert isinstance(decision, Forward) and decision.sql.startswith(b"EXPLAIN FORMAT=JSON SELECT")
    assert len(rows) == 1 and len(rows[0]) == 1
    assert isinstance(json.loads(rows[0][0]), dict)


# --- through the gateway ----------------------------------------------------------------------------------
@pytest.mark.gateway_only
@pytest.mark.parametrize("driver", DRIVERS)
def test_json_spellings_through_the_gateway(
    driver: str, testbed: Testbed, request: pytest.FixtureRequest
) -> None:
    with (
        fresh_database(testbed, db_for("gw_translate_json_", request)) as db,
        client(driver, testbed.master, db) as c,
    ):
        c.execute("CREATE TABLE doc (name VARCHAR(5) PRIMARY KEY, j JSON)")
        c.execute(
            'INSERT INTO doc VALUES (\'a\', \'{"k": "Value", "o": {"x": 1, "y": 2}}\'), '
            '(\'b\', \'{"k": "other", "o": {"y": 2, "x": 1}}\'), (\'c\', NULL)'
        )
        where = "JSON_EXTRACT_JSON(j, 'k') = (('\"Value\"') :> JSON)"
        assert c.execute(f"SELECT name FROM doc WHERE {where}") == [("a",)]
        where = "JSON_EXTRACT_JSON(j, 'o') = (('{\"x\":1,\"y\":2}') :> JSON)"
        assert c.execute(f"SELECT name FROM doc WHERE {where} ORDER BY name") == [("a",), ("b",)]
        ((obj,),) = c.execute("SELECT JSON_BUILD_OBJECT('name', name, 'k', JSON_EXTRACT_JSON(j, 'k')) FROM doc "
                              "WHERE name = 'a'")  # fmt: skip
        assert json.loads(obj) == {"name": "a", "k": "Value"}
        ((plan,),) = c.execute("EXPLAIN JSON SELECT name FROM doc WHERE name = 'a'")
        assert isinstance(json.loads(plan), dict)


# --- keys with non-ASCII characters ------------------------------------------------------------------------
def test_non_ascii_keys_are_looked_up_in_both_spellings() -> None:
    sql = "SELECT JSON_MATCH_ANY_EXISTS(j, 'é', 'emo🤡') FROM t"
    # (no `AS <item as written>` alias: MariaDB identifiers cannot hold characters above U+FFFF)
    assert translate(sql) == (
        'SELECT JSON_CONTAINS_PATH(j, \'one\', \'$."é"."emo🤡"\', \'$."\\\\u00e9"."emo\\\\ud83e\\\\udd21"\') FROM t'
    )
    assert translate("SELECT JSON_EXTRACT_STRING(j, 'plain') AS x") == (
        "SELECT IF(JSON_TYPE(JSON_EXTRACT(j, '$.\"plain\"')) = 'NULL', NULL, "
        "JSON_UNQUOTE(JSON_EXTRACT(j, '$.\"plain\"'))) AS x"
    )  # ASCII keys: one path, as before


@pytest.mark.gateway_only
@pytest.mark.parametrize("stored", ["escaped", "raw"])
def test_non_ascii_keys_results(mariadb: MariaDB, stored: str) -> None:
    doc = {"é": {"emo🤡'ji": "v"}, "ü": 2.5, "ö": None}
    text = json.dumps(doc, ensure_ascii=stored == "escaped")
    h = EngineHarness(mariadb, f"gw_translate_json_keys_{stored}")
    try:
        h.run("CREATE TABLE d (id BIGINT PRIMARY KEY, j JSON)")
        h.run("INSERT INTO d VALUES (1, '" + text.replace("\\", "\\\\").replace("'", "''") + "')")
        _, rows = h.run(
            "SELECT JSON_EXTRACT_STRING(j, 'é', 'emo🤡''ji'), JSON_EXTRACT_DOUBLE(j, 'ü'), "
            "JSON_MATCH_ANY_EXISTS(j, 'ö'), JSON_EXTRACT_JSON(j, 'é'), j::$ü, JSON_MATCH_ANY_EXISTS(j, 'ä') "
            "FROM d"
        )
        s, d, exists, sub, via_op, missing = rows[0]
        assert (s, d, exists, json.loads(sub), via_op, missing) == ("v", 2.5, 1, {"emo🤡'ji": "v"}, "2.5", 0)
    finally:
        h.close()
