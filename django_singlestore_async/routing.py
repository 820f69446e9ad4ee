"""Routing Django's own async ORM API onto the bridge, for the native aliases only.

Django 5.2 and 6.1 implement every `a*` ORM method as `await sync_to_async(self.method)(...)`,
looking `sync_to_async` up as a global of the defining module. `install()` (run by
`apps.NativeAsyncConfig.ready()`) rebinds that global in the five database-only modules below to
`native_sync_to_async`, which runs the call natively (`scope.run_orm`) when the alias the call
works on is native, and hands it to asgiref's `sync_to_async` otherwise (stock aliases, other
engines, `OPTIONS["native_async"] = False`). It also:

* replaces `BaseIterable._async_generator` (`aiterator()`): one bridge greenlet drives the sync
  iterator chunk by chunk, so a chunked fetch stays on its connection (greenlet-spike.md H3);
* makes the dispatcher's `async_to_sync` await natively inside the bridge, so async signal
  receivers of a native `save()` run on the loop (asgiref refuses AsyncToSync on a loop thread).

Never routed: password hashing and `aauthenticate()` (`contrib.auth`), CPU or network work that
keeps Django's thread hop; their database reads (`aget_user` -> `QuerySet.aget`) are native.

`self_check()` verifies, before anything is changed, that Django's minor version is a tested one
and that each internal relied on has the expected shape; `install()` refuses loudly otherwise.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from itertools import islice
from types import ModuleType
from typing import Any

import asgiref.sync
import django
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper

from django_singlestore_async.bridge import await_only, in_bridge
from django_singlestore_async.native import UNGUARDED_METHODS
from django_singlestore_async.scope import is_native_alias, iterate_orm, run_orm

__all__ = ["ROUTED_MODULES", "TESTED_DJANGO", "install", "installed", "native_sync_to_async", "self_check"]

logger = logging.getLogger("django_singlestore_async")

#: Django minor versions whose internals this module was verified against.
TESTED_DJANGO = ((5, 2), (6, 1))

#: Modules whose global `sync_to_async` is rebound (database work only), and the Django app each
#: needs installed to be importable (None: always).
ROUTED_MODULES: dict[str, str | None] = {
    "django.db.models.query": None,
    "django.db.models.base": None,
    "django.db.models.fields.related_descriptors": None,
    "django.contrib.contenttypes.fields": "django.contrib.contenttypes",
    "django.contrib.sessions.backends.db": None,
}
DISPATCHER = "django.dispatch.dispatcher"

_stock_sync_to_async = asgiref.sync.sync_to_async
_stock_async_to_sync = asgiref.sync.async_to_sync
_state: dict[str, Any] = {"installed": False}


# --- where a call goes -------------------------------------------------------------------------------


def _closure_value(func: Callable[..., Any], name: str) -> Any:
    code = getattr(func, "__code__", None)
    cells = getattr(func, "__closure__", None)
    if code is None or not cells:
        return None
    for var, cell in zip(code.co_freevars, cells, strict=False):
        if var == name:
            with contextlib.suppress(ValueError):
                return cell.cell_contents
    return None


def alias_for_call(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
    """The database alias a routed call works on, as Django will choose it; None when unknown."""
    from django.db.models import Model, QuerySet
    from django.db.models.manager import BaseManager
    from django.db.models.query import RawQuerySet

    using = kwargs.get("using")
    if isinstance(using, str):
        return using
    owner = getattr(func, "__self__", None)
    if isinstance(owner, QuerySet | RawQuerySet):
        return owner.db
    if isinstance(owner, Model):
        if func.__name__ == "refresh_from_db":
            return owner._state.db or router.db_for_read(type(owner), instance=owner)
        return router.db_for_write(type(owner), instance=owner)
    if isinstance(owner, BaseManager):  # related managers: their writes follow the instance
        instance = getattr(owner, "instance", None)
        model = getattr(owner, "through", None) or owner.model
        return router.db_for_write(model, instance=instance) if instance is not None else owner.db
    if owner is None:
        if getattr(func, "__name__", "") == "prefetch_related_objects" and args:
            first = next(iter(args[0]), None)
            if first is not None:
                return first._state.db or router.db_for_read(type(first), instance=first)
            return None
        using = _closure_value(func, "using")  # sessions' asave: a local function closing over it
        if isinstance(using, str):
            return using
    return None


def native_sync_to_async(
    func: Callable[..., Any] | None = None,
    *,
    thread_sensitive: bool = True,
    executor: Any = None,
    **extra: Any,
) -> Any:
    """asgiref's `sync_to_async` signature; a call on a native alias runs natively instead."""
    if func is None:
        return lambda f: native_sync_to_async(
            f, thread_sensitive=thread_sensitive, executor=executor, **extra
        )
    if not thread_sensitive or executor is not None or extra:
        return _stock_sync_to_async(func, thread_sensitive=thread_sensitive, executor=executor, **extra)

    async def routed(*args: Any, **kwargs: Any) -> Any:
        alias = alias_for_call(func, args, kwargs)
        if alias is not None and is_native_alias(alias):
            return await run_orm(func, *args, **kwargs)
        return await _stock_sync_to_async(func)(*args, **kwargs)

    return routed


def _chunks(iterator: Iterator[Any], size: int) -> Iterator[list[Any]]:
    try:
        while chunk := list(islice(iterator, size)):
            yield chunk
            if len(chunk) < size:
                return
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


def _native_async_generator(self: Any) -> AsyncIterator[Any]:
    """`BaseIterable._async_generator`: one bridge greenlet per iteration on a native alias."""
    if not is_native_alias(self.queryset.db):
        return _state["stock_async_generator"](self)

    async def generator() -> AsyncIterator[Any]:
        chunks = iterate_orm(lambda: _chunks(iter(self), self.chunk_size))
        async with contextlib.aclosing(chunks):  # type: ignore[type-var]
            async for chunk in chunks:
                for item in chunk:
                    yield item

    return generator()


def bridged_async_to_sync(awaitable: Callable[..., Any], **kwargs: Any) -> Callable[..., Any]:
    """The dispatcher's `async_to_sync`: inside the bridge the coroutine is awaited on the loop."""
    if in_bridge():
        return lambda *args, **kw: await_only(awaitable(*args, **kw))
    return _stock_async_to_sync(awaitable, **kwargs)


# --- the self-check and the installer ------------------------------------------------------------


def _modules() -> dict[str, ModuleType]:
    from django.apps import apps

    found = {}
    for name, app in ROUTED_MODULES.items():
        if app is not None and not apps.is_installed(app):
            continue
        found[name] = importlib.import_module(name)
    return found


def self_check() -> list[str]:
    """What does not have the shape routing relies on (empty: all good)."""
    from django.db.backends.mysql.base import DatabaseWrapper as MySQLWrapper
    from django.db.models.query import BaseIterable

    problems = []
    if django.VERSION[:2] not in TESTED_DJANGO:
        tested = ", ".join(".".join(map(str, v)) for v in TESTED_DJANGO)
        problems.append(f"Django {django.get_version()} is not a tested version ({tested})")
    for name, module in _modules().items():
        bound = getattr(module, "sync_to_async", None)
        if bound is not _stock_sync_to_async and bound is not native_sync_to_async:
            problems.append(f"{name}.sync_to_async is not asgiref's sync_to_async")
    generator = getattr(BaseIterable, "_async_generator", None)
    if not (generator is _native_async_generator or inspect.isasyncgenfunction(generator)):
        problems.append("django.db.models.query.BaseIterable._async_generator is not an async generator")
    dispatcher = importlib.import_module(DISPATCHER)
    if getattr(dispatcher, "async_to_sync", None) not in (_stock_async_to_sync, bridged_async_to_sync):
        problems.append(f"{DISPATCHER}.async_to_sync is not asgiref's async_to_sync")
    for name in UNGUARDED_METHODS:
        if not hasattr(getattr(BaseDatabaseWrapper, name, None), "__wrapped__"):
            problems.append(f"BaseDatabaseWrapper.{name} is not an @async_unsafe method")
    for name in ("get_new_connection", "create_cursor"):
        if not hasattr(getattr(MySQLWrapper, name, None), "__wrapped__"):
            problems.append(f"mysql DatabaseWrapper.{name} is not an @async_unsafe method")
    if not hasattr(connections, "_connections"):
        problems.append("django.db.connections has no per-context storage (_connections)")
    return problems


def installed() -> bool:
    return bool(_state["installed"])


def install() -> bool:
    """Route Django's async ORM API of native aliases onto the bridge (idempotent). Raises
    ImproperlyConfigured if the self-check fails while an alias is configured as native; with no
    native alias it only logs and leaves Django as it is. Returns whether routing is installed."""
    if _state["installed"]:
        return True
    problems = self_check()
    if problems:
        native = [alias for alias in connections.settings if is_native_alias(alias)]
        message = (
            "django_singlestore_async cannot route Django's async ORM natively: "
            + "; ".join(problems)
            + ". Set OPTIONS['native_async'] = False on the async aliases to keep Django's thread hop."
        )
        if native:
            raise ImproperlyConfigured(message + f" (native aliases: {native})")
        logger.warning("%s", message)
        return False
    from django.db.models.query import BaseIterable

    _state["stock_async_generator"] = BaseIterable._async_generator
    for module in _modules().values():
        module.sync_to_async = native_sync_to_async  # type: ignore[attr-defined]
    BaseIterable._async_generator = _native_async_generator
    importlib.import_module(DISPATCHER).async_to_sync = bridged_async_to_sync  # type: ignore[attr-defined]
    _state["installed"] = True
    return True
