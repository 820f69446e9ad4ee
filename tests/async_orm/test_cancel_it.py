"""Cancellation on the native path: the caller gets CancelledError / TimeoutError (never the cleanup's
InterfaceError), the interrupted connection is discarded, nothing half-done is committed, and the
pool has every connection back."""

from __future__ import annotations

import asyncio

import pytest
from django.db import connections, transaction
from django.db.models.expressions import RawSQL

from django_singlestore_async import run_orm
from tests.async_orm.conftest import NATIVE, SyncSide
from tests.async_orm.models import Author

pytestmark = pytest.mark.asyncio


def slow_names() -> list[tuple[str, int]]:
    return list(Author.objects.annotate(pause=RawSQL("SLEEP(%s)", (2,))).values_list("name", "pause"))


async def test_timeout_during_a_query_is_a_timeout(side: SyncSide) -> None:
    pool = connections[NATIVE].pool()
    await Author.objects.acount()  # warm
    discards = pool.get_stats()["discards"]
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.3):
            await run_orm(slow_names)
    stats = pool.get_stats()
    assert stats["in_use"] == 0 and stats["discards"] == discards + 1  # the interrupted one
    assert await Author.objects.acount() == 3  # the pool serves on


async def test_cancel_inside_atomic_commits_nothing(side: SyncSide) -> None:
    started = asyncio.Event()

    def write_then_wait() -> None:
        with transaction.atomic(using=NATIVE):
            Author.objects.create(id=90, name="zoe")
            from django_singlestore_async.bridge import await_only

            started.set()
            await_only(asyncio.sleep(10))  # cancelled here, inside the transaction

    task = asyncio.ensure_future(run_orm(write_then_wait))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not await Author.objects.filter(id=90).aexists()
    assert connections[NATIVE].pool().get_stats()["in_use"] == 0


async def test_a_second_cancel_during_rollback_still_commits_nothing(side: SyncSide) -> None:
    """Hazard H4: an interrupted ROLLBACK must not be followed by `SET autocommit=1` (which would
    COMMIT); the connection is discarded instead, and the caller still sees the cancellation."""
    started = asyncio.Event()

    def write_then_fail() -> None:
        with transaction.atomic(using=NATIVE):
            Author.objects.create(id=91, name="yan")
            from django_singlestore_async.bridge import await_only

            started.set()
            await_only(asyncio.sleep(10))

    pool = connections[NATIVE].pool()
    discards = pool.get_stats()["discards"]
    task = asyncio.ensure_future(run_orm(write_then_fail))
    await started.wait()
    task.cancel()
    await asyncio.sleep(0)  # the first cancel is inside Atomic.__exit__'s rollback now ...
    task.cancel()  # ... and this one interrupts it
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.2)  # the pool's background reset, if any
    assert pool.get_stats()["discards"] == discards + 1  # interrupted mid-ROLLBACK: never reused
    assert not await Author.objects.filter(id=91).aexists()
    assert pool.get_stats()["in_use"] == 0
