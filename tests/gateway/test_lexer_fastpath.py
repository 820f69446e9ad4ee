"""The engine's fast path: big statements no rule applies to are forwarded as the original bytes object
without a full tokenisation (the lexer only sees the statement head).

What is asserted is how much text the lexer reads, not how long it takes: a timing limit fails on a
loaded machine and proves nothing on an idle one."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.gateway.fakes import decide, forwarded_sql, make_engine, session
from tests.testbed.gateway import sqllex
from tests.testbed.gateway.catalog import TableInfo
from tests.testbed.gateway.engine import Forward, Reject

MIB = 1024 * 1024


@pytest.mark.parametrize(
    "sql",
    [
        b"INSERT INTO t (a, b) VALUES (1, '" + b"x" * (20 * MIB) + b"')",
        b"INSERT INTO t (a, b) VALUES " + b", ".join(b"(%d, 'abcdefghijklmnop')" % i for i in range(900_000)),
        b"SELECT '" + b"y" * (20 * MIB) + b"'",
        b"UPDATE t SET b = '" + b"z" * (20 * MIB) + b"' WHERE a = 1",
    ],
    ids=["one-literal", "many-rows", "select", "update"],
)
def test_big_statements_are_forwarded_untouched_and_unlexed(
    sql: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine()
    engine.catalog.tables[("db1", "t")] = TableInfo("db1", "t", storage="ROWSTORE", reference=True)
    lexer = _CountingPattern(sqllex._TOKEN_RE)
    monkeypatch.setattr(sqllex, "_TOKEN_RE", lexer)
    dec = decide(engine, sql)
    assert isinstance(dec, Forward) and dec.sql is sql
    assert lexer.chars < 64 * 1024, f"the lexer read {lexer.chars} of {len(sql)} bytes"


class _CountingPattern:
    """Stands in for the lexer's compiled pattern and counts the characters its tokens cover."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.chars = 0

    def match(self, text: str, pos: int = 0, endpos: Any = None) -> re.Match[str] | None:
        m = self.pattern.match(text, pos, len(text) if endpos is None else endpos)
        if m is not None:
            self.chars += m.end() - m.start()
        return m


def test_big_insert_still_gets_rules_when_its_table_needs_them() -> None:
    engine = make_engine()
    engine.catalog.tables[("db1", "r")] = TableInfo("db1", "r", storage="ROWSTORE", reference=True)
    big = b"INSERT INTO r (a) VALUES ('" + b"x" * (5 * MIB) + b"')"
    dec = decide(engine, big, session("child", in_transaction=True))
    assert isinstance(dec, Reject) and dec.code == 2549
    assert decide(engine, big, session("master", in_transaction=True)) is not None


def test_semicolon_in_a_literal_does_not_split_the_statement() -> None:
    sql = "SELECT 'a;b' AS x, @@memsql_version"
    assert forwarded_sql(decide(make_engine(), sql)) == "SELECT 'a;b' AS x, '8.9.3' AS `@@memsql_version`"
