"""Helpers for the async pool tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from django_singlestore_async.connection import PooledConnection
from django_singlestore_async.pool import AsyncConnectionPool, PoolConfig
from tests.testbed import Endpoint


def make_pool(
    endpoint: Endpoint, *, pool_kwargs: dict[str, Any] | None = None, **config: Any
) -> AsyncConnectionPool:
    """A pool on `endpoint`; `config` are OPTIONS["pool"] keys (validated like the engine does)."""
    return AsyncConnectionPool(
        endpoint.aiomysql_kwargs(), PoolConfig.from_options(config), name="test", **(pool_kwargs or {})
    )


async def eventually(predicate: Callable[[], bool], timeout: float = 15.0, what: str = "condition") -> None:
    """Poll `predicate` until it holds; generous `timeout` for a loaded machine."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout}s")
        await asyncio.sleep(0.05)


async def scalar(conn: PooledConnection, sql: str, params: Any = None) -> Any:
    async with conn.cursor() as cursor:
        await cursor.execute(sql, params)
        row = await cursor.fetchone()
    assert row is not None
    return row[0]
