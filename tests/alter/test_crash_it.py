"""Crash safety: MariaDB is killed (SIGKILL) after each statement of a column emulation and of a table
rebuild, started again, and the migration run again: it ends in the right state with every value kept.

The kill stops the server between two statements of the schema editor, i.e. between two steps whose DDL
has committed; the re-run must find where the first attempt stopped (django_singlestore.alter). The
server killed is a private MariaDB with a gateway of its own (started once for this module), so the
session's test bed is never disturbed."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import DatabaseError, migrations, models

from django_singlestore.indexes import SortKey
from tests.alter.conftest import Scenario, ddl
from tests.dbtools import AliasFactory, database_name, own_database
from tests.testbed import Testbed
from tests.testbed.mariadb import MariaDB

pytestmark = pytest.mark.gateway_only


@pytest.fixture(scope="module")
def private_bed(testbed: Testbed) -> Iterator[Testbed]:
    """A MariaDB and a gateway of this module's own: killing them disturbs no other test."""
    assert testbed.is_gateway
    root = Path(tempfile.mkdtemp(prefix="s2alter-"))
    server = MariaDB(root / "mariadb")
    server.start()
    bed = Testbed.embedded(server, root / "gateway")
    try:
        yield bed
    finally:
        bed.stop_gateway()
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def crash_alias(request: pytest.FixtureRequest, private_bed: Testbed) -> Iterator[Callable[..., Any]]:
    """make_alias() on the private bed: database `gw_alter_crash_<test>`, created and dropped; its
    connections may be broken by the kills."""
    with own_database(private_bed.master, database_name(request, "gw_alter_crash")) as name:
        factory = AliasFactory(private_bed.master, name, broken_connections=True)
        yield factory
        factory.close()


ROWS = [(1, "a", 7), (2, "b", None), (3, "c", 2**31 - 1), (4, "d", -5)]


def _scenario(connection: Any, name: str, change: str) -> tuple[Scenario, Any, list[tuple[Any, ...]]]:
    """A table `alt_<name>` holding ROWS, the AlterField to run, and the rows it must end with."""
    id_field = models.BigAutoField(primary_key=True)
    if change == "int to bigint (indexed)":
        n = models.IntegerField(null=True, db_index=True)
        new = models.BigIntegerField(null=True, db_index=True)
        expected = ROWS
    elif change == "NULL to NOT NULL (default fills)":
        n = models.IntegerField(null=True)
        new = models.IntegerField(default=0)
        expected = [(i, name_, 0 if v is None else v) for i, name_, v in ROWS]
    elif change == "sort key int to bigint (rebuild)":
        n = models.IntegerField(null=True)
        new = models.BigIntegerField(null=True)
        expected = ROWS
    elif change == "AUTO_INCREMENT dropped (rebuild)":
        n = models.IntegerField(null=True)
        new = None
        expected = ROWS
    else:  # "AUTO_INCREMENT added (rebuild)", "... (empty table)"
        id_field = models.BigIntegerField(primary_key=True)
        n = models.IntegerField(null=True)
        new = None
        expected = [] if "empty" in change else ROWS
    scenario = Scenario(
        connection, name, [("id", id_field), ("name", models.CharField(max_length=10)), ("n", n)]
    )
    if change.startswith("sort key"):
        scenario.options = {"indexes": [SortKey(fields=["n"], name=f"{name.lower()}_sort")]}
    if new is None and "dropped" in change:
        operation = migrations.AlterField(name, "id", models.BigIntegerField(primary_key=True))
    elif new is None:
        operation = migrations.AlterField(name, "id", models.BigAutoField(primary_key=True))
    else:
        operation = migrations.AlterField(name, "n", new)
    scenario.create()
    if expected:
        scenario.insert(["id", "name", "n"], ROWS)
    return scenario, operation, expected


def _check(scenario: Scenario, expected: list[tuple[Any, ...]], change: str, when: str = "") -> None:
    assert scenario.rows("id", "name", "n") == expected, when
    columns = scenario.columns()
    assert not any("__s2tmp" in c for c in columns), columns
    assert not any(t.endswith(("__s2_rebuild", "__s2_fence")) for t in scenario.tables())
    if "bigint" in change:
        assert columns["n"].startswith("bigint"), columns
    if "NOT NULL" in change:
        assert "NOT NULL" in columns["n"], columns
    if "AUTO_INCREMENT added" in change:
        assert "AUTO_INCREMENT" in columns["id"].upper(), columns
    if "AUTO_INCREMENT dropped" in change:
        assert "AUTO_INCREMENT" not in columns["id"].upper(), columns


CHANGES = [
    "int to bigint (indexed)",
    "NULL to NOT NULL (default fills)",
    "sort key int to bigint (rebuild)",
    "AUTO_INCREMENT added (rebuild)",
    "AUTO_INCREMENT dropped (rebuild)",
    "AUTO_INCREMENT added (rebuild, empty table)",
]


@pytest.mark.timeout(600)
@pytest.mark.filterwarnings("ignore::django_singlestore.schema.AutoIncrementSyncWarning")  # killed mid-sync
@pytest.mark.parametrize("change", CHANGES)
def test_sigkill_between_every_pair_of_steps_then_rerun(
    crash_alias: Callable[..., Any], private_bed: Testbed, change: str
) -> None:
    mariadb = private_bed.mariadb
    assert mariadb is not None
    s2 = crash_alias("s2")
    # A clean run counts the statements (the steps).
    scenario, operation, expected = _scenario(s2, "Clean", change)
    steps: list[str] = []
    scenario.run(operation, on_execute=lambda n, sql: steps.append(sql))
    _check(scenario, expected, change)
    assert len(steps) >= (2 if "empty" in change else 4), steps
    if "empty" in change:
        # Fenced, found still empty, created again, the fence dropped.
        assert [sql.split()[0] for sql in steps] == ["ALTER", "CREATE", "DROP"], steps
    elif "rebuild" in change:
        assert any(sql.startswith("INSERT INTO") for sql in steps)
    else:
        assert any("__s2tmp" in sql for sql in steps)
    resumed = 0
    for k in range(1, len(steps) + 1):
        scenario, operation, expected = _scenario(s2, f"Crash{k}", change)

        def kill_after(n: int, sql: str, k: int = k) -> None:
            if n == k:
                mariadb.kill()

        try:
            scenario.run(operation, on_execute=kill_after)
        except DatabaseError:
            pass
        else:
            assert k == len(steps), f"the run went on after the server was killed after step {k}"
        mariadb.start()
        with contextlib.suppress(Exception):
            s2.close()
        # The migration again, from wherever the first attempt stopped.
        rerun = ddl(scenario.run(operation))
        done = steps[k - 1]
        fenced = f"`{scenario.table}__s2_fence`"
        if done.startswith("ALTER TABLE `alt_clean__s2_fence` DROP COLUMN `n`"):
            # Stopped with the values in the temporary column only, writes fenced off: the re-run
            # finishes the swap of the columns before it lets writes in again.
            assert rerun[0] == f"ALTER TABLE {fenced} CHANGE `n__s2tmp` `n`", rerun
            reopen = f"ALTER TABLE {fenced} RENAME TO `{scenario.table}`"
            assert all(q.startswith(f"ALTER TABLE {fenced}") for q in rerun[: rerun.index(reopen)]), rerun
            resumed += 1
        if done == "ALTER TABLE `alt_clean` RENAME TO `alt_clean__s2_fence`":
            # Stopped with writes fenced off: the re-run first puts the table back, then starts again.
            assert rerun[0] == f"ALTER TABLE {fenced} RENAME TO `{scenario.table}`", rerun
            resumed += 1
        if k == len(steps) and "rebuild" in change and "empty" not in change:
            # Killed after the rename: the table already has its new shape, nothing is copied again.
            assert [q for q in rerun if not q.startswith("AGGREGATOR SYNC")] == [], rerun
            # But a new table with an AUTO_INCREMENT column gets its counter synced again (the kill may
            # have come before the sync); one without has nothing to sync.
            synced = [q for q in rerun if q.startswith("AGGREGATOR SYNC AUTO_INCREMENT ON")]
            assert len(synced) == (0 if "dropped" in change else 1), rerun
            assert all(q.endswith(f".`{scenario.table}` ALL") for q in synced), rerun
        _check(scenario, expected, change, f"killed after step {k}: {steps[k - 1][:80]}")
    # The kills after the fence (every change) and after the old column was dropped (column changes)
    # left the table, or the values, in one place only.
    assert resumed == (1 if "rebuild" in change else 2)
