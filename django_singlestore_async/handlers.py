"""`DATABASES[alias]["ASYNC_ATOMIC_REQUESTS"] = True`: each async view runs in `async_atomic(alias)`.

Django wraps views in `transaction.atomic()` for `ATOMIC_REQUESTS` in
`BaseHandler.make_view_atomic()`, and refuses async views there. `install()` (run by
`apps.NativeAsyncConfig.ready()`) wraps that method: Django's own code runs first (sync views and
`ATOMIC_REQUESTS` unchanged), then an async view is wrapped in `async_atomic` for every alias whose
`ASYNC_ATOMIC_REQUESTS` is true, unless the view is marked with
`django.db.transaction.non_atomic_requests(using=alias)`. Being the handler's hook (not a
middleware), it covers exactly what `ATOMIC_REQUESTS` covers: the view, with middleware outside the
transaction, and exceptions still reaching `process_exception` after the rollback; every
`BaseHandler` subclass (`ASGIHandler`, the test client's `AsyncClientHandler`) gets it.

The setting is read per request; a non-boolean value, or True on an alias that does not run
natively, raises ImproperlyConfigured naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.base import BaseHandler
from django.db import connections

from django_singlestore_async.scope import is_native_alias

__all__ = ["SETTING", "async_atomic_aliases", "install"]

SETTING = "ASYNC_ATOMIC_REQUESTS"

_state: dict[str, Any] = {}


def async_atomic_aliases() -> list[str]:
    """The aliases whose async views run in `async_atomic`, validated."""
    aliases = []
    for alias, settings_dict in connections.settings.items():
        value = settings_dict.get(SETTING, False)
        if not isinstance(value, bool):
            raise ImproperlyConfigured(
                f"DATABASES[{alias!r}][{SETTING!r}] must be True or False, not {value!r}."
            )
        if value:
            if not is_native_alias(alias):
                raise ImproperlyConfigured(
                    f"DATABASES[{alias!r}][{SETTING!r}] needs ENGINE 'django_singlestore_async' with the native "
                    f"async ORM on (OPTIONS['native_async'] not False)."
                )
            aliases.append(alias)
    return aliases


def make_view_atomic(self: BaseHandler, view: Callable[..., Any]) -> Callable[..., Any]:
    wrapped = _state["stock"](self, view)
    if not iscoroutinefunction(view):
        return wrapped
    from django_singlestore_async.transaction import async_atomic

    non_atomic: set[str] = getattr(view, "_non_atomic_requests", set())
    for alias in async_atomic_aliases():
        if alias not in non_atomic:
            wrapped = async_atomic(alias)(wrapped)
    return wrapped


def install() -> None:
    """Wrap `BaseHandler.make_view_atomic` (idempotent)."""
    if "stock" in _state:
        return
    _state["stock"] = BaseHandler.make_view_atomic
    setattr(BaseHandler, "make_view_atomic", make_view_atomic)  # noqa: B010
