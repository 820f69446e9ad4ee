"""async_atomic: Django's Atomic through the bridge on a task-pinned connection (async-design §5.6)."""

from __future__ import annotations

import asyncio
import contextvars

import pytest
from asgiref.sync import sync_to_async
from django.db import connections, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import override_settings

from django_singlestore_async import run_orm
from django_singlestore_async.transaction import async_atomic, new_connection, on_commit
from tests.async_orm.conftest import NATIVE, SyncSide
from tests.async_orm.models import Author

pytestmark = pytest.mark.asyncio


def committed_names(side: SyncSide) -> asyncio.Future:
    return side.run(lambda: sorted(Author.objects.using(NATIVE).values_list("name", flat=True)))


async def pool_in_use() -> int:
    return connections[NATIVE].pool().get_stats()["in_use"]


async def test_commit_and_one_connection_for_the_block(side: SyncSide) -> None:
    ids = set()
    async with async_atomic(NATIVE):
        await Author.objects.acreate(name="dan", age=1)
        ids.add(await run_orm(lambda: connections[NATIVE].connection.thread_id()))
        await Author.objects.filter(name="dan").aupdate(age=2)
        async with connections[NATIVE].acursor() as cursor:
            await cursor.execute("SELECT CONNECTION_ID()")
            ids.add((await cursor.fetchone())[0])
        assert await pool_in_use() == 1
        # Another connection does not see the uncommitted row.
        assert "dan" not in await committed_names(side)
    assert len(ids) == 1
    assert "dan" in await committed_names(side)
    assert await pool_in_use() == 0


async def test_exception_rolls_back_everything(side: SyncSide) -> None:
    with pytest.raises(ZeroDivisionError):
        async with async_atomic(NATIVE):
            await Author.objects.acreate(name="eve")
            1 / 0  # noqa: B018
    assert "eve" not in await committed_names(side)
    assert await pool_in_use() == 0


async def test_inner_failure_dooms_the_outer_block_as_on_the_sync_side(side: SyncSide) -> None:
    async with async_atomic(NATIVE):
        await Author.objects.acreate(name="fay")
        with pytest.raises(ValueError):
            async with async_atomic(NATIVE):
                await Author.objects.acreate(name="gus")
                raise ValueError
        # No savepoint: the whole transaction is doomed, any query now is refused (Django's error).
        with pytest.raises(TransactionManagementError):
            await Author.objects.acount()
        with pytest.raises(TransactionManagementError):
            async with connections[NATIVE].acursor() as cursor:
                await cursor.execute("SELECT 1")
    names = await committed_names(side)
    assert "fay" not in names and "gus" not in names


async def test_durable_refuses_nesting(side: SyncSide) -> None:
    async with async_atomic(NATIVE):
        with pytest.raises(RuntimeError, match="durable"):
            async with async_atomic(NATIVE, durable=True):
                pass
    async with async_atomic(NATIVE, durable=True):
        await Author.objects.acreate(name="hal")
    assert "hal" in await committed_names(side)


async def test_decorator_forms(side: SyncSide) -> None:
    @async_atomic(NATIVE)
    async def create(name: str) -> None:
        await Author.objects.acreate(name=name)
        if name == "bad":
            raise KeyError(name)

    await create("ida")
    with pytest.raises(KeyError):
        await create("bad")
    names = await committed_names(side)
    assert "ida" in names and "bad" not in names


async def test_sync_orm_inside_run_orm_shares_the_block(side: SyncSide) -> None:
    def sync_part() -> int:
        Author.objects.create(name="jon")
        with transaction.atomic(using=NATIVE):  # nested in the async block, same connection
            return Author.objects.filter(name="jon").count()

    with pytest.raises(LookupError):
        async with async_atomic(NATIVE):
            assert await run_orm(sync_part) == 1
            raise LookupError
    assert "jon" not in await committed_names(side)


async def test_sync_access_inside_the_block_is_refused(side: SyncSide) -> None:
    async with async_atomic(NATIVE):
        await Author.objects.acreate(name="kim")
        with pytest.raises(TransactionManagementError, match="async_atomic"):
            await sync_to_async(lambda: list(Author.objects.using(NATIVE).all()))()
        with pytest.raises(TransactionManagementError, match="async_atomic"):
            await sync_to_async(lambda: transaction.atomic(using=NATIVE).__enter__())()
    # After the block the same sync code runs (its own connection).
    assert (
        "kim"
        in await sync_to_async(lambda: list(Author.objects.using(NATIVE).values_list("name", flat=True)))()
    )
    await sync_to_async(lambda: connections[NATIVE].close())()


async def test_pinned_connection_from_a_child_task_is_refused(side: SyncSide) -> None:
    async with async_atomic(NATIVE):
        await Author.objects.acreate(name="lea")
        with pytest.raises(RuntimeError, match="pinned to task"):
            await asyncio.create_task(Author.objects.acount())

        async def in_acursor() -> None:
            async with connections[NATIVE].acursor() as cursor:
                await cursor.execute("SELECT 1")

        with pytest.raises(RuntimeError, match="new_connection"):
            await asyncio.create_task(in_acursor())

        async def own_connection() -> tuple[int, bool]:
            async with new_connection(NATIVE):
                async with async_atomic(NATIVE):
                    await Author.objects.acreate(name="max")
                return await Author.objects.acount(), await Author.objects.filter(name="lea").aexists()

        count, sees_lea = await asyncio.create_task(own_connection())
        assert not sees_lea  # its own connection and transaction: the parent's row is uncommitted
        assert count == 4  # 3 seeded + its own committed "max"
    assert {"lea", "max"} <= set(await committed_names(side))
    assert await pool_in_use() == 0


async def test_on_commit_order_sync_and_async_after_the_outermost_commit(side: SyncSide) -> None:
    ran: list[str] = []

    async def later(tag: str) -> None:
        await asyncio.sleep(0)
        ran.append(tag)

    async with async_atomic(NATIVE):
        await on_commit(lambda: ran.append("sync-1"), using=NATIVE)
        async with async_atomic(NATIVE):
            await on_commit(lambda: later("async-2"), using=NATIVE)
            await run_orm(transaction.on_commit, lambda: ran.append("django-3"), using=NATIVE)
        assert ran == []  # inner exit is not a commit
        await on_commit(lambda: later("async-4"), using=NATIVE)
        assert ran == []
    assert ran == ["sync-1", "async-2", "django-3", "async-4"]

    ran.clear()
    with pytest.raises(ValueError):
        async with async_atomic(NATIVE):
            await on_commit(lambda: ran.append("never"), using=NATIVE)
            raise ValueError
    await on_commit(lambda: later("now"), using=NATIVE)  # outside a block: at once
    assert ran == ["now"]


async def test_gather_outside_a_block_uses_several_connections(side: SyncSide) -> None:
    pool = connections[NATIVE].pool()
    checkouts = pool.get_stats().get("checkouts")
    author, count, exists = await asyncio.gather(
        Author.objects.aget(name="ann"), Author.objects.acount(), Author.objects.filter(age=40).aexists()
    )
    assert (author.name, count, exists) == ("ann", 3, True)
    stats = pool.get_stats()
    assert stats["in_use"] == 0
    if checkouts is not None:
        assert stats["checkouts"] - checkouts == 3


async def test_limit_connections_caps_checkouts_only_when_asked(side: SyncSide) -> None:
    from django_singlestore_async import limit_connections

    pool = connections[NATIVE].pool()
    seen: list[int] = []

    def hook(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        seen.append(pool.get_stats()["in_use"])
        return execute(sql, params, many, context)

    def slow() -> int:
        with connections[NATIVE].cursor() as cursor:
            cursor.execute("SELECT SLEEP(0.2)")
            return 1

    with connections[NATIVE].execute_wrapper(hook):
        assert sum(await asyncio.gather(*(run_orm(slow) for _ in range(6)))) == 6
        uncapped = max(seen)
        seen.clear()
        async with limit_connections(2):
            assert sum(await asyncio.gather(*(run_orm(slow) for _ in range(6)))) == 6
            async with async_atomic(NATIVE):  # a pinned block holds one slot; its calls take none
                await Author.objects.acount()
                await Author.objects.acount()
        capped = max(seen)
    assert uncapped >= 3 and capped <= 2, (uncapped, capped)
    assert pool.get_stats()["in_use"] == 0
    with pytest.raises(ValueError):
        async with limit_connections(0):
            pass


async def test_a_block_rolls_back_when_its_caller_never_touched_the_alias(side: SyncSide) -> None:
    """Without DEBUG a native call makes no wrapper in a caller's context that has none: every call
    inside the block must still run on the block's pinned connection (a regression the example shop's
    checkout caught: the calls ran in autocommit and the first write survived the rollback)."""

    async def caller() -> None:
        assert not hasattr(connections._connections, NATIVE)
        with pytest.raises(ZeroDivisionError):
            async with async_atomic(NATIVE):
                await Author.objects.acreate(name="ivy")
                await Author.objects.filter(name="ivy").aupdate(age=3)
                1 / 0  # noqa: B018

    with override_settings(DEBUG=False):
        await asyncio.create_task(caller(), context=contextvars.Context())
    assert "ivy" not in await committed_names(side)
    assert await pool_in_use() == 0
