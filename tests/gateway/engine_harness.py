"""An in-process Engine on the session's private MariaDB, for tests of the engine's decisions.

The engine gets a real AdminClient (the gateway's own account) and a SessionState; `run()` plays the
proxy's part: a Forward is executed on a direct MySQLdb connection and its after_ok hook awaited when
MariaDB answered OK. Everything runs on one event loop so the AdminClient's connection stays usable.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Any

import MySQLdb

from tests.testbed.gateway.client import AdminClient
from tests.testbed.gateway.engine import Decision, Engine, Forward, GatewayConfig, SessionState
from tests.testbed.mariadb import MariaDB


def db_name(prefix: str, test_name: str) -> str:
    return (prefix + re.sub(r"[^a-z0-9_]", "_", test_name.lower()))[:64]


@dataclass
class EngineHarness:
    mariadb: MariaDB
    database: str
    config: GatewayConfig = field(default_factory=GatewayConfig)
    role: str = "master"

    def __post_init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.admin = AdminClient(
            "127.0.0.1", self.mariadb.port, self.mariadb.admin_user, self.mariadb.admin_password
        )
        self.engine = Engine(self.admin, self.config)
        self.loop.run_until_complete(self.admin.connect())
        self.loop.run_until_complete(self.engine.start())
        self.conn = MySQLdb.connect(
            host="127.0.0.1",
            port=self.mariadb.port,
            user=self.mariadb.user,
            password=self.mariadb.password,
            charset="utf8mb4",
            autocommit=True,
        )
        cur = self.conn.cursor()
        cur.execute(f"DROP DATABASE IF EXISTS `{self.database}`")
        cur.execute(f"CREATE DATABASE `{self.database}` CHARACTER SET utf8mb4")
        cur.execute(f"USE `{self.database}`")
        self.session = SessionState(
            role=self.role, connection_id=self.conn.thread_id(), database=self.database
        )

    def decide(self, sql: str) -> Decision:
        return self.loop.run_until_complete(self.engine.handle_query(sql.encode(), self.session))

    def run(self, sql: str) -> tuple[Decision, list[tuple[Any, ...]]]:
        """Decide, then (for a Forward) execute on MariaDB and run after_ok. Returns (decision, rows)."""
        decision = self.decide(sql)
        rows: list[tuple[Any, ...]] = []
        if isinstance(decision, Forward):
            cur = self.conn.cursor()
            cur.execute(decision.sql)
            rows = list(cur.fetchall() or ())
            self.lastrowid = cur.lastrowid
            if decision.after_ok is not None:
                self.loop.run_until_complete(decision.after_ok())
        return decision, rows

    def close(self) -> None:
        cur = self.conn.cursor()
        cur.execute(f"DROP DATABASE IF EXISTS `{self.database}`")
        self.loop.run_until_complete(self.engine.catalog.drop_database(self.database))
        self.conn.close()
        self.loop.run_until_complete(self.admin.close())
        self.loop.close()
