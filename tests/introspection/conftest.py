"""Introspection tests: Django settings without pytest-django's database setup, and per-test aliases.

Integration modules (`*_it.py`) run through the test bed's master aggregator: `make_alias(alias)`
registers a django_singlestore alias on this test's own database `gw_introspection_<test>[_<n>]`
(created, utf8mb4, and dropped by the fixture). Unit modules never touch a server.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from typing import Any

import django
import pytest
from django.conf import settings

if not settings.configured:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
django.setup()

import MySQLdb  # noqa: E402
from django.db import connections  # noqa: E402

from tests.testbed import Endpoint, Testbed  # noqa: E402


def _settings(endpoint: Endpoint, name: str, **options: Any) -> dict[str, Any]:
    return {
        "ENGINE": "django_singlestore",
        "HOST": endpoint.host,
        "PORT": endpoint.port,
        "USER": endpoint.user,
        "PASSWORD": endpoint.password,
        "NAME": name,
        "OPTIONS": options,
        "TIME_ZONE": None,
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": False,
        "AUTOCOMMIT": True,
        "ATOMIC_REQUESTS": False,
        "TEST": {"CHARSET": None, "COLLATION": None, "MIGRATE": True, "MIRROR": None, "NAME": None},
    }


def admin_sql(endpoint: Endpoint, *statements: str, database: str = "") -> None:
    """Run raw SQL (SingleStore DDL) through the aggregator with the driver, outside Django."""
    conn = MySQLdb.connect(**endpoint.mysqldb_kwargs(database=database))
    try:
        cur = conn.cursor()
        for statement in statements:
            cur.execute(statement)
    finally:
        conn.close()


class Aliases:
    """`aliases(alias, **OPTIONS)`: a django_singlestore connection on a fresh database of its own."""

    def __init__(self, endpoint: Endpoint, prefix: str) -> None:
        self.endpoint = endpoint
        self.prefix = prefix
        self.made: list[tuple[str, str]] = []

    def __call__(
        self, alias: str, *, same_as: Any = None, endpoint: Endpoint | None = None, **options: Any
    ) -> Any:
        """A new database, or with `same_as` (an alias made here) that alias's database, e.g. through
        another aggregator (`endpoint`)."""
        from django_singlestore.base import DatabaseWrapper, forget_server_data

        if same_as is not None:
            database = same_as.settings_dict["NAME"]
        else:
            database = f"{self.prefix}_{len(self.made)}" if self.made else self.prefix
            admin_sql(
                self.endpoint,
                f"DROP DATABASE IF EXISTS `{database}`",
                f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci",
            )
        settings_dict = _settings(endpoint or self.endpoint, database, **options)
        connections.settings[alias] = settings_dict
        wrapper = DatabaseWrapper(settings_dict, alias)
        connections[alias] = wrapper
        forget_server_data(alias)
        self.made.append((alias, database))
        return wrapper

    def close(self) -> None:
        from django_singlestore.base import forget_server_data

        for alias, _ in self.made:
            connections[alias].close()
            del connections[alias]
            connections.settings.pop(alias, None)
            forget_server_data(alias)
        for database in {database for _, database in self.made}:
            admin_sql(self.endpoint, f"DROP DATABASE IF EXISTS `{database}`")


@pytest.fixture(autouse=True)
def _integration_db_access(request: pytest.FixtureRequest) -> Iterator[None]:
    """Integration modules manage their own databases: lift pytest-django's blocker there."""
    if not request.module.__name__.endswith("_it"):
        yield
        return
    blocker = request.getfixturevalue("django_db_blocker")
    with blocker.unblock():
        yield


@pytest.fixture
def make_alias(request: pytest.FixtureRequest, testbed: Testbed) -> Iterator[Callable[..., Any]]:
    name = re.sub(r"[^A-Za-z0-9_]", "_", f"gw_introspection_{request.node.name}")[:58]
    factory = Aliases(testbed.master, name)
    yield factory
    factory.close()
