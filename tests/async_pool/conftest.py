"""Fixtures for the async pool tests: an endpoint on the test bed's master aggregator with a database of
the test's own, and a sync (mysqlclient) admin connection to look at and KILL server sessions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import MySQLdb
import pytest

from tests.testbed import Endpoint, Testbed


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
        admin.cursor().execute(f"CREATE DATABASE `{name}`")
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

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def admin(endpoint: Endpoint) -> Iterator[Admin]:
    a = Admin(endpoint)
    yield a
    a.close()
