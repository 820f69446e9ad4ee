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

A **pin** (`Pin`, made by `transaction.async_atomic` / `transaction.new_connection`) is a
greenlet-mode wrapper that outlives one call: the copies made while a pin is in the caller's context
install the pinned wrapper instead of a fresh one, so every native call and `acursor()` of that
alias in the block runs on the block's connection and transaction. A pin belongs to the task that
made it; its wrapper refuses other tasks (`Pin.check_owner`), since child tasks inherit the caller's
context and would otherwise share one connection.

During a rollback-wrapped test (`test.TestCase`), `bind_test_connection` makes the wrappers of an
alias borrow the test's own mysqlclient connection and transaction state, so the native path sees
the test's uncommitted data.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextvars import ContextVar
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.db import connections
from django.db.utils import load_backend

from django_singlestore_async.bridge import greenlet_iterate, greenlet_spawn, in_bridge

if TYPE_CHECKING:
    from django_singlestore_async.base import DatabaseWrapper

__all__ = [
    "NativeScope",
    "Pin",
    "bind_test_connection",
    "checkout_cap",
    "current_pin",
    "current_scope",
    "is_native_alias",
    "iterate_orm",
    "limit_connections",
    "native_settings",
    "run_orm",
    "unbind_test_connection",
]

logger = logging.getLogger("django_singlestore_async")

T = TypeVar("T")

_current: ContextVar[NativeScope | None] = ContextVar("django_singlestore_async.scope", default=None)
_engine_is_async: dict[str, bool] = {}
_NO_PINS: Mapping[str, Pin] = MappingProxyType({})
_pins: ContextVar[Mapping[str, Pin]] = ContextVar("django_singlestore_async.pins", default=_NO_PINS)
_cap: ContextVar[asyncio.Semaphore | None] = ContextVar("django_singlestore_async.cap", default=None)
#: The cap each checked-out connection holds a slot of (given back with the connection).
_held: weakref.WeakKeyDictionary[Any, asyncio.Semaphore] = weakref.WeakKeyDictionary()
#: alias -> the sync wrapper whose (test) transaction the native path borrows; see bind_test_connection.
_test_connections: dict[str, Any] = {}


class Pin:
    """One alias's greenlet-mode wrapper held by one task across awaits (async_atomic, new_connection)."""

    def __init__(self, alias: str, wrapper: DatabaseWrapper, owner: asyncio.Task[Any] | None) -> None:
        self.alias = alias
        self.wrapper = wrapper
        self.owner = owner
        wrapper.pin = self

    def check_owner(self) -> None:
        """RuntimeError unless the running task is the one that pinned the connection."""
        try:
            task = asyncio.current_task()
        except RuntimeError:
            task = None
        if task is not self.owner:
            owner = self.owner.get_name() if self.owner is not None else "none"
            here = task.get_name() if task is not None else "no task"
            raise RuntimeError(
                f"Database {self.alias!r}: this connection is pinned to task {owner!r} by async_atomic() or "
                f"new_connection(), and {here!r} tried to use it (tasks created inside the block inherit it). "
                f"Await the work in the owning task, or give the other task its own connection and "
                f"transaction with `async with django_singlestore_async.new_connection({self.alias!r}):`."
            )

    @property
    def in_transaction_block(self) -> bool:
        return bool(self.wrapper.in_atomic_block)


def current_pin(alias: str) -> Pin | None:
    """The pin of `alias` visible in this context (possibly another task's: check_owner() decides)."""
    return _pins.get().get(alias)


def push_pin(pin: Pin) -> contextvars.Token[Mapping[str, Pin]]:
    return _pins.set({**_pins.get(), pin.alias: pin})


def pop_pin(token: contextvars.Token[Mapping[str, Pin]]) -> None:
    _pins.reset(token)


@contextlib.asynccontextmanager
async def limit_connections(limit: int) -> AsyncIterator[None]:
    """`async with limit_connections(4):` at most `limit` pooled connections checked out at once by
    the code in the block and the tasks it creates (native calls, `acursor()`, pinned blocks), over
    all native aliases; more wait for a slot. Without it only the pool's `max_size` bounds them.
    A task that holds a connection and asks for one more with every slot taken waits for ever: keep
    `limit` above the connections one task holds at once (one per open `async_atomic`/`new_connection`)."""
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ValueError(f"limit_connections() needs a positive int, not {limit!r}")
    token = _cap.set(asyncio.Semaphore(limit))
    try:
        yield
    finally:
        _cap.reset(token)


async def checkout_cap(conn_factory: Callable[[], Any]) -> Any:
    """Check a connection out through `conn_factory()` (an awaitable), inside the context's cap."""
    cap = _cap.get()
    if cap is None:
        return await conn_factory()
    await cap.acquire()
    try:
        conn = await conn_factory()
    except BaseException:
        cap.release()
        raise
    _held[conn] = cap
    return conn


def release_cap(conn: Any) -> None:
    """The connection is back in its pool: give its slot of the cap back (once)."""
    cap = _held.pop(conn, None)
    if cap is not None:
        cap.release()


def bind_test_connection(alias: str, wrapper: Any) -> None:
    """While bound, the native path of `alias` runs on `wrapper`'s DB-API connection inside its open
    transaction (a TestCase's): tests only; the sync side must not use it at the same time."""
    _test_connections[alias] = wrapper


def unbind_test_connection(alias: str) -> None:
    _test_connections.pop(alias, None)


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
    """The greenlet-mode wrappers one native call created, the native aliases (whose task pins the
    call installs), and the caller's wrapper of those aliases it has one of (whose query log and
    execute hooks the call's wrappers share)."""

    def __init__(self, aliases: list[str], home: dict[str, DatabaseWrapper]) -> None:
        self.aliases = aliases
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
        test_wrapper = _test_connections.get(wrapper.alias)
        if test_wrapper is not None:
            wrapper.bind_test_transaction(test_wrapper)

    def disown(self, wrapper: DatabaseWrapper) -> None:
        """Hand a wrapper over to a pin: closing the scope no longer closes it."""
        self.wrappers.remove(wrapper)

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

    def _install(self, fresh: str | None = None) -> None:
        """Run in the call's copied Context: later `connections[alias]` there build new wrappers."""
        _current.set(self)
        storage = connections._connections
        pins = _pins.get()
        for alias in self.aliases:
            pin = pins.get(alias) if alias != fresh else None
            if pin is not None:
                setattr(storage, alias, pin.wrapper)  # its owner check runs on first use
                continue
            with contextlib.suppress(AttributeError):
                delattr(storage, alias)


def _home_wrapper(alias: str) -> DatabaseWrapper | None:
    """The caller's wrapper of a native alias, whose query log and execute hooks the call shares.
    None when the caller's context has none yet and queries are not logged: a wrapper made now would
    have no hooks and nothing to read its log, and making one costs a wrapper per call."""
    wrapper = getattr(connections._connections, alias, None)
    if wrapper is None and settings.DEBUG:
        wrapper = connections[alias]
    return wrapper


def enter_scope(fresh: str | None = None) -> tuple[contextvars.Context, NativeScope]:
    """A copy of the caller's context with a new scope installed (`fresh`: an alias that gets a new
    wrapper there even if a pin of it is visible)."""
    aliases = [alias for alias in connections.settings if is_native_alias(alias)]
    home = {alias: wrapper for alias in aliases if (wrapper := _home_wrapper(alias)) is not None}
    scope = NativeScope(aliases, home)
    context = contextvars.copy_context()
    context.run(scope._install, fresh)
    return context, scope


async def run_orm(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`await run_orm(fn, *args, **kwargs)`: run sync ORM code natively on the event loop; each
    database round trip of the native aliases is awaited over their pool.

    Blocking code in `fn` (or in the `save()` overrides and signal receivers it reaches) blocks the
    whole event loop while it runs."""
    context, scope = enter_scope()

    def call() -> T:
        try:
            return fn(*args, **kwargs)
        finally:
            scope.close()

    return await greenlet_spawn(call, _context=context)


def iterate_orm(make_iterator: Callable[[], Iterator[T]]) -> AsyncIterator[T]:
    """`async for item in iterate_orm(lambda: iter(queryset))`: a sync iterator driven in one
    bridge greenlet, whose connection is held until the iteration ends or is closed."""
    context, scope = enter_scope()

    def scoped() -> Iterator[T]:
        try:
            yield from make_iterator()
        finally:
            scope.close()

    return greenlet_iterate(scoped, context=context)
