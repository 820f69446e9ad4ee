"""The catalog: persisted in MariaDB (_s2gw), reloaded by a new engine / a restarted gateway, durable
across a MariaDB SIGKILL, following RENAME / DROP TABLE / DROP DATABASE, changed only after OK; the
STORAGE_TYPE view and SHOW CREATE TABLE answers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import MySQLdb
import pytest

from tests.gateway.engine_harness import EngineHarness
from tests.gateway.gwclients import DRIVERS, client, db_for, fresh_database
from tests.testbed import Endpoint, Testbed
from tests.testbed.gateway.client import AdminClient
from tests.testbed.gateway.engine import Engine, GatewayConfig
from tests.testbed.gateway.errors import ERRORS
from tests.testbed.gateway.process import GatewayProcess
from tests.testbed.mariadb import MariaDB

pytestmark = pytest.mark.gateway_only

TABLES = (
    "CREATE TABLE cs (id BIGINT AUTO_INCREMENT NOT NULL, name VARCHAR(10) NULL, PRIMARY KEY (id), "
    "SHARD KEY (id), SORT KEY (name), KEY (name) USING HASH, UNIQUE KEY un (id, name) UNENFORCED RELY)",
    "CREATE ROWSTORE REFERENCE TABLE ref (id BIGINT PRIMARY KEY, a INT NULL, UNIQUE KEY ua (a))",
    "CREATE ROWSTORE TABLE rs (a BIGINT NOT NULL, b INT NULL, SHARD KEY ())",
)


def _load(mariadb: MariaDB) -> Engine:
    async def go() -> Engine:
        admin = AdminClient("127.0.0.1", mariadb.port, mariadb.admin_user, mariadb.admin_password)
        await admin.connect()
        engine = Engine(admin, GatewayConfig())
        await engine.start()
        await admin.close()
        return engine

    return asyncio.run(go())


def test_a_new_engine_loads_what_the_old_one_recorded(mariadb: MariaDB) -> None:
    h = EngineHarness(mariadb, "gw_catalog_reload")
    try:
        for sql in TABLES:
            h.run(sql)
        recorded = {k: v for k, v in h.engine.catalog.tables.items() if k[0] == h.database}
        cs = recorded[(h.database, "cs")]
        assert (cs.storage, cs.reference, cs.shard_key, cs.sort_key, cs.primary_key, cs.auto_increment) == (
            "COLUMNSTORE", False, ["id"], ["name"], ["id"], "id",
        )  # fmt: skip
        assert cs.hash_keys == {"name": ["name"]} and cs.unenforced_keys == {"un": ["id", "name"]}
        ref = recorded[(h.database, "ref")]
        assert (ref.storage, ref.reference, ref.unique_keys) == ("ROWSTORE", True, {"ua": ["a"]})
        assert recorded[(h.database, "rs")].shard_key == []
        reloaded = _load(mariadb)
        assert {k: v for k, v in reloaded.catalog.tables.items() if k[0] == h.database} == recorded
    finally:
        h.close()


def test_catalog_follows_rename_drop_and_drop_database(mariadb: MariaDB) -> None:
    h = EngineHarness(mariadb, "gw_catalog_follow")
    try:
        for sql in TABLES:
            h.run(sql)
        db = h.database
        h.run("RENAME TABLE cs TO cs2, ref TO ref2")
        h.run("ALTER TABLE rs RENAME TO rs2")
        assert {n for d, n in h.engine.catalog.tables if d == db} == {"cs2", "ref2", "rs2"}
        assert h.engine.catalog.tables[(db, "cs2")].shard_key == ["id"]
        h.run("DROP TABLE IF EXISTS ref2, nothere")
        assert (db, "ref2") not in h.engine.catalog.tables
        assert {n for d, n in _load(mariadb).catalog.tables if d == db} == {"cs2", "rs2"}
        h.run(f"DROP DATABASE `{db}`")
        assert not [k for k in h.engine.catalog.tables if k[0] == db]
        assert not [k for k in _load(mariadb).catalog.tables if k[0] == db]
        h.conn.cursor().execute(f"CREATE DATABASE `{db}`")
    finally:
        h.close()


def test_catalog_changes_only_after_ok(mariadb: MariaDB) -> None:
    h = EngineHarness(mariadb, "gw_catalog_only_ok")
    try:
        h.run(TABLES[0])
        with pytest.raises(MySQLdb.OperationalError):  # 1050 table exists: after_ok never runs
            h.run("CREATE ROWSTORE REFERENCE TABLE cs (id BIGINT PRIMARY KEY)")
        info = h.engine.catalog.tables[(h.database, "cs")]
        assert (info.storage, info.reference) == ("COLUMNSTORE", False)
        with pytest.raises(MySQLdb.ProgrammingError):  # no such table
            h.run("ALTER TABLE ghost ADD KEY k (a) USING HASH")
        assert (h.database, "ghost") not in h.engine.catalog.tables
    finally:
        h.close()


def _gw_endpoint(mariadb: MariaDB, gw: GatewayProcess, db: str) -> Endpoint:
    return Endpoint("127.0.0.1", gw.master_port, mariadb.user, mariadb.password, db)


def _check_catalog_answers(driver: str, endpoint: Endpoint, db: str) -> None:
    with client(driver, endpoint, db) as c:
        rows = c.execute(
            f"SELECT TABLE_NAME, STORAGE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{db}' "
            "ORDER BY TABLE_NAME"
        )
        assert rows == [("cs", "COLUMNSTORE"), ("ref", "INMEMORY_ROWSTORE"), ("rs", "INMEMORY_ROWSTORE")]
        ((name, ddl),) = c.execute("SHOW CREATE TABLE cs")
        assert name == "cs" and ddl.startswith("CREATE TABLE `cs` (")
        assert "SHARD KEY `__SHARDKEY` (`id`)" in ddl and "SORT KEY (`name`)" in ddl
        assert "UNIQUE KEY `un` (`id`,`name`) UNENFORCED RELY" in ddl and "ENGINE=" not in ddl
        ((_, ref_ddl),) = c.execute("SHOW CREATE TABLE ref")
        assert ref_ddl.startswith("CREATE ROWSTORE REFERENCE TABLE `ref` (") and "SHARD KEY" not in ref_ddl
        ((_, rs_ddl),) = c.execute(f"SHOW CREATE TABLE `{db}`.rs")
        assert rs_ddl.startswith("CREATE ROWSTORE TABLE `rs` (") and "SHARD KEY ()" in rs_ddl
        spec = ERRORS["alter_columnstore_type"]
        assert c.error("ALTER TABLE cs MODIFY name VARCHAR(30)") == (spec.code, spec.format(column="name"))


@pytest.mark.parametrize("driver", DRIVERS)
def test_storage_type_and_show_create(driver: str, testbed: Testbed, request: pytest.FixtureRequest) -> None:
    with fresh_database(testbed, db_for("gw_catalog_", request)) as db:
        with client(driver, testbed.master, db) as c:
            for sql in TABLES:
                c.execute(sql)
            # an alias and lower case spelling go through the same view
            assert c.execute(
                "SELECT t.storage_type FROM INFORMATION_SCHEMA.tables t WHERE t.table_schema = DATABASE() "
                "AND t.table_name = 'cs'"
            ) == [("COLUMNSTORE",)]
        _check_catalog_answers(driver, testbed.master, db)


@pytest.mark.parametrize("kill", [False, True], ids=["sigterm", "sigkill"])
def test_catalog_survives_a_gateway_restart(mariadb: MariaDB, tmp_path: Path, kill: bool) -> None:
    db = f"gw_catalog_gwrestart_{int(kill)}"
    conn = MySQLdb.connect(host="127.0.0.1", port=mariadb.port, user=mariadb.user, password=mariadb.password)
    conn.cursor().execute(f"DROP DATABASE IF EXISTS `{db}`")
    conn.cursor().execute(f"CREATE DATABASE `{db}` CHARACTER SET utf8mb4")
    gw = GatewayProcess(mariadb.port, mariadb.admin_user, mariadb.admin_password, state_dir=tmp_path).start()
    try:
        with client("mysqldb", _gw_endpoint(mariadb, gw, db), db) as c:
            for sql in TABLES:
                c.execute(sql)
        gw.restart(kill=kill)
        for driver in DRIVERS:
            _check_catalog_answers(driver, _gw_endpoint(mariadb, gw, db), db)
        with client("mysqldb", _gw_endpoint(mariadb, gw, db), db) as c:
            c.execute(f"DROP DATABASE `{db}`")
    finally:
        gw.stop()
        conn.cursor().execute(f"DROP DATABASE IF EXISTS `{db}`")
        conn.close()


def test_catalog_survives_a_mariadb_sigkill(tmp_path: Path) -> None:
    server = MariaDB(tmp_path / "mariadb")
    server.start()
    gw = GatewayProcess(
        server.port, server.admin_user, server.admin_password, state_dir=tmp_path / "gw"
    ).start()
    db = server.database
    try:
        with client("mysqldb", _gw_endpoint(server, gw, db), db) as c:
            for sql in TABLES:
                c.execute(sql)
        server.kill()
        server.start()
        # the running gateway reconnects its catalog connection; the catalog is intact
        for driver in DRIVERS:
            _check_catalog_answers(driver, _gw_endpoint(server, gw, db), db)
        # and a gateway started after the crash reloads it from MariaDB
        gw.restart()
        _check_catalog_answers("aiomysql", _gw_endpoint(server, gw, db), db)
    finally:
        gw.stop()
        server.destroy()
