"""Transactions in async code: `async_atomic`, async `on_commit`, `new_connection`.

Outside a block each native call checks a pooled connection out and gives it back (`scope.run_orm`),
so `asyncio.gather()` of native calls runs them on as many connections. `async_atomic(alias)` pins
one greenlet-mode wrapper (and its pooled connection) to the task that opened the block
(`scope.Pin`): every native call and `acursor()` of the alias inside it runs on that connection.

The transaction itself is Django's: `Atomic.__enter__` / `__exit__` run through the bridge on the
pinned wrapper, which is the engine's own `DatabaseWrapper` and so carries the sync backend's
`TransactionPolicyMixin`. Nesting without savepoints (an inner failure dooms the whole block),
`durable`, skip_autocommit (no BEGIN/COMMIT/ROLLBACK sent; `NoRollbackWarning`), the
child-aggregator 2549 error and `on_commit` ordering are therefore the sync side's, from the same code.

Rules kept here:

* a pinned connection belongs to its task; another task (a child created inside the block inherits
  the context) gets a `RuntimeError` naming `new_connection()`, which gives a task its own
  connection (and, with `async_atomic` inside it, its own transaction) on purpose;
* sync database access to the alias while the block is open (a `sync_to_async` function, sync code on
  a worker thread) raises `TransactionManagementError` instead of silently using another connection
  outside the transaction (`base.DatabaseWrapper.guard_sync_access`);
* a cancellation during COMMIT leaves the outcome unknown: the `CancelledError` (kept as it is, so
  `asyncio.timeout()` still turns it into `TimeoutError`) carries a note saying so, the block's
  `outcome` is `"unknown"`, and the connection is discarded, never reused.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.db import transaction as django_transaction

from django_singlestore_async.bridge import await_only, greenlet_spawn
from django_singlestore_async.scope import (
    Pin,
    current_pin,
    enter_scope,
    is_native_alias,
    pop_pin,
    push_pin,
    run_orm,
)

__all__ = ["COMMIT_OUTCOME_UNKNOWN", "AsyncAtomic", "async_atomic", "new_connection", "on_commit"]

logger = logging.getLogger("django_singlestore_async")

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])

#: The note a CancelledError carries when it interrupted a COMMIT.
COMMIT_OUTCOME_UNKNOWN = (
    "The COMMIT of this transaction was interrupted by the cancellation: the server may have "
    "committed it or not (outcome unknown, NOT rolled back for sure). The connection was discarded; "
    "check the data before retrying."
)


def _native_alias(using: str | None) -> str:
    alias = using or DEFAULT_DB_ALIAS
    if not is_native_alias(alias):
        raise ImproperlyConfigured(
            f"Database {alias!r} does not run natively (its ENGINE is not django_singlestore_async, or "
            f"OPTIONS['native_async'] is False): use `await sync_to_async(...)` around transaction.atomic()."
        )
    return alias


async def _open_pin(alias: str) -> Pin:
    """A greenlet-mode wrapper of `alias` with a pooled connection checked out, owned by this task."""
    context, scope = enter_scope(fresh=alias)

    def make() -> Any:
        # The copy made by enter_scope() has no wrapper for an alias this task has not pinned yet.
        wrapper = connections[alias]
        scope.disown(wrapper)
        try:
            wrapper.ensure_connection()
        except BaseException:
            wrapper.release_pooled_connection()
            raise
        return wrapper

    try:
        wrapper = await greenlet_spawn(make, _context=context)
    finally:
        scope.close()
    return Pin(alias, wrapper, asyncio.current_task())


def _release_pin(pin: Pin) -> None:
    """Give the pinned connection back (sync: safe in a `finally` after a cancellation). A
    connection still in a transaction is reset or discarded by the pool, never reused as it is."""
    wrapper = pin.wrapper
    pin.owner = asyncio.current_task()  # close() checks the owner; a finally may run elsewhere
    try:
        wrapper.close()
    except Exception:
        logger.debug("closing the pinned connection of %r failed", pin.alias, exc_info=True)
    finally:
        wrapper.release_pooled_connection()
        wrapper.pin = None


class AsyncAtomic:
    """`async with async_atomic(using):` / `@async_atomic(using)`: Django's `Atomic` on the task's
    pinned wrapper (see the module docstring). `savepoint` is accepted and, as on the sync side,
    has no effect (SingleStore has no savepoints)."""

    def __init__(self, using: str | None, savepoint: bool, durable: bool) -> None:
        self.using = using
        self.savepoint = savepoint
        self.durable = durable
        #: "committed", "rolled back", "unknown" (COMMIT interrupted) or None (nested / still open).
        self.outcome: str | None = None
        self._atomic: django_transaction.Atomic | None = None
        self._pin: Pin | None = None
        self._token: Any = None

    def __call__(self, func: F) -> F:
        if not inspect.iscoroutinefunction(func):
            raise TypeError(f"async_atomic decorates async functions; use transaction.atomic for {func!r}")

        @functools.wraps(func)
        async def inner(*args: Any, **kwargs: Any) -> Any:
            async with AsyncAtomic(self.using, self.savepoint, self.durable):
                return await func(*args, **kwargs)

        return inner  # type: ignore[return-value]

    async def __aenter__(self) -> None:
        if self._atomic is not None:
            raise RuntimeError("an async_atomic() instance is not reentrant; create one per block")
        alias = _native_alias(self.using)
        pin = current_pin(alias)
        if pin is not None:
            pin.check_owner()
        else:
            pin = await _open_pin(alias)
            self._token = push_pin(pin)
            self._pin = pin
        self._atomic = django_transaction.Atomic(alias, self.savepoint, self.durable)
        try:
            await run_orm(self._atomic.__enter__)
        except BaseException:
            self._atomic = None
            self._drop_pin()
            raise

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        atomic, self._atomic = self._atomic, None
        assert atomic is not None
        pin = current_pin(atomic.using)
        assert pin is not None
        outermost = self._pin is not None
        try:
            await run_orm(atomic.__exit__, exc_type, exc, tb)
        except asyncio.CancelledError as cancelled:
            if pin.wrapper.commit_in_flight:
                self.outcome = "unknown"
                cancelled.add_note(COMMIT_OUTCOME_UNKNOWN)
                logger.warning("Database %r: %s", pin.alias, COMMIT_OUTCOME_UNKNOWN)
            raise
        except BaseException:
            if outermost:
                self.outcome = "unknown" if pin.wrapper.commit_in_flight else "rolled back"
            raise
        else:
            if outermost:
                self.outcome = (
                    "rolled back" if exc_type is not None or pin.wrapper.needs_rollback else "committed"
                )
        finally:
            self._drop_pin()

    def _drop_pin(self) -> None:
        pin, self._pin = self._pin, None
        if pin is None:
            return
        try:
            _release_pin(pin)
        finally:
            pop_pin(self._token)
            self._token = None


def async_atomic(
    using: str | Callable[..., Awaitable[Any]] | None = None, savepoint: bool = True, durable: bool = False
) -> Any:
    """Django's `atomic()` for async code on a native alias: an async context manager, or a decorator
    of `async def` functions (bare `@async_atomic` too)."""
    if callable(using):
        return AsyncAtomic(DEFAULT_DB_ALIAS, savepoint, durable)(using)
    return AsyncAtomic(using, savepoint, durable)


def _as_callback(func: Callable[[], Any]) -> Callable[[], None]:
    """A sync callable Django can keep in `run_on_commit`; an awaitable result is awaited through the
    bridge (callbacks run inside Atomic.__exit__, in the owning task's bridge greenlet)."""

    @functools.wraps(func)
    def callback() -> None:
        result = func()
        if inspect.isawaitable(result):
            await_only(result)

    return callback


async def on_commit(func: Callable[[], Any], using: str | None = None, robust: bool = False) -> None:
    """Register `func` (sync, or returning an awaitable) to run after the outermost `async_atomic`
    block of `using` commits, in registration order with Django's own `transaction.on_commit`
    callbacks of that block; never after a rollback; at once outside a block (Django's rule)."""
    alias = _native_alias(using)
    callback = _as_callback(func)
    pin = current_pin(alias)
    if pin is not None:
        pin.check_owner()  # the block's list belongs to its task
    await run_orm(django_transaction.on_commit, callback, using=alias, robust=robust)


@asynccontextmanager
async def new_connection(using: str | None = None) -> AsyncIterator[None]:
    """`async with new_connection(alias):` this task gets a connection of its own for the block (an
    `async_atomic` inside it is this task's own transaction), instead of a pin inherited from the
    task that created it. Each use holds one more pooled connection: the pool's `max_size` and its
    acquire timeout bound them."""
    alias = _native_alias(using)
    pin = await _open_pin(alias)
    token = push_pin(pin)
    try:
        yield
    finally:
        try:
            _release_pin(pin)
        finally:
            pop_pin(token)
