"""The README's "Full-text search" and "Hybrid search" examples, executed as written (only an app label
and a private app registry are added) on the test bed, sync and async."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.apps.registry import Apps
from django.db import connections
from django.test.utils import override_settings

from django_singlestore.search import flush_fulltext_index
from django_singlestore_async.pool import close_pools
from tests.dbtools import ASYNC_ENGINE
from tests.search.test_search_it import CORPUS, count, having

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
YEARS = {1: 2021, 2: 2019, 3: 2022, 4: 2020, 5: 2023, 6: 2018, 7: 2024}


def readme_block(heading: str) -> str:
    """The first python block after `heading`, up to the next heading."""
    start = README.index(f"\n{heading}\n")
    end = README.find("\n#", start + len(heading) + 2)
    return re.findall(r"```python\n(.*?)```", README[start:end], flags=re.S)[0]


def load(heading: str) -> dict[str, Any]:
    code = readme_block(heading).replace(
        "    class Meta:\n", "    class Meta:\n        app_label = 's2readme'\n        apps = _APPS\n"
    )
    namespace: dict[str, Any] = {"__name__": "tests.search.readme_example", "_APPS": Apps()}
    exec(compile(code, "<README>", "exec"), namespace)
    return namespace


class Router:
    alias = "s2"

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return Router.alias

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return Router.alias


def seed(alias: str, model: Any) -> None:
    conn = connections[alias]  # this thread's wrapper
    try:
        with conn.schema_editor() as editor:
            editor.create_model(model)
        model.objects.using(conn.alias).bulk_create(
            [model(id=pk, title=t, body=b, year=YEARS[pk]) for pk, t, b in CORPUS]
        )
        flush_fulltext_index(model, using=conn.alias)
    finally:
        forget(alias)


def forget(alias: str) -> None:
    """Close and drop this thread's wrapper of `alias` (sync_to_async's worker thread outlives the
    test; the next test's alias of the same name points at another database)."""
    connections[alias].close()
    del connections[alias]


def check_ranked(found: list[Any], since: int) -> None:
    expected = {pk for pk in having("database") if YEARS[pk] >= since}
    assert {a.id for a in found} == expected
    position = {a.id: n for n, a in enumerate(found)}
    for a in expected:
        for b in expected:
            if count("database", a) > count("database", b):
                assert position[a] < position[b], [x.id for x in found]


def test_readme_fulltext_example_sync(make_alias: Any) -> None:
    ns = load("## Full-text search")
    conn = make_alias("s2")
    seed(conn.alias, ns["Article"])
    Router.alias = "s2"
    with override_settings(DATABASE_ROUTERS=[Router()]):
        check_ranked(ns["search"]("database", 2020), 2020)
        check_ranked(ns["search"]("database", 2000), 2000)
        scores = ns["body_scores"]("database")
    assert {pk for pk, s in scores.items() if s > 0} == having("database", column="body")


@pytest.mark.asyncio
async def test_readme_fulltext_example_async(make_alias: Any) -> None:
    ns = load("## Full-text search")
    await sync_to_async(seed)(make_alias("s2").alias, ns["Article"])
    native = make_alias("s2_async", engine=ASYNC_ENGINE)
    Router.alias = native.alias
    try:
        with override_settings(DATABASE_ROUTERS=[Router()]):
            check_ranked(await ns["asearch"]("database", 2020), 2020)
    finally:
        Router.alias = "s2"
        await close_pools()


# --- "Hybrid search": vector similarity + full-text match + a relational filter ------------------------

HYBRID = "### Hybrid search: vectors, full text and a relational filter"
#: (id, title, body, lang, embedding): the candidates for "database" in "en" are 1, 2, 4 and 6.
DOCS = [
    (1, "database tuning", "indexes and plans", "en", [0.9, 0.1, 0.0, 0.0]),
    (2, "garden", "a database of plants", "en", [0.1, 0.9, 0.0, 0.0]),
    (3, "database tuning", "index et plans", "fr", [1.0, 0.0, 0.0, 0.0]),
    (4, "replication", "database replication lag", "en", [0.5, 0.5, 0.5, 0.0]),
    (5, "cooking", "recipes", "en", [1.0, 1.0, 1.0, 1.0]),
    (6, "databases", "database design", "en", [0.0, 0.0, 0.2, 0.9]),
]
QUERY_EMBEDDING = [1.0, 0.2, 0.4, 0.0]


def hybrid_expected(word: str, lang: str, k: int) -> list[int]:
    """Independent of the server: candidates by token and language, ordered by the dot product."""
    candidates = [d for d in DOCS if d[3] == lang and word in re.findall(r"\w+", f"{d[1]} {d[2]}".lower())]
    dot = {d[0]: sum(a * b for a, b in zip(d[4], QUERY_EMBEDDING, strict=True)) for d in candidates}
    return sorted(dot, key=lambda pk: (-dot[pk], pk))[:k]


def seed_docs(alias: str, model: Any) -> None:
    conn = connections[alias]
    try:
        with conn.schema_editor() as editor:
            editor.create_model(model)
        model.objects.using(alias).bulk_create(
            [model(id=pk, title=t, body=b, lang=lang, embedding=e) for pk, t, b, lang, e in DOCS]
        )
        model.objects.db_manager(alias).flush_fulltext()
    finally:
        forget(alias)


def check_hybrid(found: list[Any], k: int) -> None:
    assert [d.id for d in found] == hybrid_expected("database", "en", k)
    for doc in found:
        embedding = next(d[4] for d in DOCS if d[0] == doc.id)
        expected = sum(a * b for a, b in zip(embedding, QUERY_EMBEDDING, strict=True))
        assert doc.similarity == pytest.approx(expected, rel=1e-5)
        assert doc.relevance > 0


def test_readme_hybrid_example_sync(make_alias: Any) -> None:
    ns = load(HYBRID)
    seed_docs(make_alias("s2").alias, ns["Doc"])
    Router.alias = "s2"
    with override_settings(DATABASE_ROUTERS=[Router()]):
        check_hybrid(ns["hybrid"]("database", QUERY_EMBEDDING, "en"), 5)
        check_hybrid(ns["hybrid"]("database", QUERY_EMBEDDING, "en", k=2), 2)
        assert ns["hybrid"]("database", QUERY_EMBEDDING, "de") == []


@pytest.mark.asyncio
async def test_readme_hybrid_example_async(make_alias: Any) -> None:
    ns = load(HYBRID)
    await sync_to_async(seed_docs)(make_alias("s2").alias, ns["Doc"])
    native = make_alias("s2_async", engine=ASYNC_ENGINE)
    Router.alias = native.alias
    try:
        with override_settings(DATABASE_ROUTERS=[Router()]):
            check_hybrid(await ns["ahybrid"]("database", QUERY_EMBEDDING, "en"), 5)
    finally:
        Router.alias = "s2"
        await close_pools()
