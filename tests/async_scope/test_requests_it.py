"""Request scope: `asyncio.gather` of native calls in a view, and ASYNC_ATOMIC_REQUESTS."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.test import AsyncClient
from django.test.utils import override_settings

from tests.async_orm.conftest import NATIVE, STOCK, SyncSide
from tests.async_orm.models import Author

pytestmark = pytest.mark.asyncio


@contextlib.contextmanager
def alias_setting(alias: str, value: object) -> Iterator[None]:
    settings_dict = connections.settings[alias]
    settings_dict["ASYNC_ATOMIC_REQUESTS"] = value
    try:
        yield
    finally:
        settings_dict.pop("ASYNC_ATOMIC_REQUESTS", None)


@pytest.fixture
def client() -> Iterator[AsyncClient]:
    with override_settings(ROOT_URLCONF="tests.async_scope.urls", ALLOWED_HOSTS=["testserver"]):
        yield AsyncClient()


async def names(side: SyncSide) -> set[str]:
    return set(await side.run(lambda: list(Author.objects.using(NATIVE).values_list("name", flat=True))))


async def test_gather_of_two_models_in_a_view(side: SyncSide, client: AsyncClient) -> None:
    pool = connections[NATIVE].pool()
    response = await client.get("/gather")
    assert response.status_code == 200
    assert response.json() == {"author": "ann", "books": 4}
    assert pool.get_stats()["in_use"] == 0


async def test_without_the_setting_each_call_is_its_own_unit(side: SyncSide, client: AsyncClient) -> None:
    with pytest.raises(ValueError):
        await client.get("/write", {"name": "nia", "fail": "1"})
    assert "nia" in await names(side)  # autocommitted before the failure
    response = await client.get("/write", {"name": "oli"})
    assert response.json()["in_atomic"] is False


async def test_async_atomic_requests_wraps_the_view(side: SyncSide, client: AsyncClient) -> None:
    with alias_setting(NATIVE, True):
        with pytest.raises(ValueError):
            await client.get("/write", {"name": "pia", "fail": "1"})
        response = await client.get("/write", {"name": "quin"})
        assert response.json() == {"connections": 1, "in_atomic": True}
        with pytest.raises(ValueError):
            await client.get("/write-non-atomic", {"name": "ray", "fail": "1"})
        # gather() inside the request's transaction: its tasks may not share the view's connection.
        with pytest.raises(RuntimeError, match="pinned to task"):
            await client.get("/gather")
    found = await names(side)
    assert "pia" not in found and "quin" in found and "ray" in found
    assert connections[NATIVE].pool().get_stats()["in_use"] == 0


async def test_the_setting_is_validated(side: SyncSide, client: AsyncClient) -> None:
    with alias_setting(NATIVE, "yes"), pytest.raises(ImproperlyConfigured, match="ASYNC_ATOMIC_REQUESTS"):
        await client.get("/gather")
    with alias_setting(STOCK, True), pytest.raises(ImproperlyConfigured, match="native"):
        await client.get("/gather")
