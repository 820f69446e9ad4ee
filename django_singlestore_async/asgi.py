"""The async side's ASGI application: Django's handler without its thread hop, and the lifespan.

`asgi.py` of a project:

    from django_singlestore_async.asgi import get_asgi_application, with_lifespan

    application = with_lifespan(get_asgi_application())

**The handler.** Django's `ASGIHandler` sends `request_started` with `Signal.asend()`, whose sync
receivers run through `sync_to_async`, and closes the response (which sends `request_finished`)
through `sync_to_async` too: two hops per request to a worker thread that the request's
`ThreadSensitiveContext` creates for the purpose and joins afterwards, even when the view never
touches sync code. `ASGIHandler` here is Django's, request flow and all; only where those two
signals run changes. They run on the event loop when every sync receiver is known to be safe
there, and through Django's own path otherwise, so an unknown receiver still runs in the thread:

* `django.db.reset_queries` (clears query logs) and `django.core.handlers.base.reset_urlconf`:
  plain Python.
* `django.db.close_old_connections`: Django runs it on the request's thread, to close what sync
  code of the request opened there. The loop path is taken only when that thread has not started
  (no `sync_to_async` of this request so far, no sync caller above the loop) and no wrapper in the
  loop's context holds a connection (a native alias's wrapper never does between calls: each call's
  connection is back in the pool when it returns, and the pool enforces lifetimes and health;
  other wrappers cannot connect on the loop). Then the receiver has nothing to close anywhere.
  Once the request has used the thread, `request_finished` goes there, as in Django.
* `django.core.cache.close_caches`: when every cache in use has the base class's no-op `close()`.
* `async def` receivers: awaited on the loop, as Django does.
* a sync receiver of the project's own, marked with `@loop_safe` (it must not block).

The response is closed on the loop only when its class keeps Django's `close()` and its only
resource is the request itself (no streamed iterator, no file, no upload spooled to disk);
otherwise, and whenever `request_finished` has async receivers, Django's `sync_to_async` path runs.
Errors raised by receivers propagate as with Django's handler.

**The lifespan.** Django's ASGI handler refuses `lifespan` scopes, so without a wrapper the pools
die with the event loop ("Event loop is closed" from connections nobody closed). `with_lifespan`
answers the lifespan protocol: at startup every alias whose ENGINE is `django_singlestore_async`
gets its pool on the server's event loop, filled to `min_size`; a failure is reported as
`lifespan.startup.failed`. At shutdown the pools close: borrowed connections get `close_timeout`
seconds to come back, then they are terminated. Run uvicorn with its default `--lifespan auto`.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from types import ModuleType
from typing import Any, TypeVar

import asgiref.sync
from asgiref.sync import AsyncToSync, SyncToAsync
from django.core import signals as django_signals
from django.core.cache import caches, close_caches
from django.core.cache.backends.base import BaseCache
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.handlers.asgi import ASGIHandler as DjangoASGIHandler
from django.core.handlers.asgi import ASGIRequest
from django.core.handlers.base import reset_urlconf
from django.db import close_old_connections, connections, reset_queries
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from django_singlestore_async.pool import close_pools

__all__ = [
    "ENGINE",
    "ASGIHandler",
    "get_asgi_application",
    "loop_receivers",
    "loop_safe",
    "open_pools",
    "with_lifespan",
]

logger = logging.getLogger("django_singlestore_async")

ENGINE = "django_singlestore_async"

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
F = TypeVar("F", bound=Callable[..., Any])

#: True while a request of this module's ASGIHandler runs (in its task's context).
_in_request: ContextVar[bool] = ContextVar("django_singlestore_async.asgi_request", default=False)
#: The functions marked with @loop_safe.
_marked: weakref.WeakSet[Any] = weakref.WeakSet()
_state: dict[str, Any] = {}


# --- lifespan ---------------------------------------------------------------------------------------------


async def open_pools(timeout: float | None = None) -> list[str]:
    """Create and fill (to `min_size`) the running loop's pool of every async-engine alias; returns
    the aliases."""
    aliases = [alias for alias in connections if connections.settings[alias]["ENGINE"] == ENGINE]
    for alias in aliases:
        await connections[alias].pool().open(wait=True, timeout=timeout)
    return aliases


def with_lifespan(app: ASGIApp, *, close_timeout: float = 10.0, open_timeout: float | None = None) -> ASGIApp:
    """Wrap an ASGI application (Django's) so that it answers the lifespan protocol."""

    async def application(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await open_pools(open_timeout)
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": f"{type(exc).__name__}: {exc}"})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await close_pools(timeout=close_timeout)
                except Exception as exc:
                    await send(
                        {"type": "lifespan.shutdown.failed", "message": f"{type(exc).__name__}: {exc}"}
                    )
                    return
                await send({"type": "lifespan.shutdown.complete"})
                return

    return application


# --- which receivers may run on the loop -------------------------------------------------------------------


def loop_safe(receiver: F) -> F:
    """Mark a sync `request_started`/`request_finished` receiver as safe to run on the event loop
    (it never blocks): with this module's handler it then no longer sends the signal to a thread."""
    _marked.add(getattr(receiver, "__func__", receiver))
    return receiver


def _request_thread_unused() -> bool:
    """Django would run the request's sync receivers on a thread that holds nothing of this request:
    its ThreadSensitiveContext has not started a thread, and no sync caller (AsyncToSync) is above."""
    if getattr(AsyncToSync.executors, "current", None) is not None:
        return False
    context = SyncToAsync.thread_sensitive_context.get(None)
    return context is not None and context not in SyncToAsync.context_to_thread_executor


def _safe_on_loop(receiver: Any) -> bool:
    if receiver is reset_queries or receiver is reset_urlconf:
        return True
    if receiver is close_old_connections:
        return all(conn.connection is None for conn in connections.all(initialized_only=True))
    if receiver is close_caches:
        return all(type(cache).close is BaseCache.close for cache in caches.all(initialized_only=True))
    return getattr(receiver, "__func__", receiver) in _marked


def loop_receivers(signal: Any, sender: Any) -> tuple[list[Any], list[Any]] | None:
    """The (sync, async) receivers of `signal` (request_started / request_finished) sent now by
    `sender` when all of them may run on the event loop (the handler's decision), else None."""
    if not _request_thread_unused():
        return None
    sync_receivers, async_receivers = signal._live_receivers(sender)
    if all(_safe_on_loop(receiver) for receiver in sync_receivers):
        return sync_receivers, async_receivers
    return None


async def _asend_on_loop(
    signal: Any, sender: Any, receivers: tuple[list[Any], list[Any]], **named: Any
) -> list[tuple[Any, Any]]:
    """`Signal.asend()` with the sync receivers called in place instead of through sync_to_async."""
    sync_receivers, async_receivers = receivers
    responses = [(receiver, receiver(signal=signal, sender=sender, **named)) for receiver in sync_receivers]
    if async_receivers:
        results = await asyncio.gather(
            *(receiver(signal=signal, sender=sender, **named) for receiver in async_receivers)
        )
        responses.extend(zip(async_receivers, results, strict=True))
    return responses


def _closer_on_loop(closer: Any) -> bool:
    """The request's own close(): closes its body buffer and in-memory uploads (no disk I/O)."""
    request = getattr(closer, "__self__", None)
    if not isinstance(request, HttpRequest) or getattr(closer, "__name__", None) != "close":
        return False
    if type(request).close not in (HttpRequest.close, ASGIRequest.close):
        return False
    files = request.__dict__.get("_files")
    return files is None or all(
        isinstance(f, InMemoryUploadedFile) for _name, values in files.lists() for f in values
    )


def _close_on_loop(response: Any) -> bool:
    if type(response).close is not HttpResponseBase.close:
        return False
    if not all(_closer_on_loop(closer) for closer in response._resource_closers):
        return False
    receivers = loop_receivers(django_signals.request_finished, response._handler_class)
    # close() sends request_finished with send(): async receivers would need async_to_sync.
    return receivers is not None and not receivers[1]


class _RequestSignal:
    """What `django.core.handlers.asgi` sees as `signals.request_started` / `request_finished`."""

    def __init__(self, signal: Any) -> None:
        self._signal = signal

    def __getattr__(self, name: str) -> Any:
        return getattr(self._signal, name)

    async def asend(self, sender: Any, **named: Any) -> list[tuple[Any, Any]]:
        receivers = loop_receivers(self._signal, sender) if _in_request.get() else None
        if receivers is not None:
            return await _asend_on_loop(self._signal, sender, receivers, **named)
        return list(await self._signal.asend(sender, **named))


class _HandlerSignals:
    """`django.core.signals` as `django.core.handlers.asgi` sees it: the two request signals wrapped."""

    def __init__(self, module: ModuleType) -> None:
        self._module = module
        self.request_started = _RequestSignal(module.request_started)
        self.request_finished = _RequestSignal(module.request_finished)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


def _handler_sync_to_async(func: Any = None, *, thread_sensitive: bool = True, **kwargs: Any) -> Any:
    """`sync_to_async` as `django.core.handlers.asgi` sees it: a response's `close()` runs on the loop
    when `_close_on_loop` allows it (inside this module's handler only)."""
    stock = _state["stock_sync_to_async"]
    if func is None:
        return lambda f: _handler_sync_to_async(f, thread_sensitive=thread_sensitive, **kwargs)
    response = getattr(func, "__self__", None)
    if kwargs or not thread_sensitive or not isinstance(response, HttpResponseBase):
        return stock(func, thread_sensitive=thread_sensitive, **kwargs)
    if getattr(func, "__name__", None) != "close":
        return stock(func)

    async def close() -> None:
        if _in_request.get() and _close_on_loop(response):
            func()
        else:
            await stock(func)()

    return close


def self_check() -> list[str]:
    """What does not have the shape the handler relies on (empty: all good)."""
    import django.core.handlers.asgi as handler_module
    from django.dispatch import Signal
    from django.http import HttpResponse

    problems = []
    if handler_module.sync_to_async not in (asgiref.sync.sync_to_async, _handler_sync_to_async):
        problems.append("django.core.handlers.asgi.sync_to_async is not asgiref's sync_to_async")
    if not (handler_module.signals is django_signals or isinstance(handler_module.signals, _HandlerSignals)):
        problems.append("django.core.handlers.asgi.signals is not django.core.signals")
    if not callable(getattr(Signal, "_live_receivers", None)):
        problems.append("django.dispatch.Signal has no _live_receivers()")
    if not hasattr(SyncToAsync, "thread_sensitive_context") or not hasattr(
        SyncToAsync, "context_to_thread_executor"
    ):
        problems.append("asgiref's SyncToAsync keeps no per-context thread executors")
    if not hasattr(AsyncToSync, "executors"):
        problems.append("asgiref's AsyncToSync has no executors")
    if not isinstance(getattr(HttpResponse(), "_resource_closers", None), list):
        problems.append("HttpResponse has no _resource_closers list")
    return problems


def install() -> bool:
    """Rebind `signals` and `sync_to_async` in `django.core.handlers.asgi` (idempotent); both act
    only inside this module's handler. Returns False, after a warning, when Django's internals
    have another shape (the handler then behaves exactly as Django's)."""
    if "installed" in _state:
        return bool(_state["installed"])
    import django.core.handlers.asgi as handler_module

    problems = self_check()
    if problems:
        logger.warning(
            "django_singlestore_async.asgi.ASGIHandler keeps Django's thread hop for request signals: %s",
            "; ".join(problems),
        )
        _state["installed"] = False
        return False
    _state["stock_sync_to_async"] = handler_module.sync_to_async
    handler_module.sync_to_async = _handler_sync_to_async
    handler_module.signals = _HandlerSignals(handler_module.signals)
    _state["installed"] = True
    return True


# --- the handler -------------------------------------------------------------------------------------------


class ASGIHandler(DjangoASGIHandler):
    """Django's ASGIHandler; `request_started` and `request_finished` run on the event loop when
    their receivers allow it (module docstring), so a request whose view is native never hops to a
    thread."""

    def __init__(self) -> None:
        super().__init__()
        install()
        from django_singlestore_async.checks import missing_app_aliases

        missing = missing_app_aliases()
        if missing:
            logger.warning(
                "Databases %s use ENGINE 'django_singlestore_async' but 'django_singlestore_async' is not in "
                "INSTALLED_APPS: Django's async ORM API keeps its thread hop there (singlestore_async.W001).",
                missing,
            )

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = _in_request.set(True)
        try:
            await super().handle(scope, receive, send)
        finally:
            _in_request.reset(token)


def get_asgi_application() -> ASGIHandler:
    """`django.core.asgi.get_asgi_application()` with this module's handler."""
    import django

    django.setup(set_prefix=False)
    return ASGIHandler()
