"""The gateway's reading of SingleStore's full-text query syntax (gateway/fulltext.py): Lucene's
boolean structure for the emulated subset, and the MariaDB expression built from it (executed through
the gateway by tests/search and the rule cases)."""

from __future__ import annotations

import pytest

from tests.testbed.gateway.errors import GatewayError
from tests.testbed.gateway.fulltext import Group, build_sql, parse_query, rewrite_flush
from tests.testbed.gateway.sqllex import significant


def shape(group: Group) -> list[tuple[str, object]]:
    return [(o, shape(n) if isinstance(n, Group) else (n.field, n.text)) for o, n in group.clauses]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("cat", [("?", (None, "cat"))]),
        ("+cat -dog bird", [("+", (None, "cat")), ("-", (None, "dog")), ("?", (None, "bird"))]),
        ("cat AND dog", [("+", (None, "cat")), ("+", (None, "dog"))]),
        ("cat OR dog", [("?", (None, "cat")), ("?", (None, "dog"))]),
        # Lucene's QueryParser: AND does not make a prohibited clause required; NOT is prohibited.
        ("-cat AND dog", [("-", (None, "cat")), ("+", (None, "dog"))]),
        ("NOT cat dog", [("-", (None, "cat")), ("?", (None, "dog"))]),
        ("!cat", [("-", (None, "cat"))]),
        ('"Business  Intelligence!"', [("?", (None, '"Business Intelligence"'))]),
        ("data*", [("?", (None, "data*"))]),
        ('title:db body:"a b"', [("?", ("title", "db")), ("?", ("body", '"a b"'))]),
        ("title:(a +b)", [("?", [("?", ("title", "a")), ("+", ("title", "b"))])]),
        ("(a b) -c", [("?", [("?", (None, "a")), ("?", (None, "b"))]), ("-", (None, "c"))]),
        ("ORegon ANDes", [("?", (None, "ORegon")), ("?", (None, "ANDes"))]),
    ],
)
def test_query_structure(query: str, expected: list[tuple[str, object]]) -> None:
    assert shape(parse_query(query)) == expected


@pytest.mark.parametrize(
    "query",
    ["a~", "a^2", "a?c", "[a TO b]", "{a TO b}", "/re/", "a\\+b", "a && b", "a || b", "*a", "a*b", ":a"],
)
def test_syntax_outside_the_subset_is_a_named_gateway_limit(query: str) -> None:
    with pytest.raises(GatewayError) as err:
        parse_query(query)
    assert err.value.error == "fulltext_query_gateway_limit"
    assert "gateway limit" in err.value.message


def test_expression_is_zero_unless_the_lucene_condition_holds() -> None:
    sql = build_sql(parse_query("+a -b c"), "`t`", ["x", "y"], ["x", "y"])
    assert sql.startswith("IF(((MATCH (`t`.`x`, `t`.`y`) AGAINST ('a' IN BOOLEAN MODE) > 0) AND NOT ")
    assert sql.endswith(", 0)")
    assert build_sql(parse_query("-a"), "`t`", ["x"], ["x"]).startswith("IF((NOT (MATCH")  # only MUST_NOT
    with pytest.raises(GatewayError):
        build_sql(parse_query("z:a"), "`t`", ["x"], ["x"])


def test_flush_becomes_a_table_probe() -> None:
    assert rewrite_flush(significant("OPTIMIZE TABLE `t` FLUSH")) == "DO (SELECT 1 FROM `t` LIMIT 0)"
    assert rewrite_flush(significant("OPTIMIZE TABLE d.t FLUSH")) == "DO (SELECT 1 FROM `d`.`t` LIMIT 0)"
    assert rewrite_flush(significant("OPTIMIZE TABLE t FULL")) is None
