"""The pool under faults (issue 12 item 4): random cancellations under load and a server stall leave
no leaked and no dirty connection, and the server never holds more of the pool's sessions than
`max_size` plus the one side connection for KILLs; an unencodable parameter is Django's DataError and
keeps its connection.

The server's process list is sampled every 50 ms on a direct MariaDB connection (the gateway's own
connections and the test's admin connections use other users or databases and are not counted)."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import MySQLdb
import pytest
from django.db import DataError

from django_singlestore_async.connection import PooledConnection
from django_singlestore_async.pool import AsyncConnectionPool, close_pools
from tests.async_pool.util import eventually, make_pool, scalar
from tests.testbed import Endpoint, Testbed

MAX_SIZE = 16
WORKERS = 64


class SessionSampler:
    """Counts the pool's server sessions (user and database of the endpoint) every 50 ms, from a
    thread, so that a busy event loop cannot skip samples."""

    def __init__(self, direct: Endpoint, user: str, database: str) -> None:
        self.conn = MySQLdb.connect(**direct.mysqldb_kwargs(autocommit=True, database="information_schema"))
        self.user, self.database = user, database
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()  # count() is also called from the test's own thread
        self._thread = threading.Thread(target=self._run, name="session-sampler", daemon=True)

    def count(self) -> int:
        with self._lock:
            cursor = self.conn.cursor()
            cursor.execute(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = %s AND DB = %s "
                "AND ID <> CONNECTION_ID()",
                (self.user, self.database),
            )
            row = cursor.fetchone()
        return int(row[0])

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(self.count())
            self._stop.wait(0.05)

    def __enter__(self) -> SessionSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(10)
        self.conn.close()

    @property
    def peak(self) -> int:
        return max(self.samples, default=0)


@pytest.fixture
def direct(testbed: Testbed, endpoint: Endpoint) -> Endpoint:
    if testbed.direct is None or testbed.mariadb is None:
        pytest.skip("environment: needs the embedded test bed's MariaDB behind the gateway")
    return Endpoint(
        testbed.direct.host, testbed.direct.port, endpoint.user, endpoint.password, endpoint.database
    )


@pytest.fixture
def sampler(direct: Endpoint, endpoint: Endpoint) -> Iterator[SessionSampler]:
    with SessionSampler(direct, endpoint.user, endpoint.database) as s:
        yield s


def _table(endpoint: Endpoint) -> None:
    conn = MySQLdb.connect(**endpoint.mysqldb_kwargs(autocommit=True))
    try:
        conn.cursor().execute("CREATE ROWSTORE TABLE IF NOT EXISTS churn (n INT)")
    finally:
        conn.close()


async def _settled(pool: AsyncConnectionPool) -> dict[str, int]:
    """Wait until nothing is borrowed or being ended; then the pool's own view."""
    await eventually(
        lambda: (
            (s := pool.get_stats())["in_use"] == 0
            and s["sessions_ending"] == 0
            and s["pool_size"] == s["pool_available"]
        ),
        timeout=30,
        what="the pool settles: nothing borrowed, nothing ending, every slot an idle connection",
    )
    return pool.get_stats()


async def _assert_clean(pool: AsyncConnectionPool, sampler: SessionSampler) -> None:
    """0 leaked (every slot is an idle connection, the server has exactly those sessions plus at most
    the KILL connection) and 0 dirty (each idle connection answers, autocommit on, no transaction)."""
    stats = await _settled(pool)
    size = stats["pool_size"]
    conns: list[PooledConnection] = [await pool.acquire(timeout=10) for _ in range(size)]
    try:
        assert pool.get_stats()["connections_num"] == stats["connections_num"]  # no new ones needed
        for conn in conns:
            assert conn.raw.get_autocommit() and not conn.in_transaction
            assert await scalar(conn, "SELECT @@autocommit") == 1
    finally:
        for conn in conns:
            pool.release(conn)
    await eventually(
        lambda: sampler.count() == size + pool.get_stats()["kill_connection"],
        what=f"the server holds exactly the pool's {size} idle sessions (and the KILL connection)",
    )


async def _worker(pool: AsyncConnectionPool, rng: random.Random, holding: asyncio.Event) -> None:
    """One round trip, or a short transaction, on a borrowed connection."""
    async with pool.connection() as conn:
        holding.set()
        if rng.random() < 0.3:
            await conn.execute("BEGIN")
            await conn.execute("INSERT INTO churn (n) VALUES (%s)", [rng.randrange(1000)])
            await asyncio.sleep(rng.random() * 0.01)  # a cancel here returns it in a transaction
            await conn.execute("COMMIT")
        else:
            await conn.execute("SELECT SLEEP(%s)", [rng.choice((0, 0.01, 0.03))])


async def _churn(pool: AsyncConnectionPool, cancellations: int, seed: int) -> int:
    """WORKERS tasks in a loop; most of their borrowings are cancelled at a random moment while they
    hold the connection (a few while they still wait for one). Returns how many cancels hit."""
    rng = random.Random(seed)
    hits = 0
    done = asyncio.Event()

    async def lane() -> None:
        nonlocal hits
        while not done.is_set():
            holding = asyncio.Event()
            task = asyncio.create_task(_worker(pool, rng, holding))
            if rng.random() < 0.9:
                waiting = asyncio.create_task(holding.wait())
                await asyncio.wait([task, waiting], return_when=asyncio.FIRST_COMPLETED)
                waiting.cancel()
            await asyncio.wait([task], timeout=rng.random() * 0.02)
            if not task.done():
                task.cancel()
                hits += 1
                if hits >= cancellations:
                    done.set()
            try:
                await task
            except asyncio.CancelledError:
                if not task.cancelled():
                    raise
            except Exception as exc:  # a server error is not what this test is about; say which
                raise AssertionError(f"unexpected error in a worker: {exc!r}") from exc

    await asyncio.gather(*(lane() for _ in range(WORKERS)))
    return hits


async def _run_churn(endpoint: Endpoint, sampler: SessionSampler, cancellations: int) -> None:
    _table(endpoint)
    pool = make_pool(endpoint, max_size=MAX_SIZE, timeout=60)
    async with pool:
        hits = await _churn(pool, cancellations, seed=cancellations)
        assert hits >= cancellations
        await _assert_clean(pool, sampler)
        stats = pool.get_stats()
    seen = f"peak {sampler.peak} sessions in {len(sampler.samples)} samples; {stats}"
    print(f"churn {cancellations}: {seen}")
    assert sampler.samples and sampler.peak <= MAX_SIZE + 1, seen
    assert stats["abandoned"] >= cancellations // 2, seen  # most cancels hit a round trip
    assert stats["kills"] + stats["kills_gone"] >= stats["abandoned"] and stats["kills_failed"] == 0, seen
    assert stats["kill_connections_num"] == 1, seen  # one side connection for all the KILLs
    assert stats["kills_gone"] <= stats["kills"] // 100, seen  # the KILL goes before the socket closes


@pytest.mark.asyncio
async def test_random_cancellations_under_load_leak_nothing(
    endpoint: Endpoint, sampler: SessionSampler
) -> None:
    await _run_churn(endpoint, sampler, cancellations=200)


@pytest.mark.slow
@pytest.mark.asyncio
async def test_a_thousand_random_cancellations_under_load_leak_nothing(
    endpoint: Endpoint, sampler: SessionSampler
) -> None:
    await _run_churn(endpoint, sampler, cancellations=1000)


@pytest.mark.asyncio
async def test_a_six_second_server_stall_leaks_nothing(
    endpoint: Endpoint, direct: Endpoint, testbed: Testbed, sampler: SessionSampler
) -> None:
    """FLUSH TABLES WITH READ LOCK on a direct MariaDB connection blocks every write for 6 s; each
    write times out (read_timeout 1 s), is KILLed, and keeps its slot until the server ended it."""
    _table(endpoint)
    assert testbed.mariadb is not None
    admin = MySQLdb.connect(
        **direct.mysqldb_kwargs(
            user=testbed.mariadb.admin_user, password=testbed.mariadb.admin_password, autocommit=True
        )
    )
    pool = make_pool(endpoint, max_size=MAX_SIZE, timeout=60, pool_kwargs={"read_timeout": 1})
    errors: list[BaseException] = []

    async def writer(rng: random.Random) -> None:
        try:
            async with pool.connection() as conn:
                await conn.execute("INSERT INTO churn (n) VALUES (%s)", [rng.randrange(1000)])
        except Exception as exc:
            errors.append(exc)

    async def load(seconds: float) -> None:
        rng = random.Random(7)
        deadline = time.monotonic() + seconds

        async def lane() -> None:
            while time.monotonic() < deadline:
                await writer(rng)

        await asyncio.gather(*(lane() for _ in range(WORKERS)))

    try:
        async with pool:
            loaded = asyncio.create_task(load(9.0))
            await asyncio.sleep(1.0)
            admin.cursor().execute("FLUSH TABLES WITH READ LOCK")
            try:
                await asyncio.sleep(6.0)
            finally:
                admin.cursor().execute("UNLOCK TABLES")
            await loaded
            await _assert_clean(pool, sampler)
            stats = pool.get_stats()
    finally:
        admin.close()
    assert sampler.samples and sampler.peak <= MAX_SIZE + 1, f"peak {sampler.peak} sessions"
    timeouts = [e for e in errors if getattr(e, "args", (None,))[0] == 2013]
    assert timeouts and len(timeouts) == len(errors), f"only read timeouts expected: {errors[:3]!r}"
    assert stats["abandoned"] >= len(timeouts) and stats["kills"] + stats["kills_gone"] >= len(timeouts)
    print(f"stall: {len(timeouts)} timeouts; peak {sampler.peak} sessions in {len(sampler.samples)} samples")


@pytest.mark.asyncio
async def test_a_lone_surrogate_is_a_data_error_and_keeps_the_connection(
    make_alias: Callable[..., Any],
) -> None:
    db = make_alias("a_surrogate", pool={"max_size": 1})
    with pytest.raises(DataError, match=r"Invalid utf-8 character string: .*ud800.* was not sent") as info:
        async with db.acursor() as cursor:
            await cursor.execute("SELECT %s", ["a\ud800b"])
    assert "surrogates not allowed" in str(info.value)
    async with db.acursor() as cursor:
        await cursor.execute("SELECT %s", ["still fine"])
        assert await cursor.fetchone() == ("still fine",)
    stats = db.pool().get_stats()
    assert stats["discards"] == 0 and stats["connections_num"] == 1 and stats["returns_bad"] == 0
    await close_pools()


@pytest.mark.asyncio
async def test_on_mariadb_itself_the_kill_has_no_node_id(direct: Endpoint) -> None:
    """MariaDB has no @@aggregator_id (1193): the pool KILLs by connection id alone."""
    async with make_pool(direct) as pool, pool.connection() as conn:
        assert conn.node_id is None and conn.server_id == await scalar(conn, "SELECT CONNECTION_ID()")
