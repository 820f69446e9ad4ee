"""Full-text search through the gateway (or SINGLESTORE_URL): index DDL, MATCH, the lookup, BM25, the
flush, inspectdb and the async ORM, on a small committed corpus.

Expectations come from the corpus itself (tokens counted in Python), not from the server's scores:
which rows match, and, for one-term queries, that a row with more occurrences of the term ranks higher
(the corpus is built so that both BM25 and InnoDB's TF-IDF agree; the gateway's ranking differs from
SingleStore's in value, gateway/fulltext.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import DatabaseError, NotSupportedError
from django.test.utils import CaptureQueriesContext

from django_singlestore.search import (
    BM25,
    BM25Global,
    FullTextIndex,
    Match,
    aflush_fulltext_index,
    flush_fulltext_index,
)
from django_singlestore_async.pool import close_pools
from tests.dbtools import ASYNC_ENGINE
from tests.search.models import Article, LegacyArticle, Plain

CORPUS = [
    (1, "alpha", "database database database tuning"),
    (2, "beta", "database tuning guide"),
    (3, "gamma", "database database replication"),
    (4, "delta", "gardening for beginners"),
    (5, "database design", "schema and normal forms"),
    (6, "epsilon", "business intelligence with sql databases"),
    (7, "zeta", "intelligence business report"),
]


def tokens(*texts: str) -> list[str]:
    return [t for text in texts for t in re.findall(r"\w+", text.lower())]


def having(word: str, *, column: str | None = None) -> set[int]:
    """Ids of the corpus rows whose text (or one column) holds `word` as a token."""
    out = set()
    for pk, title, body in CORPUS:
        text = {"title": (title,), "body": (body,), None: (title, body)}[column]
        if word in tokens(*text):
            out.add(pk)
    return out


def count(word: str, pk: int) -> int:
    _, title, body = next(row for row in CORPUS if row[0] == pk)
    return tokens(title, body).count(word)


@pytest.fixture
def s2(make_alias: Any) -> Iterator[Any]:
    conn = make_alias("s2")
    with conn.schema_editor() as editor:
        for model in (Article, LegacyArticle):
            editor.create_model(model)
    for model in (Article, LegacyArticle):
        model.objects.using("s2").bulk_create([model(id=pk, title=t, body=b) for pk, t, b in CORPUS])
        flush_fulltext_index(model, using="s2")
    yield conn


def ids(qs: Any) -> set[int]:
    return set(qs.values_list("id", flat=True))


def show_create(conn: Any, table: str) -> str:
    with conn.cursor() as cursor:
        cursor.execute(f"SHOW CREATE TABLE `{table}`")
        return str(cursor.fetchone()[1])


def test_the_index_is_created_as_version_2_and_read_back(s2: Any) -> None:
    text = show_create(s2, "s2_article")
    assert re.search(r"FULLTEXT USING VERSION 2 KEY `article_ft` \(`title`,`body`\)", text), text
    assert "FULLTEXT KEY `legacy_ft`" in show_create(s2, "s2_legacy_article")
    with s2.cursor() as cursor:
        constraints = s2.introspection.get_constraints(cursor, "s2_article")
        table = s2.introspection.get_create_table(cursor, "s2_article")
    assert constraints["article_ft"]["type"] == "fulltext"
    assert constraints["article_ft"]["columns"] == ["title", "body"]
    (key,) = table.keys_of("fulltext")
    assert key.version == 2


def test_match_filters_the_rows_holding_the_term(s2: Any) -> None:
    qs = Article.objects.using("s2")
    assert ids(qs.filter(Match(query="database"))) == having("database") == {1, 2, 3, 5}
    assert ids(qs.filter(Match(query="gardening OR replication"))) == having("gardening") | having(
        "replication"
    )
    assert ids(qs.filter(Match(query="database AND replication"))) == having("database") & having(
        "replication"
    )


def test_relevance_orders_by_term_frequency(s2: Any) -> None:
    rows = list(
        Article.objects.using("s2")
        .annotate(score=Match(query="database"))
        .filter(score__gt=0)
        .order_by("-score", "id")
        .values_list("id", "score")
    )
    assert {pk for pk, _ in rows} == having("database")
    scores = dict(rows)
    for a in scores:
        for b in scores:
            if count("database", a) > count("database", b):
                assert scores[a] > scores[b], (a, b, scores)
    assert rows[0][0] == 1  # three occurrences: the most relevant


def test_boolean_operators_phrases_and_prefixes(s2: Any) -> None:
    qs = Article.objects.using("s2")
    assert ids(qs.filter(Match(query="+database -tuning"))) == having("database") - having("tuning")
    phrase = {pk for pk, t, b in CORPUS if "business intelligence" in " ".join(tokens(t, b))}
    assert ids(qs.filter(Match(query='"business intelligence"'))) == phrase == {6}
    prefixed = {pk for pk, t, b in CORPUS if any(w.startswith("data") for w in tokens(t, b))}
    assert ids(qs.filter(Match(query="data*"))) == prefixed
    assert ids(qs.filter(Match(query="NOT database gardening"))) == having("gardening") - having("database")


def test_field_scoped_queries_and_the_lookup(s2: Any) -> None:
    qs = Article.objects.using("s2")
    assert ids(qs.filter(Match(query="title:database"))) == having("database", column="title") == {5}
    assert ids(qs.filter(Match("title", query="database"))) == {5}
    assert ids(qs.filter(body__match="database")) == having("database", column="body") == {1, 2, 3}
    assert ids(qs.filter(body__match="database", year=2020)) == {1, 2, 3}
    assert ids(qs.filter(Match(query='title:database OR body:("business intelligence")'))) == {5, 6}


def test_legacy_index_uses_the_column_list(s2: Any) -> None:
    qs = LegacyArticle.objects.using("s2")
    with CaptureQueriesContext(s2) as ctx:
        found = ids(qs.filter(Match(query="replication")))
    assert found == having("replication")
    assert (
        "MATCH (`s2_legacy_article`.`title`, `s2_legacy_article`.`body`) AGAINST"
        in ctx.captured_queries[-1]["sql"]
    )
    assert ids(qs.filter(title__match="database")) == {5}
    with pytest.raises(NotSupportedError, match="VERSION 2"):
        list(qs.annotate(s=BM25(query="database")))


@pytest.mark.parametrize("function", [BM25, BM25Global])
def test_bm25_orders_by_term_frequency(s2: Any, function: type[BM25]) -> None:
    qs = Article.objects.using("s2").annotate(score=function("body", query="database"))
    with CaptureQueriesContext(s2) as ctx:
        rows = dict(qs.values_list("id", "score"))
    assert f"{function.function}(`s2_article`, 'body:(database)')" in ctx.captured_queries[-1]["sql"]
    matched = {pk for pk, score in rows.items() if score > 0}
    assert matched == having("database", column="body")
    for a in matched:
        for b in matched:
            if count("database", a) > count("database", b):
                assert rows[a] > rows[b]


def test_flush_emits_optimize_flush_and_new_rows_become_searchable(s2: Any) -> None:
    qs = Article.objects.using("s2")
    qs.create(id=8, title="eta", body="orchids and gardening")
    with CaptureQueriesContext(s2) as ctx:
        Article.objects.db_manager("s2").flush_fulltext()
    assert [q["sql"] for q in ctx.captured_queries] == ["OPTIMIZE TABLE `s2_article` FLUSH"]
    assert ids(qs.filter(Match(query="orchids"))) == {8}
    flush_fulltext_index(Article, using="s2")  # the function, again: idempotent


@pytest.mark.gateway_only
def test_gateway_limit_names_the_construct(s2: Any) -> None:
    with pytest.raises(DatabaseError, match=r"'~' \(fuzzy or proximity search\).*gateway limit"):
        list(Article.objects.using("s2").filter(Match(query="databse~1")))


def test_index_added_and_removed_by_a_migration(make_alias: Any) -> None:
    conn = make_alias("s2")
    with conn.schema_editor() as editor:
        editor.create_model(Plain)
    Plain.objects.using("s2").create(title="database", body="tuning")
    index = FullTextIndex(fields=["title", "body"], name="plain_ft")
    with conn.schema_editor() as editor:
        editor.add_index(Plain, index)
    assert "FULLTEXT USING VERSION 2 KEY `plain_ft`" in show_create(conn, "s2_plain")
    Plain._meta.indexes = [index]
    try:
        flush_fulltext_index(Plain, using="s2")
        assert ids(Plain.objects.using("s2").filter(Match(query="tuning"))) == {1}
    finally:
        Plain._meta.indexes = []
    with conn.schema_editor() as editor:
        editor.remove_index(Plain, index)
    assert "FULLTEXT" not in show_create(conn, "s2_plain")


def test_inspectdb_round_trips_the_fulltext_index(s2: Any, fresh_alias: Any) -> None:
    from tests.introspection.test_inspectdb_it import _inspectdb, _load, _normalized, _show_create

    code = _inspectdb("s2")
    assert "import django_singlestore.search" in code
    assert "django_singlestore.search.FullTextIndex(fields=['title', 'body'], name='article_ft')" in code
    assert "FullTextIndex(fields=['title', 'body'], name='legacy_ft', version=1)" in code
    assert "Not recreated" not in code
    generated = _load(code)
    target = fresh_alias("dst")
    with target.schema_editor() as editor:
        for model in generated.values():
            editor.create_model(model)
    for table in ("s2_article", "s2_legacy_article"):
        assert _normalized(_show_create(target, table)) == _normalized(_show_create(s2, table)), table


@pytest.mark.asyncio
async def test_async_queries_run_natively(s2: Any, make_alias: Any) -> None:
    db = make_alias("s2_async", engine=ASYNC_ENGINE)
    try:
        qs = Article.objects.using(db.alias).annotate(score=Match(query="database")).order_by("-score", "id")
        first = await qs.filter(score__gt=0).afirst()
        assert first is not None and first.id == 1
        seen = [a.id async for a in Article.objects.using(db.alias).filter(body__match="replication")]
        assert seen == sorted(having("replication", column="body"))
        await Article.objects.using(db.alias).acreate(id=9, title="theta", body="tulips")
        with CaptureQueriesContext(db) as ctx:
            await Article.objects.db_manager(db.alias).aflush_fulltext()
        assert any(q["sql"] == "OPTIMIZE TABLE `s2_article` FLUSH" for q in ctx.captured_queries)
        await aflush_fulltext_index(Article, using=db.alias)
        assert [a.id async for a in Article.objects.using(db.alias).filter(Match(query="tulips"))] == [9]
    finally:
        await close_pools()
