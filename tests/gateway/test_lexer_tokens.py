"""The lexer: quotes, comments, operators, statement splitting and clause helpers."""

from __future__ import annotations

import time

import pytest

from tests.testbed.gateway.sqllex import (
    find_top_level,
    ident_value,
    parse_qualified_name,
    significant,
    split_statements,
    split_top_level_commas,
    string_value,
    tokenize,
)


def kinds(sql: str) -> list[tuple[str, str]]:
    return [(t.kind, t.text) for t in significant(sql)]


def test_tokens_cover_the_input_exactly() -> None:
    sql = "SELECT `a``b`, 'x''y\\'z', \"q\" -- c\n# h\n/* block */ FROM t WHERE a :> INT"
    assert "".join(t.text for t in tokenize(sql)) == sql


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("'it''s'", [("str", "'it''s'")]),
        ("'it\\'s'", [("str", "'it\\'s'")]),
        ('"a""b"', [("str", '"a""b"')]),
        ("`we``ird`", [("bq", "`we``ird`")]),
        ("_binary'ab'", [("word", "_binary"), ("str", "'ab'")]),
        ("_utf8mb4'x'", [("word", "_utf8mb4"), ("str", "'x'")]),
        ("a :> BIGINT", [("word", "a"), ("op", ":>"), ("word", "BIGINT")]),
        ("j::$k", [("word", "j"), ("op", "::$"), ("word", "k")]),
        ("j::k", [("word", "j"), ("op", "::"), ("word", "k")]),
        ("0x1F 1.5e3 .5 12", [("num", "0x1F"), ("num", "1.5e3"), ("num", ".5"), ("num", "12")]),
        ("@@SESSION.version @x", [("var", "@@SESSION.version"), ("var", "@x")]),
        ("a--1", [("word", "a"), ("op", "-"), ("op", "-"), ("num", "1")]),
        ("a -- comment\nb", [("word", "a"), ("word", "b")]),
        ("a # c\nb", [("word", "a"), ("word", "b")]),
        ("a /* x ; y */ b", [("word", "a"), ("word", "b")]),
    ],
)
def test_token_kinds(sql: str, expected: list[tuple[str, str]]) -> None:
    assert kinds(sql) == expected


def test_executable_comment_content_is_lexed() -> None:
    assert kinds("/*!40101 SET x=1 */") == [("word", "SET"), ("word", "x"), ("op", "="), ("num", "1")]
    assert kinds("/*M!100000 KEY */") == [("word", "KEY")]


def test_split_statements_ignores_semicolons_in_quotes_and_comments() -> None:
    sql = "SELECT ';'; /* ; */ SELECT `;` ; -- ;\n SELECT \"a;b\";;"
    spans = split_statements(sql)
    assert [sql[a:b].strip() for a, b in spans] == ["SELECT ';'", "/* ; */ SELECT `;`", '-- ;\n SELECT "a;b"']


def test_unterminated_string_does_not_raise() -> None:
    assert kinds("SELECT 'abc")[-1] == ("str", "'abc")


def test_ident_and_string_values() -> None:
    toks = significant("`a``b` 'x''y\\n'")
    assert ident_value(toks[0]) == "a`b"
    assert string_value(toks[1]) == "x'y\n"


def test_qualified_name_and_clause_helpers() -> None:
    toks = significant("db.`t 1` (a, f(b, c)) WHERE x")
    assert parse_qualified_name(toks, 0) == ("db", "t 1", 3)
    assert find_top_level(toks, 0, len(toks), "WHERE") == len(toks) - 2
    assert find_top_level(toks, 0, len(toks), "c") == -1
    inner = split_top_level_commas(toks, 4, len(toks) - 3)
    assert [" ".join(t.text for t in toks[a:b]) for a, b in inner] == ["a", "f ( b , c )"]


def test_find_top_level_skips_nested_words() -> None:
    toks = significant("SELECT (SELECT 1 FROM t) FROM u")
    idx = find_top_level(toks, 1, len(toks), "FROM")
    assert toks[idx + 1].text == "u"


def test_twenty_mib_string_literal_is_one_token_and_fast() -> None:
    big = "x" * (20 * 1024 * 1024)
    sql = f"INSERT INTO t VALUES ('{big}', 'it''s')"
    t0 = time.perf_counter()
    toks = significant(sql)
    elapsed = time.perf_counter() - t0
    assert [t.kind for t in toks][-4:] == ["str", "punct", "str", "punct"]
    assert len(toks[5].text) == len(big) + 2
    assert elapsed < 2.0
