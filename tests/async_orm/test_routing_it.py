"""The installer and its self-check, the per-alias opt-out, observability parity, and what sync code
on the loop still gets (SynchronousOnlyOperation with the way out)."""

from __future__ import annotations

import asyncio
import contextvars
import importlib
import logging
import threading
from typing import Any

import asgiref.sync
import django
import pytest
from django.core.exceptions import ImproperlyConfigured, SynchronousOnlyOperation
from django.db import connections, transaction
from django.db.models.query import BaseIterable
from django.test.utils import CaptureQueriesContext, override_settings

from django_singlestore.options import parse_options
from django_singlestore_async import routing
from django_singlestore_async.native import PooledConnectionAdapter
from tests.async_orm.conftest import NATIVE, STOCK, Router, StatementLog, SyncSide
from tests.async_orm.models import Author, Book


def test_the_app_installed_the_routing() -> None:
    assert routing.installed()
    assert routing.self_check() == []
    for name in routing.ROUTED_MODULES:
        assert importlib.import_module(name).sync_to_async is routing.native_sync_to_async
    assert BaseIterable._async_generator is routing._native_async_generator
    assert (
        importlib.import_module("django.dispatch.dispatcher").async_to_sync is routing.bridged_async_to_sync
    )
    # Never routed: password hashing, authentication backends.
    for name in ("django.contrib.auth.hashers", "django.contrib.auth.backends"):
        module = importlib.import_module(name)
        assert getattr(module, "sync_to_async", asgiref.sync.sync_to_async) is asgiref.sync.sync_to_async


def test_self_check_names_an_untested_django(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(django, "VERSION", (6, 0, 0, "final", 0))
    assert any("not a tested version" in p for p in routing.self_check())
    monkeypatch.setattr(django, "VERSION", (5, 2, 99, "final", 0))  # a 5.2.x security release
    assert routing.self_check() == []


def test_self_check_names_a_changed_internal(monkeypatch: pytest.MonkeyPatch) -> None:
    query = importlib.import_module("django.db.models.query")
    monkeypatch.setattr(query, "sync_to_async", lambda f: f)
    monkeypatch.setattr(BaseIterable, "_async_generator", lambda self: iter(()))
    problems = routing.self_check()
    assert "django.db.models.query.sync_to_async is not asgiref's sync_to_async" in problems
    assert any("_async_generator" in p for p in problems)


def test_install_refuses_loudly_when_an_alias_is_native(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(routing._state, "installed", False)
    monkeypatch.setattr(django, "VERSION", (6, 0, 0, "final", 0))
    monkeypatch.setitem(connections.settings, "native_probe", {"ENGINE": "django_singlestore_async"})
    with pytest.raises(ImproperlyConfigured, match=r"Django 6\.0.*native_async"):
        routing.install()
    monkeypatch.delitem(connections.settings, "native_probe")
    assert routing.install() is False  # no native alias: Django is left as it is


def test_native_async_option_is_validated() -> None:
    assert parse_options({"native_async": False}, allow_pool=True).pool is None
    with pytest.raises(ImproperlyConfigured, match="native_async"):
        parse_options({"native_async": "no"}, allow_pool=True)
    with pytest.raises(ImproperlyConfigured, match="only for ENGINE 'django_singlestore_async'"):
        parse_options({"native_async": True})


@pytest.mark.asyncio
async def test_stock_and_other_aliases_keep_the_thread_hop(side: SyncSide, statements: StatementLog) -> None:
    loop_thread = threading.get_ident()
    assert routing.alias_for_call(Author.objects.using(STOCK).count, (), {}) == STOCK
    statements.records.clear()
    assert await Author.objects.using(STOCK).acount() == 3
    assert statements.records and all(s.thread != loop_thread for s in statements.records)
    statements.records.clear()
    assert await Author.objects.using(NATIVE).acount() == 3
    assert [s.thread == loop_thread for s in statements.records] == [True]


@pytest.mark.asyncio
async def test_routers_choose_the_alias_as_in_sync_code(side: SyncSide, statements: StatementLog) -> None:
    loop_thread = threading.get_ident()
    for alias, on_loop in ((STOCK, False), (NATIVE, True)):
        Router.alias = alias
        statements.records.clear()
        author = await Author.objects.aget(name="bob")
        assert author._state.db == alias
        author.age += 1
        await author.asave()
        assert {s.alias for s in statements.records} == {alias}
        assert all((s.thread == loop_thread) is on_loop for s in statements.records)
    assert (await Author.objects.aget(name="bob")).age == 42


@pytest.mark.asyncio
async def test_sync_orm_on_the_loop_still_raises_with_the_way_out(side: SyncSide) -> None:
    with pytest.raises(SynchronousOnlyOperation, match=r"run_orm") as info:
        Author.objects.get(name="ann")
    assert "select_related" in str(info.value)
    book = await Book.objects.aget(id=1)
    with pytest.raises(SynchronousOnlyOperation):
        book.author  # noqa: B018 - a lazy load outside the bridge
    assert (await Book.objects.select_related("author").aget(id=1)).author.name == "ann"
    with pytest.raises(SynchronousOnlyOperation, match="run_orm"), transaction.atomic(using=NATIVE):
        pass


@pytest.mark.asyncio
async def test_observability_sees_native_statements(side: SyncSide, caplog: pytest.LogCaptureFixture) -> None:
    conn = connections[NATIVE]
    hooked: list[tuple[str, bool]] = []

    def hook(execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        hooked.append((sql, isinstance(context["connection"].connection, PooledConnectionAdapter)))
        return execute(sql, params, many, context)

    conn.queries_log.clear()
    with (
        caplog.at_level(logging.DEBUG, logger="django.db.backends"),
        CaptureQueriesContext(conn) as captured,
        conn.execute_wrapper(hook),
    ):
        await Author.objects.aget(name="ann")
        assert [a.name async for a in Author.objects.filter(age=40)] == ["bob", "cid"]
        await Author.objects.filter(name="ann").aupdate(age=33)
    assert len(captured) == 3
    assert "WHERE `s2async_author`.`name` = 'ann'" in captured[0]["sql"]  # interpolated, as in sync
    assert captured[2]["sql"].startswith("UPDATE")
    assert [ok for _, ok in hooked] == [True, True, True]
    logged = [r for r in caplog.records if getattr(r, "alias", None) == NATIVE and hasattr(r, "sql")]
    assert [r.sql for r in logged] == [q["sql"] for q in captured.captured_queries]
    assert len(conn.queries) >= 3  # DEBUG=True: connection.queries of the caller's wrapper


@pytest.mark.asyncio
async def test_a_call_makes_no_caller_wrapper_unless_one_could_be_read(side: SyncSide) -> None:
    """Without DEBUG, a caller that never touched the alias gets no wrapper from a native call (it
    would have no hooks and nothing would read its log); a caller's own wrapper still sees the
    statements (CaptureQueriesContext works without DEBUG), and with DEBUG a wrapper is made so that
    `connection.queries` read later in the same context shows them."""

    def touched() -> bool:
        return hasattr(connections._connections, NATIVE)

    async def untouched_caller() -> tuple[bool, int]:
        assert not touched()
        await Author.objects.aget(name="ann")
        made = touched()
        return made, len(connections[NATIVE].queries_log)

    with override_settings(DEBUG=False):
        made, logged = await asyncio.create_task(untouched_caller(), context=contextvars.Context())
        assert (made, logged) == (False, 0)

        async def capturing_caller() -> int:
            with CaptureQueriesContext(connections[NATIVE]) as captured:
                await Author.objects.aget(name="ann")
            return len(captured)

        assert await asyncio.create_task(capturing_caller(), context=contextvars.Context()) == 1

    made, logged = await asyncio.create_task(untouched_caller(), context=contextvars.Context())
    assert (made, logged) == (True, 1)  # DEBUG=True (this module's settings)
