"""Small client helpers for the engine's integration tests through the gateway (MySQLdb and aiomysql)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import aiomysql
import MySQLdb
import pytest

from tests.testbed import Endpoint, Testbed

DRIVERS = ("mysqldb", "aiomysql")


def db_for(prefix: str, request: pytest.FixtureRequest) -> str:
    return (prefix + re.sub(r"[^a-z0-9_]", "_", request.node.name.lower()))[:64]


@contextmanager
def fresh_database(bed: Testbed, name: str) -> Iterator[str]:
    """Create ``name`` (utf8mb4) directly on MariaDB; drop it through the gateway afterwards, so the
    gateway's catalog forgets its tables too."""
    assert bed.direct is not None
    conn = MySQLdb.connect(**bed.direct.mysqldb_kwargs(charset="utf8mb4"))
    try:
        cur = conn.cursor()
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        yield name
    finally:
        conn.close()
        gw = MySQLdb.connect(**bed.master.mysqldb_kwargs(charset="utf8mb4"))
        try:
            gw.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
        finally:
            gw.close()


class Client:
    """One connection through the gateway with a uniform, synchronous API over both drivers."""

    def __init__(self, driver: str, endpoint: Endpoint, database: str) -> None:
        self.driver = driver
        self.endpoint = endpoint
        if driver == "mysqldb":
            self.conn: Any = MySQLdb.connect(
                **endpoint.mysqldb_kwargs(charset="utf8mb4", database=database, autocommit=True)
            )
        else:
            self.loop = asyncio.new_event_loop()
            self.conn = self.loop.run_until_complete(
                aiomysql.connect(**endpoint.aiomysql_kwargs(charset="utf8mb4", db=database, autocommit=True))
            )
        self.lastrowid: int | None = None
        self.rowcount = 0
        #: The last result's DB-API description (name, type_code, ...), None after a statement without one.
        self.description: Any = None

    def execute(self, sql: str) -> list[tuple[Any, ...]]:
        if self.driver == "mysqldb":
            cur = self.conn.cursor()
            cur.execute(sql)
            rows = list(cur.fetchall() or ())
            self.lastrowid, self.rowcount = cur.lastrowid, cur.rowcount
            self.description = cur.description
            cur.close()
            return rows

        async def run() -> list[tuple[Any, ...]]:
            cur = await self.conn.cursor()
            await cur.execute(sql)
            rows = list(await cur.fetchall() or ())
            self.lastrowid, self.rowcount = cur.lastrowid, cur.rowcount
            self.description = cur.description
            await cur.close()
            return rows

        return self.loop.run_until_complete(run())

    def error(self, sql: str) -> tuple[int, str]:
        """Run ``sql`` expecting a server error; return (code, message)."""
        try:
            self.execute(sql)
        except (MySQLdb.MySQLError, aiomysql.MySQLError) as exc:
            return int(exc.args[0]), str(exc.args[1])
        raise AssertionError(f"{sql!r} succeeded through the gateway")

    def close(self) -> None:
        if self.driver == "mysqldb":
            self.conn.close()
        else:
            self.conn.close()
            self.loop.close()


@contextmanager
def client(driver: str, endpoint: Endpoint, database: str) -> Iterator[Client]:
    c = Client(driver, endpoint, database)
    try:
        yield c
    finally:
        c.close()
