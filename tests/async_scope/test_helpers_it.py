"""The test helpers (`django_singlestore_async.test`), run as a user's suite would run them: Django
TestCase classes built here and run with unittest (async test methods go through Django's
async_to_sync, on an event loop in another thread than the test's connection)."""

from __future__ import annotations

import unittest
from typing import Any

from django.db import connections
from django.db.transaction import TransactionManagementError
from django.test import TestCase as DjangoTestCase

from django_singlestore_async import test as native_test
from django_singlestore_async.transaction import async_atomic
from tests.async_orm.conftest import NATIVE
from tests.async_orm.models import Author
from tests.dbtools import AliasFactory


def run(case: type[Any], *names: str) -> unittest.TestResult:
    result = unittest.TestResult()
    unittest.TestSuite([case(name) for name in names]).run(result)
    problems = [f"{test}: {trace}" for test, trace in (*result.errors, *result.failures)]
    assert not problems, "\n".join(problems)
    assert result.testsRun == len(names)
    return result


async def committed_names() -> list[str]:
    """Through the pool: a connection of its own, so only committed rows."""
    async with connections[NATIVE].acursor() as cursor:
        await cursor.execute("SELECT name FROM s2async_author ORDER BY name")
        return [row[0] for row in await cursor.fetchall()]


def clean() -> None:
    Author.objects.using(NATIVE).all().delete()


def rollback_case(base: type[Any], record: dict[str, Any]) -> type[Any]:
    class Rollback(base):  # type: ignore[valid-type,misc]
        databases = {NATIVE}

        @classmethod
        def setUpTestData(cls) -> None:
            Author.objects.create(name="setup")

        async def _look(self, label: str) -> None:
            seen = await Author.objects.filter(name="setup").aexists()
            await Author.objects.acreate(name=label)
            async with self.aassertNumQueries(1, using=NATIVE):
                own = [a.name async for a in Author.objects.order_by("name")]
            async with async_atomic(NATIVE, durable=True):  # nested in the test's own block: allowed
                await Author.objects.acreate(name=f"{label}-durable")
            record[label] = {
                "seen_setup": seen,
                "own": own,
                "committed": await committed_names(),
                "count": await Author.objects.acount(),
            }

        async def test_a(self) -> None:
            await self._look("a")

        async def test_b(self) -> None:
            await self._look("b")

    return Rollback


def test_rollback_test_case_native_path_sees_the_tests_transaction(orm_aliases: AliasFactory) -> None:
    clean()
    record: dict[str, Any] = {}
    run(rollback_case(native_test.TestCase, record), "test_a", "test_b")
    assert record["a"]["seen_setup"] and record["b"]["seen_setup"]
    assert record["a"]["own"] == ["a", "setup"] and record["b"]["own"] == ["b", "setup"]
    assert record["a"]["count"] == 3  # setup, a, a-durable
    assert record["a"]["committed"] == [] and record["b"]["committed"] == []  # nothing committed
    assert list(Author.objects.using(NATIVE).values_list("name", flat=True)) == []


def test_without_the_helper_the_native_path_cannot_see_the_test_data(orm_aliases: AliasFactory) -> None:
    """The control: Django's own TestCase, unbound: the pool's connections see nothing uncommitted."""
    clean()
    record: dict[str, Any] = {}

    class Plain(DjangoTestCase):
        databases = {NATIVE}

        @classmethod
        def setUpTestData(cls) -> None:
            Author.objects.create(name="setup")

        async def test_a(self) -> None:
            record["seen_setup"] = await Author.objects.filter(name="setup").aexists()

    run(Plain, "test_a")
    assert record["seen_setup"] is False


def test_a_failure_inside_the_test_dooms_its_transaction_only(orm_aliases: AliasFactory) -> None:
    clean()
    record: dict[str, Any] = {}

    class Doomed(native_test.TestCase):
        databases = {NATIVE}

        async def test_a(self) -> None:
            await Author.objects.acreate(name="x")
            with self.assertRaises(ValueError):
                async with async_atomic(NATIVE):
                    await Author.objects.acreate(name="y")
                    raise ValueError
            with self.assertRaises(TransactionManagementError):
                await Author.objects.acount()

        async def test_b(self) -> None:
            record["count_in_b"] = await Author.objects.acount()

    run(Doomed, "test_a", "test_b")
    assert record["count_in_b"] == 0


def test_flush_test_case_uses_the_pool_and_committed_data(orm_aliases: AliasFactory) -> None:
    clean()
    record: dict[str, Any] = {}

    class Flushing(native_test.TransactionTestCase):
        databases = {NATIVE}
        available_apps = ["tests.async_orm"]

        async def test_a(self) -> None:
            await Author.objects.acreate(name="f1")
            record["committed"] = await committed_names()
            record["pool"] = connections[NATIVE].pool()
            async with self.aassertNumQueries(3, using=NATIVE):  # Django logs BEGIN and COMMIT too
                await Author.objects.acount()
                async with async_atomic(NATIVE):
                    pass

        def test_b(self) -> None:
            record["after_flush"] = list(Author.objects.using(NATIVE).values_list("name", flat=True))

    run(Flushing, "test_a", "test_b")
    assert record["committed"] == ["f1"]
    assert record["after_flush"] == []
    assert record["pool"].closed  # the async test's pools were closed with its loop


def test_aassert_num_queries_fails_on_a_wrong_count(orm_aliases: AliasFactory) -> None:
    class Counting(native_test.TestCase):
        databases = {NATIVE}

        async def test_a(self) -> None:
            async with self.aassertNumQueries(2, using=NATIVE):
                await Author.objects.acount()

    result = unittest.TestResult()
    unittest.TestSuite([Counting("test_a")]).run(result)
    assert len(result.failures) == 1 and "1 queries executed, 2 expected" in result.failures[0][1]
