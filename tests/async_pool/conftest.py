"""Fixtures for the async engine tests: an endpoint on the test bed's master aggregator with a database
of the test's own, a sync (mysqlclient) admin connection to look at and KILL server sessions, and
aliases on both engines (`django_singlestore_async` and its sync twin `django_singlestore`)."""

from __future__ import annotations

import contextlib
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

from django_singlestore.base import forget_server_data  # noqa: E402
from tests.testbed import Endpoint, Testbed  # noqa: E402


def _db_name(request: pytest.FixtureRequest) -> str:
    name = re.sub(r"[^a-z0-9_]+", "_", f"ap_{request.node.name}".lower())
    return name[:64]


@pytest.fixture
def endpoint(request: pytest.FixtureRequest, testbed: Testbed) -> Iterator[Endpoint]:
    """The master aggregator, with a database created for this test (dropped afterwards)."""
    name = _db_name(request)
    admin = MySQLdb.connect(**testbed.master.mysqldb_kwargs())
    try:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.cursor().execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
    finally:
        admin.close()
    yield testbed.with_database(name).master
    admin = MySQLdb.connect(**testbed.master.mysqldb_kwargs())
    try:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        admin.close()


class Admin:
    """A sync side connection (mysqlclient) for server-side checks: the process list, KILL."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.conn = MySQLdb.connect(**endpoint.mysqldb_kwargs(autocommit=True))

    def query(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        cursor = self.conn.cursor()
        cursor.execute(sql, params)
        return list(cursor.fetchall())

    def running(self, server_id: int) -> str | None:
        """The statement server session `server_id` is running, or None."""
        rows = self.query("SELECT INFO FROM information_schema.PROCESSLIST WHERE ID = %s", (server_id,))
        return rows[0][0] if rows else None

    def exists(self, server_id: int) -> bool:
        return bool(self.query("SELECT 1 FROM information_schema.PROCESSLIST WHERE ID = %s", (server_id,)))

    def kill(self, server_id: int) -> None:
        self.query(f"KILL {int(server_id)}")

    def kill_if_alive(self, server_id: int) -> None:
        """Clean-up: KILL a session that may have ended meanwhile (1094 unknown thread is fine)."""
        try:
            self.kill(server_id)
        except MySQLdb.OperationalError as exc:
            if exc.args[0] != 1094:
                raise

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def admin(endpoint: Endpoint) -> Iterator[Admin]:
    a = Admin(endpoint)
    yield a
    a.close()


@pytest.fixture(autouse=True)
def _own_databases(request: pytest.FixtureRequest) -> Iterator[None]:
    """These tests create and drop their own databases: lift pytest-django's access blocker."""
    blocker = request.getfixturevalue("django_db_blocker")
    with blocker.unblock():
        yield


def alias_settings(endpoint: Endpoint, engine: str, **options: Any) -> dict[str, Any]:
    return {
        "ENGINE": engine,
        "HOST": endpoint.host,
        "PORT": endpoint.port,
        "USER": endpoint.user,
        "PASSWORD": endpoint.password,
        "NAME": endpoint.database,
        "OPTIONS": options,
        "TIME_ZONE": None,
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": False,
        "AUTOCOMMIT": True,
        "ATOMIC_REQUESTS": False,
        "TEST": {"CHARSET": None, "COLLATION": None, "MIGRATE": True, "MIRROR": None, "NAME": None},
    }


@pytest.fixture
def make_alias(endpoint: Endpoint) -> Iterator[Callable[..., Any]]:
    """`make_alias(alias, engine="django_singlestore_async", endpoint=None, **OPTIONS)`: a wrapper
    registered in `connections` for this test (removed afterwards)."""
    made: list[tuple[str, Any]] = []

    def make(
        alias: str, engine: str = "django_singlestore_async", at: Endpoint | None = None, **options: Any
    ) -> Any:
        connections.settings[alias] = alias_settings(at or endpoint, engine, **options)
        forget_server_data(alias)
        wrapper = connections[alias]
        made.append((alias, wrapper))
        return wrapper

    yield make
    for alias, wrapper in made:
        wrapper.close()
        with contextlib.suppress(AttributeError):
            del connections[alias]
        connections.settings.pop(alias, None)
        forget_server_data(alias)
