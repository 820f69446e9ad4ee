"""System checks of the async side.

* singlestore_async.W001: an alias runs on ENGINE `django_singlestore_async` (natively: its
  `OPTIONS["native_async"]` is not False) while `django_singlestore_async` is missing from
  INSTALLED_APPS. The app's `ready()` installs the routing of Django's async ORM API; without it the
  alias still works, but every `a*` call silently keeps Django's thread hop.

It is the engine's own database check (`DatabaseValidation`), so Django runs it where it runs
database checks: `migrate`, the test runner, `check --database`. Without the app nothing of this
package is loaded before the first database access, so no check registered here could run in a plain
`manage.py check`; the ASGI handler (`asgi.ASGIHandler`) logs the same finding at startup, for ASGI
servers, which run no checks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.core import checks

from django_singlestore.validation import DatabaseValidation as SyncDatabaseValidation

__all__ = ["APP", "DatabaseValidation", "missing_app_aliases", "missing_app_warning"]

APP = "django_singlestore_async"


def missing_app_aliases(aliases: Iterable[str] | None = None) -> list[str]:
    """The aliases (of `aliases`, default all) that would run natively if the app were installed."""
    from django.db import connections

    from django_singlestore_async.scope import native_settings

    if apps.is_installed(APP):
        return []
    names = list(connections.settings) if aliases is None else list(aliases)
    return [
        alias
        for alias in names
        if alias in connections.settings and native_settings(connections.settings[alias])
    ]


def missing_app_warning(alias: str) -> checks.Warning:
    return checks.Warning(
        f"Database {alias!r} uses ENGINE 'django_singlestore_async' but '{APP}' is not in INSTALLED_APPS, so "
        "Django's async ORM API (aget, acreate, async for, ...) on it keeps Django's thread hop "
        "instead of running natively over the pool.",
        hint=(
            f"Add '{APP}' to INSTALLED_APPS, or set OPTIONS['native_async'] = False on the alias to keep "
            "the thread hop on purpose."
        ),
        id="singlestore_async.W001",
    )


class DatabaseValidation(SyncDatabaseValidation):
    """The sync backend's checks, plus singlestore_async.W001 for this alias."""

    def check(self, **kwargs: Any) -> list[Any]:
        issues = list(super().check(**kwargs))
        issues.extend(missing_app_warning(alias) for alias in missing_app_aliases([self.connection.alias]))
        return issues
