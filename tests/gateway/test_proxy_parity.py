"""Through the gateway, both drivers see exactly what a direct MariaDB connection shows them.

Each scenario runs twice, once straight to MariaDB and once through the gateway's master port, and
every observation (rows, `description`, `lastrowid`, `rowcount`, warnings, autocommit and
in-transaction flags, errors) must be identical. The tables are created directly on MariaDB, so the
engine's catalog (and its AUTO_INCREMENT spacing for sharded tables) stays out of the comparison.
"""

from __future__ import annotations

import asyncio
import subprocess
import warnings
from pathlib import Path
from typing import Any

import aiomysql
import MySQLdb
import pytest
from MySQLdb.constants import CLIENT

from tests.gateway.conftest import direct_conn, with_db
from tests.testbed import Endpoint, Testbed
from tests.testbed.gateway import packets as p
from tests.testbed.gateway.client import AdminClient, ServerError
from tests.testbed.mariadb import CLIENT as MARIADB_CLI

pytestmark = pytest.mark.gateway_only

TYPES_TABLE = """
CREATE TABLE types (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    i INT, b BIGINT, bu BIGINT UNSIGNED, d DECIMAL(12,4), dt DATETIME(6), da DATE, ti TIME(6),
    txt VARCHAR(100), bl BLOB, js JSON, bo BOOL, db DOUBLE
) CHARACTER SET utf8mb4
"""
ROWS: list[tuple[Any, ...]] = [
    (-2147483648, -(2**63), 2**64 - 1, "-12345678.1234", "2024-02-29 23:59:59.123456", "1000-01-01",
     "-838:59:59.000000", "emoji 😀 and ünïcode", b"\x00\xff\x00binary\xfe", '{"a": [1, 2.5, "x"]}', True, 1.5e300),
    (None, None, None, None, None, None, None, None, None, None, None, None),
    (0, 0, 0, "0.0001", "1970-01-01 00:00:01.000000", "9999-12-31", "-00:00:00.000001", "", b"", "null", False,
     -0.0),
]  # fmt: skip
PLACEHOLDERS = ", ".join(["%s"] * 12)
INSERT = f"INSERT INTO types (i, b, bu, d, dt, da, ti, txt, bl, js, bo, db) VALUES ({PLACEHOLDERS})"


def setup_tables(bed: Testbed, db: str) -> None:
    conn = direct_conn(bed, db)
    with conn.cursor() as cur:
        cur.execute(TYPES_TABLE)
        cur.execute("CREATE TABLE narrow (id INT PRIMARY KEY, v VARCHAR(3)) CHARACTER SET utf8mb4")
    conn.close()


def endpoints(bed: Testbed, db: str) -> tuple[Endpoint, Endpoint]:
    assert bed.direct is not None
    return with_db(bed.direct, db), with_db(bed.master, db)


def reset(bed: Testbed, db: str) -> None:
    conn = direct_conn(bed, db)
    with conn.cursor() as cur:
        cur.execute("TRUNCATE TABLE types")
        cur.execute("TRUNCATE TABLE narrow")
    conn.close()


# -- mysqlclient --------------------------------------------------------------------------------------
def mysqldb_scenario(ep: Endpoint) -> dict[str, Any]:
    obs: dict[str, Any] = {}
    conn = MySQLdb.connect(
        **ep.mysqldb_kwargs(charset="utf8mb4", client_flag=CLIENT.MULTI_STATEMENTS | CLIENT.FOUND_ROWS)
    )
    cur = conn.cursor()
    obs["autocommit_after_connect"] = (conn.get_autocommit(), _one(cur, "SELECT @@autocommit"))
    cur.execute(INSERT, ROWS[0])
    obs["insert1"] = (cur.lastrowid, cur.rowcount, conn.insert_id())
    cur.executemany(INSERT, ROWS[1:])
    obs["insert_many"] = (cur.lastrowid, cur.rowcount)
    cur.execute("SELECT * FROM types ORDER BY id")
    obs["rows"] = cur.fetchall()
    obs["description"] = cur.description
    cur.execute("UPDATE types SET i = 5 WHERE i = 0 OR i IS NULL")
    obs["update_found_rows"] = cur.rowcount
    cur.execute("UPDATE types SET i = 5 WHERE i = 5")
    obs["update_unchanged"] = cur.rowcount
    cur.execute("SELECT 1, 'x', NULL, 2.50, CAST('2020-01-01' AS DATE), -1.5e10, _utf8mb4'😀'")
    obs["literal"] = (cur.fetchall(), cur.description)
    # Warnings: a truncating insert in non-strict mode.
    cur.execute("SET SESSION sql_mode = ''")
    cur.execute("INSERT INTO narrow VALUES (1, 'abcdef')")
    obs["warning_count"] = conn.warning_count()
    cur.execute("SHOW WARNINGS")
    obs["show_warnings"] = cur.fetchall()
    cur.execute("SET SESSION sql_mode = 'STRICT_ALL_TABLES'")
    # Errors keep their code and message.
    for sql in (
        "INSERT INTO narrow VALUES (1, 'x')",
        "SELECT * FROM missing_table",
        "SELEC 1",
        "INSERT INTO narrow VALUES (2, 'abcdef')",
    ):
        try:
            cur.execute(sql)
            obs[sql] = "no error"
        except MySQLdb.Error as exc:
            obs[sql] = (type(exc).__name__, exc.args)
    # Transactions: the client's autocommit(False) must reach the server and rollback must work.
    conn.autocommit(False)
    obs["autocommit_off"] = (conn.get_autocommit(), _one(cur, "SELECT @@autocommit"))
    cur.execute("INSERT INTO narrow VALUES (10, 'tx')")
    obs["in_trans_server"] = _one(cur, "SELECT @@in_transaction")
    conn.rollback()
    obs["after_rollback"] = (
        _one(cur, "SELECT COUNT(*) FROM narrow WHERE id = 10"),
        _one(cur, "SELECT @@in_transaction"),
    )
    conn.autocommit(True)
    cur.execute("START TRANSACTION")
    cur.execute("INSERT INTO narrow VALUES (11, 'tx')")
    cur.execute("ROLLBACK")
    obs["explicit_tx"] = (conn.get_autocommit(), _one(cur, "SELECT COUNT(*) FROM narrow WHERE id = 11"))
    # Several statements in one COM_QUERY: every result set arrives.
    cur.execute(
        "SELECT 1 AS a; SELECT 'two' AS b, 3 AS c; INSERT INTO narrow VALUES (20, 'm'); SELECT id FROM narrow ORDER BY id"
    )
    sets = []
    while True:
        sets.append((cur.description, cur.fetchall(), cur.rowcount))
        if not cur.nextset():
            break
    obs["multi"] = sets
    conn.select_db(ep.database)
    conn.ping()
    obs["database"] = _one(cur, "SELECT DATABASE()")
    cur.close()
    conn.close()
    return obs


def _one(cur: Any, sql: str) -> Any:
    cur.execute(sql)
    return cur.fetchone()[0]


def test_mysqldb_sees_the_same_as_direct(testbed: Testbed, proxy_db: str) -> None:
    setup_tables(testbed, proxy_db)
    direct, gateway = endpoints(testbed, proxy_db)
    expected = mysqldb_scenario(direct)
    reset(testbed, proxy_db)
    got = mysqldb_scenario(gateway)
    for key in expected:
        assert got[key] == expected[key], key
    # The scenario really exercised what it claims (so equality is not vacuous).
    assert expected["insert1"][0] >= 1 and expected["insert1"][1] == 1
    assert expected["rows"][0][3] == 2**64 - 1 and expected["rows"][0][9] == ROWS[0][8]
    assert expected["warning_count"] == 1 and expected["show_warnings"][0][1] == 1265
    assert expected["autocommit_off"] == (False, 0) and expected["in_trans_server"] == 1
    assert expected["after_rollback"][0] == 0  # the row is gone
    assert len(expected["multi"]) == 4


# -- aiomysql -----------------------------------------------------------------------------------------------
async def aiomysql_scenario(ep: Endpoint) -> dict[str, Any]:
    obs: dict[str, Any] = {}
    conn = await aiomysql.connect(**ep.aiomysql_kwargs(charset="utf8mb4", autocommit=None))
    cur = await conn.cursor()

    async def one(sql: str) -> Any:
        await cur.execute(sql)
        return (await cur.fetchone())[0]

    obs["status_after_connect"] = (
        conn.get_autocommit(),
        conn.get_transaction_status(),
        await one("SELECT @@autocommit"),
    )
    await conn.autocommit(True)
    await cur.execute(INSERT, ROWS[0])
    obs["insert1"] = (cur.lastrowid, cur.rowcount)
    await cur.executemany(INSERT, ROWS[1:])
    obs["insert_many"] = (cur.lastrowid, cur.rowcount)
    await cur.execute("SELECT * FROM types ORDER BY id")
    obs["rows"] = await cur.fetchall()
    obs["description"] = cur.description
    await cur.execute("UPDATE types SET i = 5 WHERE i = 0 OR i IS NULL")
    obs["update"] = cur.rowcount
    await cur.execute("SET SESSION sql_mode = ''")
    with warnings.catch_warnings(record=True) as caught:  # aiomysql reports server warnings as Warning
        warnings.simplefilter("always")
        await cur.execute("INSERT INTO narrow VALUES (1, 'abcdef')")
    await cur.execute("SHOW WARNINGS")
    obs["warnings"] = ([str(w.message) for w in caught], await cur.fetchall())
    await cur.execute("SET SESSION sql_mode = 'STRICT_ALL_TABLES'")
    for sql in ("INSERT INTO narrow VALUES (1, 'x')", "SELECT * FROM missing_table", "SELEC 1"):
        try:
            await cur.execute(sql)
            obs[sql] = "no error"
        except aiomysql.Error as exc:
            obs[sql] = (type(exc).__name__, exc.args)
    await conn.autocommit(False)
    obs["autocommit_off"] = (conn.get_autocommit(), await one("SELECT @@autocommit"))
    await cur.execute("INSERT INTO narrow VALUES (10, 'tx')")
    obs["in_trans"] = (conn.get_transaction_status(), await one("SELECT @@in_transaction"))
    await conn.rollback()
    obs["after_rollback"] = (
        conn.get_transaction_status(),
        await one("SELECT COUNT(*) FROM narrow WHERE id = 10"),
    )
    await conn.begin()
    obs["begin"] = conn.get_transaction_status()
    await conn.commit()
    await conn.autocommit(True)
    await cur.execute("SELECT 1 AS a; SELECT 'two' AS b; DELETE FROM narrow WHERE id = 1")
    sets = []
    while True:
        sets.append((cur.description, await cur.fetchall(), cur.rowcount))
        if not await cur.nextset():
            break
    obs["multi"] = sets
    await conn.select_db(ep.database)
    await conn.ping()
    await cur.close()
    await conn.ensure_closed()
    return obs


@pytest.mark.asyncio
async def test_aiomysql_sees_the_same_as_direct(testbed: Testbed, proxy_db: str) -> None:
    setup_tables(testbed, proxy_db)
    direct, gateway = endpoints(testbed, proxy_db)
    expected = await aiomysql_scenario(direct)
    reset(testbed, proxy_db)
    got = await aiomysql_scenario(gateway)
    for key in expected:
        assert got[key] == expected[key], key
    assert expected["insert1"][1] == 1 and expected["rows"][0][3] == 2**64 - 1
    assert len(expected["warnings"][0]) == 1 and expected["warnings"][1][0][1] == 1265
    assert expected["in_trans"] == (True, 1) and expected["after_rollback"] == (False, 0)
    assert expected["begin"] is True
    assert len(expected["multi"]) == 3


# -- SQLSTATEs on the wire, versions, authentication ----------------------------------------------------------
ERROR_STATEMENTS = [
    "SELECT * FROM missing_table",
    "INSERT INTO narrow VALUES (1, 'a'), (1, 'b')",
    "SELEC 1",
    "INSERT INTO narrow VALUES (NULL, 'x')",
    "SELECT no_such_column FROM narrow",
    "SELECT (SELECT 1 UNION SELECT 2)",
    "INSERT INTO narrow VALUES (3, 'toolong')",
    "DROP DATABASE no_such_db",
]


def test_sqlstates_identical_at_packet_level(testbed: Testbed, proxy_db: str) -> None:
    """Read the ERR packets with the gateway's own raw client: code, SQLSTATE and text all match."""
    setup_tables(testbed, proxy_db)
    conn = direct_conn(testbed, proxy_db)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO narrow VALUES (5, 'a'), (6, 'b')")
    conn.close()

    async def errors(ep: Endpoint) -> list[tuple[int, str, str]]:
        client = AdminClient(ep.host, ep.port, ep.user, ep.password, ep.database)
        out = []
        try:
            for sql in ERROR_STATEMENTS:
                with pytest.raises(ServerError) as info:
                    await client.query(sql)
                out.append((info.value.code, info.value.sqlstate, info.value.message))
        finally:
            await client.close()
        return out

    direct, gateway = endpoints(testbed, proxy_db)
    expected = asyncio.run(errors(direct))
    assert asyncio.run(errors(gateway)) == expected
    assert {state for _, state, _ in expected} >= {"42S02", "23000", "42000", "42S22", "22001", "21000"}


def test_mariadb_cli_prints_the_same_errors(testbed: Testbed, proxy_db: str) -> None:
    setup_tables(testbed, proxy_db)

    def run(ep: Endpoint, sql: str) -> str:
        proc = subprocess.run(
            [
                MARIADB_CLI,
                f"-h{ep.host}",
                f"-P{ep.port}",
                f"-u{ep.user}",
                f"-p{ep.password}",
                "--ssl=0",
                ep.database,
                "-e",
                sql,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        return proc.stderr.strip()

    direct, gateway = endpoints(testbed, proxy_db)
    for sql in ERROR_STATEMENTS[:4]:
        expected = run(direct, sql)
        assert "ERROR " in expected and "(" in expected, expected
        assert run(gateway, sql) == expected


def test_malformed_sql_reaches_mariadb_and_its_error_comes_back(testbed: Testbed, proxy_db: str) -> None:
    direct, gateway = endpoints(testbed, proxy_db)
    bad = "SELECT FROM WHERE 'unterminated"
    results = []
    for ep in (direct, gateway):
        conn = MySQLdb.connect(**ep.mysqldb_kwargs())
        with pytest.raises(MySQLdb.ProgrammingError) as info:
            conn.cursor().execute(bad)
        results.append(info.value.args)
        conn.close()
    assert results[0] == results[1]
    assert results[0][0] == 1064 and "MariaDB" in results[0][1]


def test_version_is_singlestores_on_both_roles(testbed: Testbed) -> None:
    assert testbed.child is not None
    for ep in (testbed.master, testbed.child):
        conn = MySQLdb.connect(**ep.mysqldb_kwargs())
        assert conn.get_server_info() == "5.7.32"
        with conn.cursor() as cur:
            cur.execute("SELECT 41 + 1")
            assert cur.fetchone() == (42,)
        conn.close()


@pytest.mark.asyncio
async def test_aiomysql_handshake_version_and_child_port(testbed: Testbed) -> None:
    assert testbed.child is not None
    for ep in (testbed.master, testbed.child):
        conn = await aiomysql.connect(**ep.aiomysql_kwargs())
        assert conn.get_server_info() == "5.7.32"
        async with conn.cursor() as cur:
            await cur.execute("SELECT CONNECTION_ID() > 0")
            assert await cur.fetchone() == (1,)
        await conn.ensure_closed()


def test_wrong_password_is_refused_by_mariadb(testbed: Testbed) -> None:
    direct, gateway = endpoints(testbed, testbed.master.database)
    errors = []
    for ep in (direct, gateway):
        kwargs = ep.mysqldb_kwargs()
        kwargs["password"] = "not-the-password"
        with pytest.raises(MySQLdb.OperationalError) as info:
            MySQLdb.connect(**kwargs)
        errors.append(info.value.args)
    assert errors[0][0] == 1045
    assert errors[1] == errors[0]


@pytest.mark.asyncio
async def test_aiomysql_wrong_password_is_refused(testbed: Testbed) -> None:
    kwargs = testbed.master.aiomysql_kwargs()
    kwargs["password"] = "not-the-password"
    with pytest.raises(aiomysql.OperationalError) as info:
        await aiomysql.connect(**kwargs)
    assert info.value.args[0] == 1045


def test_local_infile_accepted_and_refused_as_direct(testbed: Testbed, proxy_db: str, tmp_path: Path) -> None:
    setup_tables(testbed, proxy_db)
    data = tmp_path / "rows.tsv"
    # Enough rows that the client sends many packets (their sequence ids wrap past 255).
    data.write_text("".join(f"{i}\tv{i % 1000}\n" for i in range(1, 60001)))
    sql = f"LOAD DATA LOCAL INFILE '{data}' INTO TABLE narrow"
    outcomes: list[tuple[object, ...]] = []
    for ep in endpoints(testbed, proxy_db):
        reset(testbed, proxy_db)
        conn = MySQLdb.connect(**ep.mysqldb_kwargs(local_infile=1))
        with conn.cursor() as cur:
            cur.execute(sql)
            loaded = cur.rowcount
            cur.execute("SELECT COUNT(*), SUM(id) FROM narrow")
            outcomes.append(("accepted", loaded, cur.fetchone(), conn.info()))
            cur.execute("SELECT 1")  # the connection is still in step
        conn.close()
        refusing = MySQLdb.connect(**ep.mysqldb_kwargs(local_infile=0))
        with pytest.raises(MySQLdb.Error) as info:
            refusing.cursor().execute(sql)
        outcomes.append(("refused", type(info.value).__name__, info.value.args))
        refusing.close()
    half = len(outcomes) // 2
    assert outcomes[:half] == outcomes[half:]
    assert outcomes[0][1] == 60000


def test_other_commands_answer_as_direct(testbed: Testbed, proxy_db: str) -> None:
    """COM_STATISTICS (a bare string answer), COM_FIELD_LIST (definitions until EOF), COM_PING and
    COM_SET_OPTION (an EOF answer) pass through, and the connection stays in step after each."""
    setup_tables(testbed, proxy_db)
    seen: list[object] = []
    for ep in endpoints(testbed, proxy_db):
        conn = MySQLdb.connect(**ep.mysqldb_kwargs())
        stat = conn.stat()
        assert stat.startswith("Uptime")
        conn.ping()
        conn.set_server_option(0)  # COM_SET_OPTION MYSQL_OPTION_MULTI_STATEMENTS_ON
        with conn.cursor() as cur:
            cur.execute("SELECT 1; SELECT 2")
            first = cur.fetchall()
            cur.nextset()
            seen.append((first, cur.fetchall()))
        conn.close()

        async def field_list(ep: Endpoint = ep) -> list[bytes]:
            client = AdminClient(ep.host, ep.port, ep.user, ep.password, ep.database)
            await client.connect()
            reader, writer = client._reader, client._writer
            assert reader is not None and writer is not None
            writer.write(p.frame(b"\x04narrow\x00", 0))
            names = []
            while True:
                _, packet = await p.read_packet(reader)
                if packet[:1] in (b"\xfe", b"\xff"):
                    break
                pos = 0
                for _ in range(4):
                    _, pos = p.read_lenenc_str(packet, pos)
                name, _ = p.read_lenenc_str(packet, pos)
                names.append(name or b"")
            _, rows = await client.query("SELECT 'in step'")
            assert rows == [("in step",)]
            await client.close()
            return names

        seen.append(asyncio.run(field_list()))
    assert seen[0] == seen[2] and seen[1] == seen[3]
    assert seen[1] == [b"id", b"v"]
