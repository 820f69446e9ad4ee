"""The write gap a table rebuild reports (`editor.write_gaps`, logged; issue 19: mutation testing found
its measurement untested): one entry for the rebuilt table, longer than nothing and never longer than
the migration that contains it, whether the table was empty (fenced, created again) or copied."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import migrations, models

from tests.alter.conftest import APP, Scenario


@pytest.mark.parametrize("rows", [0, 2], ids=["empty", "copied"])
def test_the_write_gap_lies_within_the_migration(make_alias: Callable[..., Any], rows: int) -> None:
    fields = [("id", models.BigAutoField(primary_key=True)), ("name", models.CharField(max_length=20))]
    s = Scenario(make_alias("s2"), "Gap", fields)
    s.create()
    s.insert(["name"], [(f"n{i}",) for i in range(rows)])
    before = s.state()
    after = before.clone()
    # Dropping AUTO_INCREMENT from the primary key rebuilds the table (test_emulation_it.py).
    operation = migrations.AlterField("Gap", "id", models.BigIntegerField(primary_key=True))
    operation.state_forwards(APP, after)
    started = time.monotonic()
    with s.connection.schema_editor() as editor:
        operation.database_forwards(APP, editor, before, after)
        gaps = list(editor.write_gaps)
    elapsed_ms = (time.monotonic() - started) * 1000
    assert [table for table, _ in gaps] == [s.table]
    assert 0 < gaps[0][1] <= elapsed_ms
    assert len(s.rows("id")) == rows
