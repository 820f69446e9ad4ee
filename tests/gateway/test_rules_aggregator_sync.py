"""`AGGREGATOR SYNC AUTO_INCREMENT [ON db[.table]] [ALL]` (emitted by the backend after copying rows
with their ids into a sharded table): explicitly inserted values do not move the gateway's counters
(as on SingleStore's sharded tables) until the command raises them; it commits; unknown names fail."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.gateway.engine_harness import EngineHarness, db_name
from tests.gateway.gwclients import DRIVERS, client, db_for, fresh_database
from tests.testbed import Testbed
from tests.testbed.gateway.engine import Forward, Reject
from tests.testbed.mariadb import MariaDB

pytestmark = pytest.mark.gateway_only

MASTER_BASE, CHILD_BASE = 1, 2**50


@pytest.fixture
def harness(mariadb: MariaDB, request: pytest.FixtureRequest) -> Iterator[EngineHarness]:
    h = EngineHarness(mariadb, db_name("gw_aggsync_", request.node.name))
    h.run("CREATE TABLE t (id BIGINT AUTO_INCREMENT PRIMARY KEY, v INT)")
    h.run("INSERT INTO t (v) VALUES (1)")  # the master's counter starts at 1
    yield h
    h.close()


def _next_id(h: EngineHarness) -> int:
    h.run("INSERT INTO t (v) VALUES (0)")
    return int(h.lastrowid)


def test_sync_raises_the_counter_above_explicit_values(harness: EngineHarness) -> None:
    h = harness
    explicit = MASTER_BASE + 5_000_000
    h.run(f"INSERT INTO t (id, v) VALUES ({explicit}, 2)")
    assert _next_id(h) < explicit  # an explicit value does not move a sharded table's counter
    decision, _ = h.run(f"AGGREGATOR SYNC AUTO_INCREMENT ON {h.database}.t")
    assert isinstance(decision, Forward) and decision.sql == b"COMMIT"  # implicit commit
    assert explicit < _next_id(h) < explicit + 20
    # never lowered: a second sync keeps the counter where it is
    before = _next_id(h)
    h.run(f"AGGREGATOR SYNC AUTO_INCREMENT ON {h.database}")
    assert _next_id(h) > before


def test_sync_without_all_leaves_the_other_aggregator(harness: EngineHarness) -> None:
    h = harness
    h.session.role = "child"
    first_child = _next_id(h)
    assert first_child > CHILD_BASE
    h.run(f"INSERT INTO t (id, v) VALUES ({first_child + 3_000_000}, 3)")
    h.session.role = "master"
    h.run("AGGREGATOR SYNC AUTO_INCREMENT")  # only the master's counter (and its range)
    h.session.role = "child"
    assert _next_id(h) < first_child + 3_000_000
    h.run("AGGREGATOR SYNC AUTO_INCREMENT ON " + h.database + " ALL")
    assert _next_id(h) > first_child + 3_000_000


def test_unknown_names_and_other_shapes(harness: EngineHarness) -> None:
    h = harness
    assert h.decide(f"AGGREGATOR SYNC AUTO_INCREMENT ON {h.database}.nope") == Reject(
        1146, "42S02", f"Table '{h.database}.nope' doesn't exist"
    )
    assert h.decide("AGGREGATOR SYNC AUTO_INCREMENT ON no_such_db_xyz ALL") == Reject(
        1049, "42000", "Unknown database 'no_such_db_xyz'"
    )
    sql = "AGGREGATOR SYNC AUTO_INCREMENT ON db.t EXTRA"
    assert h.decide(sql) == Forward(sql.encode())  # not the documented shape: MariaDB answers


@pytest.mark.parametrize("driver", DRIVERS)
def test_sync_through_the_gateway(driver: str, testbed: Testbed, request: pytest.FixtureRequest) -> None:
    with (
        fresh_database(testbed, db_for("gw_aggsync_", request)) as db,
        client(driver, testbed.master, db) as c,
    ):
        c.execute("CREATE TABLE t (id BIGINT AUTO_INCREMENT PRIMARY KEY, v INT)")
        c.execute("INSERT INTO t (v) VALUES (1)")
        explicit = int(c.lastrowid or 0) + 7_000_000
        c.execute("BEGIN")
        c.execute(f"INSERT INTO t (id, v) VALUES ({explicit}, 2)")
        c.execute(f"AGGREGATOR SYNC AUTO_INCREMENT ON `{db}`.`t` ALL")  # commits the open transaction
        c.execute("ROLLBACK")
        assert c.execute(f"SELECT v FROM t WHERE id = {explicit}") == [(2,)]
        c.execute("INSERT INTO t (v) VALUES (3)")
        assert c.lastrowid is not None and c.lastrowid > explicit
