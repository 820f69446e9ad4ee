"""Columnstore ALTER emulation tests (issue 6) through the test bed's master aggregator.

Every test works on a database of its own, `gw_alter_<test>` (tests/dbtools.py): `make_alias("s2")`.
`Scenario` builds a model's table with ProjectState/CreateModel and runs a migration operation on it,
as `migrate` does, so a test can run "the migration" again after it was interrupted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.dbtools import db_access_fixture, make_alias_fixture, setup_django

setup_django()

from django.db.migrations.state import ModelState, ProjectState  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

_integration_db_access = db_access_fixture()
make_alias = make_alias_fixture("gw_alter")

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
