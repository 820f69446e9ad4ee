"""singlestore_async.W001: an alias on ENGINE django_singlestore_async whose app is missing from
INSTALLED_APPS (Django's async ORM API would silently keep its thread hop there)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core import checks
from django.db import connections
from django.test.utils import override_settings

from django_singlestore_async.asgi import ASGIHandler
from tests.async_orm.conftest import NATIVE, STOCK
from tests.dbtools import AliasFactory

W001 = "singlestore_async.W001"


def w001(issues: list[checks.CheckMessage]) -> list[str]:
    """The aliases the W001 warnings name, in order."""
    return [issue.msg.split("'")[1] for issue in issues if issue.id == W001]


@pytest.fixture
def without_app(orm_aliases: AliasFactory) -> Iterator[None]:
    apps = [app for app in settings.INSTALLED_APPS if app != "django_singlestore_async"]
    with override_settings(INSTALLED_APPS=apps):
        yield


def test_no_warning_with_the_app_installed(orm_aliases: AliasFactory) -> None:
    assert w001(checks.run_checks(databases=[NATIVE, STOCK])) == []


def test_the_database_checks_name_each_native_alias_once(without_app: None) -> None:
    """`migrate`, the test runner and `check --database` run the engine's database checks."""
    issues = [issue for issue in checks.run_checks(databases=[NATIVE, STOCK]) if issue.id == W001]
    # `stock` is the same engine with OPTIONS["native_async"] = False: a deliberate thread hop.
    assert w001(issues) == [NATIVE]
    [issue] = issues
    assert isinstance(issue, checks.Warning)
    assert "INSTALLED_APPS" in issue.msg and "native_async" in (issue.hint or "")
    assert w001(connections[STOCK].validation.check()) == []


def test_the_asgi_handler_logs_it_at_startup(without_app: None, caplog: pytest.LogCaptureFixture) -> None:
    """ASGI servers run no system checks: the handler says it when it is built."""
    with caplog.at_level("WARNING", logger="django_singlestore_async"):
        ASGIHandler()
    [record] = [r for r in caplog.records if "singlestore_async.W001" in r.getMessage()]
    assert "'native'" in record.getMessage() and "'stock'" not in record.getMessage()
