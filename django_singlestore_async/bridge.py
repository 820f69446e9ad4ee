"""The greenlet bridge: Django's sync ORM code runs on the event-loop thread, and each of its
database round trips is awaited on the loop instead of blocking it.

`await greenlet_spawn(fn, ...)` runs `fn` in a child greenlet (a `BridgeGreenlet`). When code inside
it calls `await_only(awaitable)`, the child switches to the parent with the awaitable; the parent
(the coroutine that called `greenlet_spawn`, in the caller's task) awaits it on the loop and switches
back with the result or throws the exception in. Everything stays on one thread, so nothing is
handed to a worker thread and a pooled aiomysql connection serves the sync code.

Rules kept here (greenlet-spike.md §2, §6):

* the child runs in the `contextvars.Context` it is given (the caller's values are there; the
  connection scope copies the caller's context so that what the child installs never leaks back);
* an awaitable that is already done (aiomysql's buffered fetches return finished futures) is
  answered without a loop round trip;
* a `CancelledError` thrown into the child wins over what the child's cleanup raises afterwards
  (Django's `finally` blocks on a poisoned connection raise `InterfaceError`), with the cleanup
  error as its `__cause__`, so `asyncio.timeout()` and TaskGroups keep working;
* no child outlives the await that drives it: if the driving coroutine is abandoned (closed, or
  the task dies), the child is unwound with `GreenletExit` before the driver returns;
* `await_only` outside a bridge greenlet raises `MissingGreenlet` (a `SynchronousOnlyOperation`).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

from django.core.exceptions import SynchronousOnlyOperation
from greenlet import GreenletExit, getcurrent, greenlet

__all__ = [
    "BridgeGreenlet",
    "MissingGreenlet",
    "await_only",
    "greenlet_iterate",
    "greenlet_spawn",
    "in_bridge",
]

T = TypeVar("T")

#: The advice every refusal of sync database access on the loop carries.
HOW_TO = (
    "Use Django's async API (await Model.objects.aget(...), async for obj in queryset, "
    "await obj.asave()), load relations up front with select_related()/prefetch_related(), "
    "or run a block of sync ORM code natively with "
    "`await django_singlestore_async.run_orm(function, *args)`."
)


class MissingGreenlet(SynchronousOnlyOperation):
    """`await_only()` was called outside a bridge greenlet: sync code tried database I/O directly
    on the event loop."""


class BridgeGreenlet(greenlet):
    """A greenlet whose code may call `await_only()`; its parent drives the awaits."""

    __slots__ = ()


class _Yield:
    """What a `greenlet_iterate` body hands its driver: one item, not an awaitable."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def in_bridge() -> bool:
    """Whether the running code is inside a bridge greenlet (so `await_only` works)."""
    return isinstance(getcurrent(), BridgeGreenlet)


def await_only(awaitable: Awaitable[T]) -> T:
    """Wait for `awaitable` from sync code inside a bridge greenlet; returns its result."""
    current = getcurrent()
    if not isinstance(current, BridgeGreenlet):
        close = getattr(awaitable, "close", None)
        if close is not None:
            close()  # never "coroutine was never awaited"
        raise MissingGreenlet(
            "Database access from sync code on the event loop, outside the ORM bridge. " + HOW_TO
        )
    if isinstance(awaitable, asyncio.Future) and awaitable.done():
        return awaitable.result()
    return current.parent.switch(awaitable)


async def _drive(child: BridgeGreenlet, request: Any, *, stop_at_yield: bool = False) -> Any:
    """Serve `child`'s awaits until it finishes (or, with `stop_at_yield`, hands out an item)."""
    cancelled: asyncio.CancelledError | None = None
    while not child.dead:
        if stop_at_yield and isinstance(request, _Yield):
            return request
        try:
            value = await request
        except GeneratorExit:
            raise  # the driving coroutine is being closed: the caller's finally unwinds the child
        except asyncio.CancelledError as exc:
            cancelled = cancelled or exc
            request = _resume(child.throw, exc, cancelled)
        except BaseException as exc:
            request = _resume(child.throw, exc, cancelled)
        else:
            request = _resume(child.switch, value, cancelled)
    return request


def _resume(step: Callable[[Any], Any], arg: Any, cancelled: asyncio.CancelledError | None) -> Any:
    """`child.switch(value)` or `child.throw(exc)`: a cancellation seen earlier wins over an error the
    greenlet raises while it cleans up (hazard H5), so `asyncio.timeout()` still sees it."""
    try:
        return step(arg)
    except asyncio.CancelledError:
        raise
    except BaseException as error:
        if cancelled is not None:
            raise cancelled from error
        raise


def _unwind(child: BridgeGreenlet) -> None:
    """Finish an abandoned child now: GreenletExit in, every await it still asks for refused."""
    request: Any = None
    for _ in range(100):
        if child.dead:
            return
        if request is None:
            request = child.throw(GreenletExit)
        else:
            close = getattr(request, "close", None)
            if close is not None:
                close()
            request = child.throw(MissingGreenlet("the awaiting coroutine is gone (abandoned bridge call)"))


def _start(fn: Callable[..., Any], context: contextvars.Context | None) -> BridgeGreenlet:
    child = BridgeGreenlet(fn, parent=getcurrent())
    child.gr_context = context if context is not None else contextvars.copy_context()
    return child


async def greenlet_spawn(
    fn: Callable[..., T], *args: Any, _context: contextvars.Context | None = None, **kwargs: Any
) -> T:
    """Run `fn(*args, **kwargs)` in a bridge greenlet on this loop; its `await_only` calls are
    awaited here. `_context` is the Context it runs in (default: a copy of the caller's)."""
    child = _start(fn, _context)
    try:
        request = child.switch(*args, **kwargs)
        return await _drive(child, request)
    finally:
        if not child.dead:
            _unwind(child)


async def greenlet_iterate(
    make_iterator: Callable[[], Iterator[T]], *, context: contextvars.Context | None = None
) -> AsyncIterator[T]:
    """Iterate a sync iterator inside ONE bridge greenlet (a server-side cursor stays on its
    connection between items). The iterator is closed inside the greenlet when iteration ends or
    the async generator is closed (never later by the garbage collector, outside the bridge)."""

    def body() -> None:
        iterator = make_iterator()
        parent = getcurrent().parent
        try:
            for item in iterator:
                parent.switch(_Yield(item))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    child = _start(body, context)
    try:
        request = child.switch()
        while True:
            request = await _drive(child, request, stop_at_yield=True)
            if not isinstance(request, _Yield):
                return
            yield request.value
            request = child.switch(None)
    finally:
        if not child.dead:
            # aclose() or the task going away: unwind inside the greenlet, still serving its
            # awaits (closing the cursor), then drop it.
            try:
                await _drive(child, child.throw(GeneratorExit))
            except GeneratorExit:
                pass
            finally:
                if not child.dead:
                    _unwind(child)
