"""Size, concurrency and injected latency through the gateway."""

from __future__ import annotations

import asyncio
import os
import threading
import time

import aiomysql
import MySQLdb
import pytest

from tests.gateway.conftest import direct_conn, with_db
from tests.testbed import Endpoint, Testbed
from tests.testbed.gateway.process import GatewayProcess

pytestmark = pytest.mark.gateway_only

BIG = 20 * 1024 * 1024


def blob_payload() -> bytes:
    """20 MiB with every byte value, 0x00 and 0xFF runs included, and random data."""
    head = bytes(range(256)) * 64 + b"\x00" * 1000 + b"\xff" * 1000 + b"\\'\"\x1a"
    return head + os.urandom(BIG - len(head))


def test_20_mib_longblob_round_trip_mysqldb(testbed: Testbed, proxy_db: str) -> None:
    conn = direct_conn(testbed, proxy_db)
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE blobs (id INT PRIMARY KEY, b LONGBLOB)")
    conn.close()
    data = blob_payload()
    gw = MySQLdb.connect(**with_db(testbed.master, proxy_db).mysqldb_kwargs())
    started = time.perf_counter()
    with gw.cursor() as cur:
        cur.execute("INSERT INTO blobs VALUES (1, %s)", (data,))  # a COM_QUERY of more than 16 MiB
        assert cur.rowcount == 1
        cur.execute("SELECT b, LENGTH(b), MD5(b) FROM blobs WHERE id = 1")  # a row of more than 16 MiB
        back, length, _ = cur.fetchone()
    elapsed = time.perf_counter() - started
    gw.close()
    assert length == BIG
    assert back == data
    print(f"\n20 MiB LONGBLOB insert+select through the gateway (MySQLdb): {elapsed:.2f} s")


@pytest.mark.asyncio
async def test_20_mib_longblob_round_trip_aiomysql(testbed: Testbed, proxy_db: str) -> None:
    conn = direct_conn(testbed, proxy_db)
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE blobs (id INT PRIMARY KEY, b LONGBLOB)")
    conn.close()
    data = blob_payload()
    gw = await aiomysql.connect(**with_db(testbed.master, proxy_db).aiomysql_kwargs())
    async with gw.cursor() as cur:
        await cur.execute("INSERT INTO blobs VALUES (2, %s)", (data,))
        await cur.execute("SELECT b FROM blobs WHERE id = 2")
        (back,) = await cur.fetchone()
    await gw.ensure_closed()
    assert back == data


@pytest.mark.asyncio
async def test_50_concurrent_aiomysql_connections(testbed: Testbed, proxy_db: str) -> None:
    conn = direct_conn(testbed, proxy_db)
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE hits (conn_id BIGINT, n INT)")
    conn.close()
    endpoint = with_db(testbed.master, proxy_db)

    async def worker(n: int) -> tuple[int, int]:
        c = await aiomysql.connect(**endpoint.aiomysql_kwargs(autocommit=True))
        try:
            async with c.cursor() as cur:
                await cur.execute("SELECT CONNECTION_ID()")
                (conn_id,) = await cur.fetchone()
                for i in range(20):
                    await cur.execute("INSERT INTO hits VALUES (%s, %s)", (conn_id, i))
                    await cur.execute("SELECT %s * 2, REPEAT('x', %s)", (n, i * 50))
                    assert await cur.fetchone() == (n * 2, "x" * (i * 50))
            return n, conn_id
        finally:
            await c.ensure_closed()

    started = time.perf_counter()
    results = await asyncio.gather(*(worker(n) for n in range(50)))
    elapsed = time.perf_counter() - started
    assert sorted(n for n, _ in results) == list(range(50))
    assert len({conn_id for _, conn_id in results}) == 50  # 50 distinct MariaDB sessions
    check = direct_conn(testbed, proxy_db)
    with check.cursor() as cur:
        cur.execute("SELECT COUNT(*), COUNT(DISTINCT conn_id) FROM hits")
        assert cur.fetchone() == (1000, 50)
    check.close()
    print(f"\n50 aiomysql connections x 40 statements through the gateway: {elapsed:.2f} s")


def test_50_concurrent_mysqldb_threads(testbed: Testbed) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(50)

    def worker(n: int) -> None:
        try:
            c = MySQLdb.connect(**testbed.master.mysqldb_kwargs())
            barrier.wait(timeout=60)  # all 50 connected at the same time
            with c.cursor() as cur:
                for i in range(10):
                    cur.execute("SELECT %s + %s", (n, i))
                    assert cur.fetchone() == (n + i,)
            c.close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []


def round_trip_seconds(ep: Endpoint, count: int = 10) -> list[float]:
    conn = MySQLdb.connect(**ep.mysqldb_kwargs())
    times = []
    with conn.cursor() as cur:
        for _ in range(count):
            started = time.perf_counter()
            cur.execute("SELECT 1")
            cur.fetchall()
            times.append(time.perf_counter() - started)
    conn.close()
    return times


def test_latency_injection_delays_each_statement(slow_gateway: GatewayProcess, testbed: Testbed) -> None:
    ep = Endpoint("127.0.0.1", slow_gateway.master_port, testbed.master.user, testbed.master.password, "")
    slow = round_trip_seconds(ep)
    assert min(slow) >= 0.040  # every COM_QUERY waited the configured 40 ms
    child = Endpoint("127.0.0.1", slow_gateway.child_port, ep.user, ep.password, "")
    assert min(round_trip_seconds(child, 3)) >= 0.040


def test_added_latency_per_round_trip_is_small(testbed: Testbed) -> None:
    """Not a benchmark: a guard that the proxy adds well under a few ms per round trip."""
    assert testbed.direct is not None
    for ep in (testbed.direct, testbed.master):
        round_trip_seconds(ep, 50)  # warm up
    direct = sorted(round_trip_seconds(testbed.direct, 300))[150]
    proxied = sorted(round_trip_seconds(testbed.master, 300))[150]
    print(f"\nSELECT 1 median: direct {direct * 1e6:.0f} us, gateway {proxied * 1e6:.0f} us")
    assert proxied - direct < 0.005


def test_large_result_sets_are_identical(testbed: Testbed, proxy_db: str) -> None:
    """Many rows whose first value starts with every length prefix (NULL 0xFB, 0xFC, 0xFD), split
    across the gateway's reads at arbitrary points, in several result sets of one query."""
    conn = direct_conn(testbed, proxy_db)
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE wide (id INT PRIMARY KEY, v LONGTEXT, w INT)")
        values = []
        for i in range(3000):
            v = None if i % 5 == 0 else "x" * (i % 7 * 50) if i % 3 else "y" * (70_000 + i)
            values.append((i, v, -i))
        cur.executemany("INSERT INTO wide VALUES (%s, %s, %s)", values)
    conn.commit()
    conn.close()
    sql = "SELECT v, id, w FROM wide ORDER BY id; SELECT COUNT(*) FROM wide; SELECT v FROM wide WHERE id < 10"
    results = []
    assert testbed.direct is not None
    for ep in (testbed.direct, testbed.master):
        c = MySQLdb.connect(
            **with_db(ep, proxy_db).mysqldb_kwargs(client_flag=MySQLdb.constants.CLIENT.MULTI_STATEMENTS)
        )
        sets = []
        with c.cursor() as cur:
            cur.execute(sql)
            while True:
                sets.append(cur.fetchall())
                if not cur.nextset():
                    break
            cur.execute("SELECT 'in step'")
            assert cur.fetchone() == ("in step",)
        c.close()
        results.append(sets)
    assert results[0] == results[1]
    assert len(results[0][0]) == 3000 and results[0][1] == ((3000,),)
