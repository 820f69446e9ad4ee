"""Columnstore ALTER emulation tests (issue 6) through the test bed's master aggregator.

Every test works on a database of its own, `gw_alter_<test>` (the pattern of tests/backend/conftest.py):
`make_alias("s2")`.
`Scenario` builds a model's table with ProjectState/CreateModel and runs a migration operation on it,
as `migrate` does, so a test can run "the migration" again after it was interrupted.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import django
import MySQLdb
import pytest
from django.conf import settings

if not settings.configured:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
django.setup()

from django.db import connections  # noqa: E402
from django.db.migrations.state import ModelState, ProjectState  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from tests.testbed import Endpoint, Testbed  # noqa: E402


def admin_sql(endpoint: Endpoint, *statements: str) -> None:
    """Raw SQL through the aggregator with the driver, outside Django."""
    conn = MySQLdb.connect(**endpoint.mysqldb_kwargs(database=""))
    try:
        cur = conn.cursor()
        for statement in statements:
            cur.execute(statement)
    finally:
        conn.close()


class AliasFactory:
    """`factory(alias)`: a django_singlestore alias on this test's database; `close()` removes them."""

    def __init__(self, endpoint: Endpoint, database: str) -> None:
        self.endpoint = endpoint
        self.database = database
        self.aliases: list[str] = []

    def __call__(self, alias: str, endpoint: Endpoint | None = None, **options: Any) -> Any:
        """An alias on this test's database, through `endpoint` (another aggregator) if given."""
        from django_singlestore.base import DatabaseWrapper, forget_server_data

        endpoint = endpoint or self.endpoint
        settings_dict = {
            "ENGINE": "django_singlestore",
            "HOST": endpoint.host,
            "PORT": endpoint.port,
            "USER": endpoint.user,
            "PASSWORD": endpoint.password,
            "NAME": self.database,
            "OPTIONS": options,
            "TIME_ZONE": None,
            "CONN_MAX_AGE": 0,
            "CONN_HEALTH_CHECKS": False,
            "AUTOCOMMIT": True,
            "ATOMIC_REQUESTS": False,
            "TEST": {"CHARSET": None, "COLLATION": None, "MIGRATE": True, "MIRROR": None, "NAME": None},
        }
        connections.settings[alias] = settings_dict
        wrapper = DatabaseWrapper(settings_dict, alias)
        connections[alias] = wrapper
        forget_server_data(alias)
        self.aliases.append(alias)
        return wrapper

    def close(self) -> None:
        from django_singlestore.base import forget_server_data

        for alias in self.aliases:
            with contextlib.suppress(Exception):  # a connection the crash tests broke
                connections[alias].close()
            del connections[alias]
            connections.settings.pop(alias, None)
            forget_server_data(alias)


@pytest.fixture(autouse=True)
def _integration_db_access(request: pytest.FixtureRequest) -> Iterator[None]:
    """`*_it.py` modules open connections: pytest-django's blocker is lifted there only."""
    if not request.module.__name__.endswith("_it"):
        yield
        return
    blocker = request.getfixturevalue("django_db_blocker")
    with blocker.unblock():
        yield


@pytest.fixture
def make_alias(request: pytest.FixtureRequest, testbed: Testbed) -> Iterator[Callable[..., Any]]:
    """make_alias(alias, endpoint=None, **OPTIONS) on this test's own database `gw_alter_<test>`."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", f"gw_alter_{request.node.name}")[:60]
    admin_sql(
        testbed.master,
        f"DROP DATABASE IF EXISTS `{name}`",
        f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci",
    )
    factory = AliasFactory(testbed.master, name)
    yield factory
    factory.close()
    admin_sql(testbed.master, f"DROP DATABASE IF EXISTS `{name}`")


APP = "alt"


@dataclass
class Scenario:
    """One model `alt.<name>` (table `alt_<name>`) on `connection`: `create()`, then `run(operation)`."""

    connection: Any
    name: str
    fields: list[tuple[str, Any]]
    options: dict[str, Any] = field(default_factory=dict)
    managers: list[tuple[str, Any]] = field(default_factory=list)

    @property
    def table(self) -> str:
        return f"{APP}_{self.name.lower()}"

    def state(self) -> ProjectState:
        state = ProjectState()
        state.add_model(
            ModelState(APP, self.name, list(self.fields), dict(self.options), managers=list(self.managers))
        )
        return state

    def create(self) -> None:
        state = self.state()
        with self.connection.schema_editor() as editor:
            editor.create_model(state.apps.get_model(APP, self.name))

    def run(self, operation: Any, on_execute: Callable[[int, str], None] | None = None) -> list[str]:
        """Apply `operation` (database_forwards) to the model; the SQL it ran (every query). With
        `on_execute(n, sql)`, called after the n-th statement the schema editor executed (1-based)."""
        before = self.state()
        after = before.clone()
        operation.state_forwards(APP, after)
        with CaptureQueriesContext(self.connection) as queries, self.connection.schema_editor() as editor:
            if on_execute is not None:
                execute = editor.execute
                count = [0]

                def counted(sql: Any, params: Any = ()) -> None:
                    execute(sql, params)
                    count[0] += 1
                    on_execute(count[0], str(sql))

                editor.execute = counted  # type: ignore[method-assign]
            operation.database_forwards(APP, editor, before, after)
        return [q["sql"] for q in queries.captured_queries]

    def rows(self, *columns: str) -> list[tuple[Any, ...]]:
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(f'`{c}`' for c in columns)} FROM `{self.table}` ORDER BY `id`")
            return [tuple(row) for row in cursor.fetchall()]

    def insert(self, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        with self.connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO `{self.table}` ({', '.join(f'`{c}`' for c in columns)}) "
                f"VALUES ({', '.join(['%s'] * len(columns))})",
                rows,
            )

    def columns(self) -> dict[str, str]:
        """column -> its definition in SHOW CREATE TABLE, in table order."""
        with self.connection.cursor() as cursor:
            table = self.connection.introspection.get_create_table(cursor, self.table)
        return {c.name: c.definition for c in table.columns}

    def tables(self) -> set[str]:
        with self.connection.cursor() as cursor:
            return set(self.connection.introspection.table_names(cursor))


def ddl(queries: list[str]) -> list[str]:
    """The statements that change the schema or the rows (everything but reads)."""
    return [
        q
        for q in queries
        if q.split(None, 1)[0].upper()
        in ("ALTER", "CREATE", "DROP", "UPDATE", "INSERT", "RENAME", "AGGREGATOR")
    ]
