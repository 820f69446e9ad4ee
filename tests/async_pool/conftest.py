"""Fixtures for the async engine tests: an endpoint on the test bed's master aggregator with a database
of the test's own, a sync (mysqlclient) admin connection to look at and KILL server sessions, and
aliases on both engines (`django_singlestore_async` and its sync twin `django_singlestore`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import MySQLdb
import pytest

from tests.dbtools import (
    ASYNC_ENGINE,
    AliasFactory,
    database_name,
    db_access_fixture,
    own_database,
    setup_django,
)
from tests.testbed import Endpoint, Testbed

setup_django()


@pytest.fixture
def endpoint(request: pytest.FixtureRequest, testbed: Testbed) -> Iterator[Endpoint]:
    """The master aggregator, with a database created for this test (dropped afterwards)."""
    with own_database(testbed.master, database_name(request, "ap", limit=64, lowercase=True)) as name:
        yield testbed.with_database(name).master


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


#: These tests create and drop their own databases: pytest-django's access blocker is lifted in every module.
_own_databases = db_access_fixture(integration_only=False)


@pytest.fixture
def make_alias(endpoint: Endpoint) -> Iterator[Callable[..., Any]]:
    """`make_alias(alias, endpoint=None, *, engine="django_singlestore_async", **OPTIONS)`: a wrapper
    registered in `connections` for this test (removed afterwards), on the endpoint's own database."""
    factory = AliasFactory(endpoint, None, engine=ASYNC_ENGINE)
    yield factory
    factory.close()
