"""Changes no SingleStore table can hold (the new layout is invalid): NotSupportedError naming the model
and the field (or constraint) before any DDL runs; the table and its rows are untouched."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import NotSupportedError, migrations, models
from django.test.utils import CaptureQueriesContext

from django_singlestore.schema import ModelStorageManager
from tests.alter.conftest import Scenario, ddl


def _forced_columnstore(connection: Any) -> Scenario:
    """Declared COLUMNSTORE, sharded on its (not AUTO_INCREMENT) primary key `code`: a unique key
    without `code` fits no sharded layout."""
    scenario = Scenario(
        connection,
        "Thing",
        [
            ("code", models.CharField(max_length=10, primary_key=True)),
            ("name", models.CharField(max_length=20)),
            ("size", models.IntegerField(null=True)),
        ],
        managers=[
            ("objects", models.Manager()),
            ("storage", ModelStorageManager(table_storage_type="COLUMNSTORE")),
        ],
    )
    scenario.create()
    scenario.insert(["code", "name", "size"], [("a", "x", 1), ("b", "y", None)])
    return scenario


REFUSED = {
    "AlterField unique": (
        lambda: migrations.AlterField("Thing", "name", models.CharField(max_length=20, unique=True)),
        "altering name",
    ),
    "AddField unique": (
        lambda: migrations.AddField("Thing", "serial", models.IntegerField(unique=True, null=True)),
        "adding serial",
    ),
    "AddConstraint": (
        lambda: migrations.AddConstraint(
            "Thing", models.UniqueConstraint(fields=["name", "size"], name="thing_name_size_uq")
        ),
        "thing_name_size_uq",
    ),
    "AlterUniqueTogether": (
        lambda: migrations.AlterUniqueTogether("Thing", {("name", "size")}),
        "unique_together",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_an_impossible_layout_is_refused_before_any_ddl(make_alias: Callable[..., Any], case: str) -> None:
    scenario = _forced_columnstore(make_alias("s2"))
    before_columns = scenario.columns()
    make_operation, names = REFUSED[case]
    executed: list[str] = []
    with pytest.raises(NotSupportedError) as info:
        scenario.run(make_operation(), on_execute=lambda n, sql: executed.append(sql))
    message = str(info.value)
    assert "alt.Thing" in message and names in message, message
    assert executed == []  # the schema editor ran no statement
    assert scenario.columns() == before_columns
    assert scenario.tables() == {"alt_thing"}
    with scenario.connection.cursor() as cursor:
        cursor.execute("SELECT code, name, size FROM alt_thing ORDER BY code")
        assert cursor.fetchall() == (("a", "x", 1), ("b", "y", None))


def test_no_ddl_reaches_the_server(make_alias: Callable[..., Any]) -> None:
    """The same refusal seen from the connection: only reads, no ALTER/CREATE/DROP/INSERT/UPDATE."""
    scenario = _forced_columnstore(make_alias("s2"))
    before = scenario.state()
    after = before.clone()
    operation = migrations.AlterField("Thing", "name", models.CharField(max_length=20, unique=True))
    operation.state_forwards("alt", after)
    connection = scenario.connection
    with CaptureQueriesContext(connection) as captured, pytest.raises(NotSupportedError) as info:  # noqa: SIM117
        with connection.schema_editor() as editor:
            operation.database_forwards("alt", editor, before, after)
    assert "alt.Thing" in str(info.value) and "name" in str(info.value)
    assert ddl([q["sql"] for q in captured.captured_queries]) == []
