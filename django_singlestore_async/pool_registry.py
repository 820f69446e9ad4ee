"""One pool per (alias, event loop): a new loop (a test, an `async_to_sync` call, a WSGI request)
gets a new pool instead of one bound to a dead loop."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django_singlestore_async.pool import AsyncConnectionPool

__all__ = ["close_pools", "loop_pools", "pool_for"]

logger = logging.getLogger("django_singlestore_async.pool")

_registry: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, AsyncConnectionPool]] = (
    weakref.WeakKeyDictionary()
)


def pool_for(
    alias: str, factory: Callable[[], AsyncConnectionPool], key: Hashable = None
) -> AsyncConnectionPool:
    """This event loop's pool for `alias`, built by `factory()` on first use.

    `key` describes the settings the pool was built from; when it changes (the test runner renames
    NAME to the test database, `override_settings`), the old pool is terminated and a new one built."""
    pools = _registry.setdefault(asyncio.get_running_loop(), {})
    pool = pools.get(alias)
    if pool is not None and not pool.closed and pool.settings_key != key:
        logger.info("pool %r: settings changed; terminating the old pool", alias)
        pool.terminate()
    if pool is None or pool.closed:
        pool = pools[alias] = factory()
        pool.settings_key = key
    return pool


def loop_pools() -> dict[str, AsyncConnectionPool]:
    """The pools of the running event loop, by alias."""
    return dict(_registry.get(asyncio.get_running_loop(), {}))


async def close_pools(alias: str | None = None, timeout: float = 5.0) -> int:
    """Close the running loop's pools (or the one of `alias`); returns how many borrowed connections
    had to be terminated. The ASGI lifespan wrapper calls it at shutdown."""
    pools = _registry.get(asyncio.get_running_loop(), {})
    names = [alias] if alias is not None else list(pools)
    terminated = 0
    for name in names:
        pool = pools.pop(name, None)
        if pool is not None:
            terminated += await pool.close(timeout)
    return terminated
