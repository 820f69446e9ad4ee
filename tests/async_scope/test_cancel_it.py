"""Cancellation inside async_atomic (async-design §5.7): the caller keeps CancelledError/TimeoutError,
the interrupted connection is discarded (never returned dirty), no slot leaks, nothing half-done is
committed, autocommit(True) is refused with a transaction open, and an interrupted COMMIT is
reported as having an unknown outcome."""

from __future__ import annotations

import asyncio
from typing import Any

import pymysql
import pytest
from django.db import connections
from django.db.models.expressions import RawSQL

from django_singlestore_async import run_orm
from django_singlestore_async.bridge import await_only
from django_singlestore_async.native import PooledConnectionAdapter, _guarded
from django_singlestore_async.transaction import COMMIT_OUTCOME_UNKNOWN, AsyncAtomic, async_atomic
from tests.async_orm.conftest import NATIVE, SyncSide
from tests.async_orm.models import Author

pytestmark = pytest.mark.asyncio


def slow_count() -> int:
    return len(list(Author.objects.annotate(pause=RawSQL("SLEEP(%s)", (2,))).values_list("pk", "pause")))


async def exists(side: SyncSide, name: str) -> bool:
    return await side.run(lambda: Author.objects.using(NATIVE).filter(name=name).exists())


def stats() -> dict[str, int]:
    return connections[NATIVE].pool().get_stats()


async def test_cancel_mid_query_in_a_block(side: SyncSide) -> None:
    await Author.objects.acount()
    discards = stats()["discards"]
    started = asyncio.Event()

    async def work() -> None:
        async with async_atomic(NATIVE):
            await Author.objects.acreate(name="sam")
            started.set()
            await run_orm(slow_count)

    task = asyncio.create_task(work())
    await started.wait()
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not await exists(side, "sam")
    after = stats()
    assert after["in_use"] == 0 and after["discards"] == discards + 1
    assert await Author.objects.acount() == 3


async def test_timeout_around_a_block_is_a_timeout(side: SyncSide) -> None:
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.3), async_atomic(NATIVE):
            await Author.objects.acreate(name="tom")
            await run_orm(slow_count)
    assert not await exists(side, "tom")
    assert stats()["in_use"] == 0


async def test_cancelling_tasks_holding_or_opening_blocks_leaks_nothing(side: SyncSide) -> None:
    before = stats()
    holders = [asyncio.Event() for _ in range(3)]
    release = asyncio.Event()

    async def hold(ready: asyncio.Event) -> None:
        async with async_atomic(NATIVE):
            ready.set()
            await release.wait()

    tasks = [asyncio.create_task(hold(e)) for e in holders]
    for e in holders:
        await e.wait()
    waiters = [asyncio.create_task(hold(asyncio.Event())) for _ in range(5)]
    await asyncio.sleep(0.05)
    for w in waiters:
        w.cancel()
    release.set()
    await asyncio.gather(*tasks)
    results = await asyncio.gather(*waiters, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) or r is None for r in results)
    after = stats()
    assert after["in_use"] == 0
    assert after["pool_size"] <= before["pool_max"]


async def test_autocommit_on_with_a_transaction_open_is_refused(side: SyncSide) -> None:
    def write_then_autocommit() -> None:
        conn = connections[NATIVE]
        conn.set_autocommit(False)
        Author.objects.create(name="uma")
        conn.connection.autocommit(True)  # SET autocommit=1 would COMMIT: refused

    discards = stats()["discards"]
    with pytest.raises(pymysql.err.InterfaceError, match="refused to turn autocommit on"):
        await run_orm(write_then_autocommit)
    assert not await exists(side, "uma")
    assert stats()["in_use"] == 0 and stats()["discards"] == discards + 1


@pytest.fixture
def slow_commit(monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """COMMIT takes 10 s (a stalled server): the round trip is in flight when the cancel lands."""
    committing = asyncio.Event()

    def commit(self: PooledConnectionAdapter) -> None:
        async def stalled() -> Any:
            committing.set()
            await asyncio.sleep(10)
            return await self.pooled.raw.commit()

        await_only(_guarded(self.pooled, "commit", stalled))

    monkeypatch.setattr(PooledConnectionAdapter, "commit", commit)
    return committing


async def test_a_cancelled_commit_is_reported_as_unknown(side: SyncSide, slow_commit: asyncio.Event) -> None:
    block = AsyncAtomic(NATIVE, True, False)

    async def work() -> None:
        async with block:
            await Author.objects.acreate(name="val")

    task = asyncio.create_task(work())
    await slow_commit.wait()
    discards = stats()["discards"]
    task.cancel()
    with pytest.raises(asyncio.CancelledError) as info:
        await task
    assert COMMIT_OUTCOME_UNKNOWN in getattr(info.value, "__notes__", [])
    assert "rolled back" not in " ".join(info.value.__notes__).replace("NOT rolled back", "")
    assert block.outcome == "unknown"
    assert stats()["in_use"] == 0 and stats()["discards"] == discards + 1


async def test_a_timed_out_commit_is_a_timeout_with_the_note(
    side: SyncSide, slow_commit: asyncio.Event
) -> None:
    with pytest.raises(TimeoutError) as info:
        async with asyncio.timeout(0.3), async_atomic(NATIVE):
            await Author.objects.acreate(name="wes")
    cancelled = info.value.__cause__
    assert isinstance(cancelled, asyncio.CancelledError)
    assert COMMIT_OUTCOME_UNKNOWN in getattr(cancelled, "__notes__", [])
    assert stats()["in_use"] == 0


async def test_outcomes_of_finished_blocks(side: SyncSide) -> None:
    ok = AsyncAtomic(NATIVE, True, False)
    async with ok:
        await Author.objects.acreate(name="xan")
    failed = AsyncAtomic(NATIVE, True, False)
    with pytest.raises(ValueError):
        async with failed:
            raise ValueError
    assert (ok.outcome, failed.outcome) == ("committed", "rolled back")
