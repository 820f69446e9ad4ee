"""The sync transaction policy on the async side, from the same code: skip_autocommit (no transaction
control sent, NoRollbackWarning) and the child aggregator's 2549 refusal of reference-table writes
inside a transaction."""

from __future__ import annotations

import warnings

import pytest
from django.db import connections

from django_singlestore.errors import ReferenceTableWriteOnChildAggregator
from django_singlestore.transactions import ChildAggregatorWarning, NoRollbackWarning
from django_singlestore_async import run_orm
from django_singlestore_async.transaction import async_atomic
from tests.async_orm.conftest import NATIVE, SyncSide
from tests.async_orm.models import Author
from tests.conftest import require_child
from tests.dbtools import AliasFactory

pytestmark = pytest.mark.asyncio

SKIP = "s2skip_async"


def raw(alias: str, sql: str) -> None:
    with connections[alias].cursor() as cursor:
        cursor.execute(sql)


async def test_skip_autocommit_block_sends_no_transaction_control(
    side: SyncSide, orm_aliases: AliasFactory
) -> None:
    orm_aliases(SKIP, skip_autocommit=True)
    try:
        home = connections[SKIP]
        home.queries_log.clear()
        with pytest.warns(NoRollbackWarning, match=r"1 statement\(s\).*NOT undone"):  # noqa: SIM117
            with pytest.raises(ValueError):
                async with async_atomic(SKIP):
                    await run_orm(raw, SKIP, "INSERT INTO s2async_author (name, age) VALUES ('yas', 1)")
                    raise ValueError
        sent = [q["sql"].upper() for q in home.queries_log]
        assert not [s for s in sent if s in ("BEGIN", "COMMIT", "ROLLBACK") or "AUTOCOMMIT" in s], sent
        # Each statement was committed when it ran: the row stays (and the warning said so).
        assert await side.run(lambda: Author.objects.using(NATIVE).filter(name="yas").exists())
    finally:
        connections.settings.pop(SKIP, None)


async def test_reference_write_in_async_atomic_on_the_child_is_2549(
    side: SyncSide, orm_aliases: AliasFactory, testbed
) -> None:  # type: ignore[no-untyped-def]
    require_child(testbed)
    await side.run(
        raw,
        NATIVE,
        "CREATE REFERENCE TABLE IF NOT EXISTS s2_async_ref (id BIGINT PRIMARY KEY, v VARCHAR(20))",
    )
    orm_aliases("s2child_async", testbed.child)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ChildAggregatorWarning)
            await run_orm(
                raw, "s2child_async", "INSERT INTO s2_async_ref VALUES (1, 'autocommit')"
            )  # allowed
            with pytest.raises(ReferenceTableWriteOnChildAggregator) as info:
                async with async_atomic("s2child_async"):
                    await run_orm(raw, "s2child_async", "INSERT INTO s2_async_ref VALUES (2, 'in atomic')")
            assert info.value.args[0] == 2549 and "skip_autocommit" in str(info.value)
            # The same through acursor() on the block's connection.
            with pytest.raises(ReferenceTableWriteOnChildAggregator):
                async with async_atomic("s2child_async"), connections["s2child_async"].acursor() as cursor:
                    await cursor.execute("INSERT INTO s2_async_ref VALUES (3, 'acursor')")
        rows = await side.run(lambda: _ids(NATIVE))
        assert rows == [1]
        assert connections["s2child_async"].pool().get_stats()["in_use"] == 0
    finally:
        await side.run(raw, NATIVE, "DROP TABLE IF EXISTS s2_async_ref")
        connections.settings.pop("s2child_async", None)


def _ids(alias: str) -> list[int]:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT id FROM s2_async_ref ORDER BY id")
        return [row[0] for row in cursor.fetchall()]
