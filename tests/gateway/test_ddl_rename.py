"""SingleStore's column rename ``ALTER TABLE t CHANGE old new`` (no column definition): translated to
MariaDB's ``RENAME COLUMN old TO new``, the catalog follows (keys naming the column), and the
documented refusal for a REFERENCE table's AUTO_INCREMENT column still fires."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.gateway.engine_harness import EngineHarness
from tests.gateway.gwclients import DRIVERS, client, db_for, fresh_database
from tests.testbed import Testbed
from tests.testbed.gateway.ddl import parse_alter_table
from tests.testbed.gateway.engine import Forward, Reject
from tests.testbed.gateway.errors import ERRORS
from tests.testbed.gateway.sqllex import significant
from tests.testbed.mariadb import MariaDB

pytestmark = pytest.mark.gateway_only


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("ALTER TABLE `t` CHANGE `label` `caption`", "ALTER TABLE `t` RENAME COLUMN `label` TO `caption`"),
        ("ALTER TABLE db.t CHANGE a b", "ALTER TABLE db.t RENAME COLUMN a TO b"),
        ("ALTER TABLE t CHANGE COLUMN a `b c`", "ALTER TABLE t RENAME COLUMN a TO `b c`"),
        # with a definition it stays MariaDB's CHANGE (the type rules decide)
        ("ALTER TABLE t CHANGE a b INT NULL", "ALTER TABLE t CHANGE a b INT NULL"),
    ],
)
def test_change_without_definition_becomes_rename_column(sql: str, expected: str) -> None:
    alter = parse_alter_table(sql, significant(sql))
    assert alter is not None
    assert alter.mariadb_sql() == expected
    (spec,) = alter.specs
    assert spec.action == "change" and spec.old_name is not None and spec.new_name is not None


@pytest.fixture
def harness(mariadb: MariaDB, request: pytest.FixtureRequest) -> Iterator[EngineHarness]:
    h = EngineHarness(mariadb, db_for("gw_rename_", request))
    yield h
    h.close()


def test_catalog_follows_the_rename(harness: EngineHarness) -> None:
    h = harness
    h.run(
        "CREATE TABLE cs (id BIGINT NOT NULL, tag VARCHAR(10) NOT NULL, n INT NULL, PRIMARY KEY (id, tag), "
        "SHARD KEY (tag), SORT KEY (n), KEY kn (n) USING HASH, UNIQUE KEY un (tag, n) UNENFORCED RELY)"
    )
    h.run("INSERT INTO cs VALUES (1, 'x', 5)")
    decision, _ = h.run("ALTER TABLE cs CHANGE tag label")
    assert isinstance(decision, Forward) and b"RENAME COLUMN tag TO label" in decision.sql
    decision, _ = h.run("ALTER TABLE cs CHANGE `n` `num`")
    assert isinstance(decision, Forward)
    info = h.engine.catalog.get(h.database, "cs")
    assert info is not None
    assert (info.shard_key, info.sort_key, info.primary_key) == (["label"], ["num"], ["id", "label"])
    assert info.hash_keys == {"kn": ["num"]} and info.unenforced_keys == {"un": ["label", "num"]}
    assert info.columns == ["id", "label", "num"]
    _, rows = h.run("SELECT label, num FROM cs")
    assert rows == [("x", 5)]
    # the renamed shard key still guards UPDATE (a rule reading the catalog)
    spec = ERRORS["update_shard_key"]
    assert h.decide("UPDATE cs SET label = 'y'") == Reject(spec.code, spec.sqlstate, spec.format())


def test_reference_auto_increment_rename_is_refused(harness: EngineHarness) -> None:
    h = harness
    h.run("CREATE ROWSTORE REFERENCE TABLE ref (id BIGINT AUTO_INCREMENT PRIMARY KEY, a INT NULL)")
    spec = ERRORS["change_reference_auto_increment_name"]
    assert h.decide("ALTER TABLE ref CHANGE id ident") == Reject(spec.code, spec.sqlstate, spec.format())
    # another column of the same table, and the AUTO_INCREMENT column of a sharded table, rename fine
    decision, _ = h.run("ALTER TABLE ref CHANGE a b")
    assert isinstance(decision, Forward)
    h.run("CREATE TABLE sh (id BIGINT AUTO_INCREMENT PRIMARY KEY, a INT NULL)")
    decision, _ = h.run("ALTER TABLE sh CHANGE id ident")
    assert isinstance(decision, Forward)
    sh = h.engine.catalog.get(h.database, "sh")
    assert sh is not None and (sh.auto_increment, sh.primary_key) == ("ident", ["ident"])


@pytest.mark.parametrize("driver", DRIVERS)
def test_rename_through_the_gateway(driver: str, testbed: Testbed, request: pytest.FixtureRequest) -> None:
    spec = ERRORS["change_reference_auto_increment_name"]
    with (
        fresh_database(testbed, db_for("gw_rename_", request)) as db,
        client(driver, testbed.master, db) as c,
    ):
        c.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, label VARCHAR(20) NOT NULL DEFAULT 'd')")
        c.execute("INSERT INTO t (id, label) VALUES (1, 'kept')")
        c.execute("ALTER TABLE t CHANGE label caption")
        assert c.execute("SELECT caption FROM t") == [("kept",)]
        ((create,),) = [row[1:] for row in c.execute("SHOW CREATE TABLE t")]
        assert "`caption` varchar(20) NOT NULL DEFAULT 'd'" in create  # type and attributes kept
        c.execute("CREATE ROWSTORE REFERENCE TABLE ref (id BIGINT AUTO_INCREMENT PRIMARY KEY, a INT NULL)")
        assert c.error("ALTER TABLE ref CHANGE id ident") == (spec.code, spec.format())
        c.execute("ALTER TABLE ref CHANGE a b")
        assert c.execute("SELECT b FROM ref") == []
