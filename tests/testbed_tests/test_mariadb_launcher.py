"""The private MariaDB behaves like SingleStore where MariaDB can, and survives crashes."""

from __future__ import annotations

from pathlib import Path

import MySQLdb
import pytest

from tests.testbed.mariadb import MariaDB

pytestmark = pytest.mark.gateway_only


def connect(server: MariaDB, **kw: object) -> MySQLdb.Connection:
    args: dict[str, object] = dict(
        host=server.host,
        port=server.port,
        user=server.user,
        password=server.password,
        database=server.database,
    )
    args.update(kw)
    return MySQLdb.connect(**args)


def fetch(conn: MySQLdb.Connection, sql: str, params: object = None) -> list[tuple[object, ...]]:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


def test_server_settings_imitate_singlestore(mariadb: MariaDB) -> None:
    conn = connect(mariadb)
    [row] = fetch(
        conn,
        "SELECT @@tx_isolation, @@sql_mode, @@time_zone, @@character_set_server, @@max_connections,"
        " @@max_allowed_packet, @@innodb_flush_log_at_trx_commit",
    )
    assert row == ("READ-COMMITTED", "STRICT_ALL_TABLES", "+00:00", "utf8mb3", 1200, 100 * 1024 * 1024, 1)
    # Named zones work, as SingleStore's built-in list does (the tz tables are loaded).
    [(paris,)] = fetch(conn, "SELECT CONVERT_TZ('2020-01-01 00:00:00', 'UTC', 'Europe/Paris')")
    assert str(paris) == "2020-01-01 01:00:00"
    [(charset,)] = fetch(
        conn,
        "SELECT default_character_set_name FROM information_schema.schemata WHERE schema_name = %s",
        [mariadb.database],
    )
    assert charset == "utf8mb4"


def test_wrong_password_is_refused(mariadb: MariaDB) -> None:
    with pytest.raises(MySQLdb.OperationalError) as exc:
        connect(mariadb, password="not-the-password")
    assert exc.value.args[0] == 1045


def test_sigkill_loses_no_committed_row(tmp_path: Path) -> None:
    server = MariaDB(tmp_path / "crash")
    server.start()
    try:
        conn = connect(server)
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE survivors (id BIGINT PRIMARY KEY, note VARCHAR(20))")
            cur.executemany("INSERT INTO survivors VALUES (%s, %s)", [(i, f"row {i}") for i in range(50)])
        conn.commit()
        with conn.cursor() as cur:  # an uncommitted row must not survive
            cur.execute("INSERT INTO survivors VALUES (999, 'uncommitted')")
        port, pid = server.port, server.pid
        server.kill()
        assert server.pid is None
        server.start()
        assert server.port == port and server.pid not in (None, pid)
        conn = connect(server)
        rows = fetch(conn, "SELECT id, note FROM survivors ORDER BY id")
        assert rows == [(i, f"row {i}") for i in range(50)]
    finally:
        server.destroy()


def test_utf8mb4_bin_server_collation_mode(tmp_path: Path) -> None:
    server = MariaDB(tmp_path / "bin", collation_server="utf8mb4_bin")
    server.start()
    try:
        [(charset, collation)] = fetch(connect(server), "SELECT @@character_set_server, @@collation_server")
        assert (charset, collation) == ("utf8mb4", "utf8mb4_bin")
    finally:
        server.destroy()
