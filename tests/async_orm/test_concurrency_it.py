"""With per-statement latency (a second gateway started with `--latency-ms`), concurrent native ORM
reads overlap: the wall time of N tasks is well under the serial time. A functional proof of
concurrency, not a benchmark."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from django_singlestore_async.pool import close_pools
from tests.async_orm.conftest import NATIVE, AliasFactory, Router, SyncSide
from tests.async_orm.models import Author
from tests.testbed import Testbed

LATENCY_MS = 40
TASKS = 8
READS_PER_TASK = 3


@pytest.fixture(scope="module")
def slow_gateway(testbed: Testbed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A gateway in front of the same MariaDB that sleeps LATENCY_MS before every statement."""
    if testbed.mariadb is None:
        pytest.skip("environment: latency injection needs the embedded gateway (SINGLESTORE_URL is set)")
    from tests.testbed.gateway.process import GatewayProcess

    server = testbed.mariadb
    gateway = GatewayProcess(
        server.port,
        server.admin_user,
        server.admin_password,
        latency_ms=LATENCY_MS,
        state_dir=Path(tmp_path_factory.mktemp("slow-gateway")),
    ).start()
    yield gateway.master_port
    gateway.stop()


async def reads(n: int) -> list[str]:
    return [(await Author.objects.aget(id=1 + i % 3)).name for i in range(n)]


@pytest.mark.asyncio
async def test_concurrent_reads_overlap(
    slow_gateway: int, orm_aliases: AliasFactory, side: SyncSide, testbed: Testbed
) -> None:
    from tests.testbed import Endpoint

    master = testbed.master
    slow = Endpoint(master.host, slow_gateway, master.user, master.password, master.database)
    orm_aliases("slow", slow, pool={"max_size": TASKS})  # the module's database, through the slow gateway
    Router.alias = "slow"
    try:
        assert await reads(1) == ["ann"]  # warm: the pool's first connection, the server data

        started = time.monotonic()
        serial = await reads(TASKS * READS_PER_TASK)
        serial_time = time.monotonic() - started

        started = time.monotonic()
        concurrent = await asyncio.gather(*(reads(READS_PER_TASK) for _ in range(TASKS)))
        concurrent_time = time.monotonic() - started
    finally:
        Router.alias = NATIVE
        await close_pools("slow")

    print(f"serial {serial_time:.3f}s, {TASKS} concurrent tasks {concurrent_time:.3f}s")
    assert [name for names in concurrent for name in names] == serial[: TASKS * READS_PER_TASK]
    assert serial_time >= TASKS * READS_PER_TASK * LATENCY_MS / 1000  # the latency is really there
    assert concurrent_time < serial_time / 2, (concurrent_time, serial_time)
