"""The README's "Full-text search" example, executed as written (only an app label and a private app
registry are added) on the test bed, sync and async."""

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
    start = README.index(f"\n{heading}\n")
    end = README.find("\n## ", start + len(heading) + 2)
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
    with conn.schema_editor() as editor:
        editor.create_model(model)
    model.objects.using(conn.alias).bulk_create(
        [model(id=pk, title=t, body=b, year=YEARS[pk]) for pk, t, b in CORPUS]
    )
    flush_fulltext_index(model, using=conn.alias)


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
