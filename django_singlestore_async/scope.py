"""Which aliases run natively, and the connection scope of one native ORM call.

A native call (`run_orm`, and every routed `a*` method) runs in a **copy** of the caller's
`contextvars.Context` (async-design.md §5.4, greenlet-spike.md H1/H2). Inside that copy the scope
removes the caller's wrappers of the native aliases from `django.db.connections`, so the sync ORM
code that runs there creates fresh greenlet-mode wrappers (`native.py`), each of which borrows a
pooled connection on first use. When the call ends the scope closes them, which gives the
connections back to the pool: outside transactions, one checkout per call, as Django's stock `a*`
methods are one autocommit unit per call. Nothing installed in the copy is visible to the caller
or to other tasks, so a wrapper cannot be shared between tasks.

The greenlet-mode wrappers share the caller's wrapper's `queries_log`, `execute_wrappers` and
`force_debug_cursor`, so `connection.queries`, `CaptureQueriesContext` and `execute_wrapper()` on
`connections[alias]` see the native path's statements.

Transactions spanning several awaits (`async_atomic`, a request scope) extend this module: a scope
that outlives one call and is installed by its owner task.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import connections
from django.db.utils import load_backend

from django_singlestore_async.bridge import greenlet_iterate, greenlet_spawn, in_bridge

if TYPE_CHECKING:
    from django_singlestore_async.base import DatabaseWrapper

__all__ = ["NativeScope", "current_scope", "is_native_alias", "iterate_orm", "native_settings", "run_orm"]

logger = logging.getLogger("django_singlestore_async")

T = TypeVar("T")

_current: ContextVar[NativeScope | None] = ContextVar("django_singlestore_async.scope", default=None)
_engine_is_async: dict[str, bool] = {}


def _engine_runs_natively(engine: str) -> bool:
    known = _engine_is_async.get(engine)
    if known is None:
        from django_singlestore_async.base import DatabaseWrapper

        try:
            known = issubclass(load_backend(engine).DatabaseWrapper, DatabaseWrapper)
        except Exception:
            known = False
        _engine_is_async[engine] = known
    return known


def native_settings(settings_dict: Mapping[str, Any]) -> bool:
    """Whether an alias with these settings runs Django's async ORM natively: its ENGINE is this
    engine (or a subclass) and `OPTIONS["native_async"]` is not False."""
    options = settings_dict.get("OPTIONS") or {}
    if options.get("native_async", True) is False:
        return False
    engine = settings_dict.get("ENGINE")
    return isinstance(engine, str) and _engine_runs_natively(engine)


def is_native_alias(alias: str) -> bool:
    settings_dict = connections.settings.get(alias)
    return settings_dict is not None and native_settings(settings_dict)


def current_scope() -> NativeScope | None:
    """The scope of the native call running here (inside its bridge greenlet), else None."""
    scope = _current.get()
    return scope if scope is not None and in_bridge() else None


class NativeScope:
    """The greenlet-mode wrappers one native call created, and the caller's wrapper of each native
    alias (whose query log and execute hooks they share)."""

    def __init__(self, home: dict[str, DatabaseWrapper]) -> None:
        self.home = home
        self.wrappers: list[DatabaseWrapper] = []

    def adopt(self, wrapper: DatabaseWrapper) -> None:
        """Called by a greenlet-mode wrapper at construction."""
        self.wrappers.append(wrapper)
        home = self.home.get(wrapper.alias)
        if home is not None:
            wrapper.queries_log = home.queries_log
            wrapper.execute_wrappers = home.execute_wrappers
            wrapper.force_debug_cursor = home.force_debug_cursor

    def close(self) -> None:
        """Close every wrapper of the call: their connections go back to the pool (a connection
        still in a transaction is reset or discarded by the pool, never reused as it is)."""
        wrappers, self.wrappers = self.wrappers, []
        error: BaseException | None = None
        for wrapper in reversed(wrappers):
            try:
                wrapper.close()
            except BaseException as exc:  # close them all; report the first failure
                error = error or exc
            finally:
                wrapper.release_pooled_connection()
        if error is not None:
            raise error

    def _install(self) -> None:
        """Run in the call's copied Context: later `connections[alias]` there build new wrappers."""
        _current.set(self)
        storage = connections._connections
        for alias in self.home:
            with contextlib.suppress(AttributeError):
                delattr(storage, alias)


def _enter() -> tuple[contextvars.Context, NativeScope]:
    home = {alias: connections[alias] for alias in connections.settings if is_native_alias(alias)}
    scope = NativeScope(home)
    context = contextvars.copy_context()
    context.run(scope._install)
    return context, scope


async def run_orm(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`await run_orm(fn, *args, **kwargs)`: run sync ORM code natively on the event loop; each
    database round trip of the native aliases is awaited over their pool.

    Blocking code in `fn` (or in the `save()` overrides and signal receivers it reaches) blocks the
    whole event loop while it runs."""
    context, scope = _enter()

    def call() -> T:
        try:
            return fn(*args, **kwargs)
        finally:
            scope.close()

    return await greenlet_spawn(call, _context=context)


def iterate_orm(make_iterator: Callable[[], Iterator[T]]) -> AsyncIterator[T]:
    """`async for item in iterate_orm(lambda: iter(queryset))`: a sync iterator driven in one
    bridge greenlet, whose connection is held until the iteration ends or is closed."""
    context, scope = _enter()

    def scoped() -> Iterator[T]:
        try:
            yield from make_iterator()
        finally:
            scope.close()

    return greenlet_iterate(scoped, context=context)
