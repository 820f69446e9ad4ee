"""The fault campaign (issue 14): a 64-way mixed load through both engines while faults are injected,
then the database is compared with the client-side ledger (`ledger.py`) and the server's process list
with the pool's stats.

The load: `SYNC_LANES` threads on the sync engine (mysqlclient, one Django connection per thread)
and `ASYNC_LANES` tasks on the async engine's native ORM over its pool (`run_orm`, Django's `a*`
API, raw async cursors). Each lane loops over reads (ORM counts, and a `SLEEP` for `KILL QUERY` to
hit), writes of two rows in `transaction.atomic()` (two statements) and bulk writes of five rows
(`bulk_create`, one statement, in `atomic()`). Every write is a new `write_key` whose rows are all or
none in the database. Async transactions run in `async_atomic` (the a* API) and as `await
run_orm(fn)` with `transaction.atomic()` inside `fn`. A canceller cancels random in-flight async
operations throughout the run.

The faults, one after another, each after a baseline: MariaDB restarts (SIGTERM, SIGKILL), `KILL`
of every session of the load, `KILL QUERY` of the running statements for a second, a gateway stall,
a cut of every gateway connection (TCP RST), pool exhaustion (every pooled connection held while
the async lanes' acquires time out), and `wait_timeout` expiry (the load pauses longer than the
sessions' `wait_timeout`). Per fault, the recovery time is how long after the fault ended the
throughput (reads and acknowledged writes per second, both engines) first held ≥ 90 % of the rate
just before the fault (up to 3 s of it) for half a second. On a shared machine that rate varies by
tens of percent from second to second: the recovery times are a report, not a gate.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import MySQLdb

from tests.async_pool.test_pool_faults import SessionSampler
from tests.faults.ledger import Ledger, Outcome, Phase, Verdict, compare, error_name
from tests.testbed import Endpoint, Testbed
from tests.testbed.gateway.faults import inject_fault

SYNC_LANES = 32
ASYNC_LANES = 32
WAIT_TIMEOUT = 2  # seconds: the load's sessions expire after this long idle (SET SESSION wait_timeout)
POOL = {"max_size": 8, "timeout": 1.0, "pre_ping": True, "pre_ping_after_idle": 0.5}
RECOVERED = 0.9  # of the pre-fault throughput
RECOVERY_TARGET_S = 2.0  # what `make faults` reports against
TABLE_SQL = (
    "CREATE ROWSTORE TABLE flt_write (id BIGINT NOT NULL PRIMARY KEY, write_key BIGINT NOT NULL, "
    "lane INT NOT NULL, KEY (write_key))"
)
KEY_SPACE = 1_000_000_000  # write_key = lane * KEY_SPACE + serial; row id = write_key * 8 + n

FAULTS = (
    "mariadb_sigterm",
    "mariadb_sigkill",
    "kill_connections",
    "kill_query",
    "gateway_stall",
    "gateway_cut",
    "pool_exhaustion",
    "wait_timeout",
)


def _kill_side_session(pool: Any) -> int | None:
    """The server session id of the pool's KILL side connection, if open (the pool keeps it private;
    read here only to tell it apart in the process list)."""
    side = getattr(getattr(pool, "_killer", None), "_side", None)
    if side is None or side.closed:
        return None
    return int(side.server_thread_id[0])


async def _settled(pool: Any, deadline: float) -> None:
    """Wait until nothing is borrowed and no discarded session is still ending."""
    while time.monotonic() < deadline:
        stats = pool.get_stats()
        if stats["in_use"] == 0 and stats["sessions_ending"] == 0:
            return
        await asyncio.sleep(0.05)


def _model() -> Any:
    from django.apps import apps
    from django.db import models

    try:
        return apps.get_model("flt_campaign", "FaultWrite")
    except LookupError:
        pass

    class FaultWrite(models.Model):
        id = models.BigIntegerField(primary_key=True)
        write_key = models.BigIntegerField()
        lane = models.IntegerField()

        class Meta:
            app_label = "flt_campaign"
            db_table = "flt_write"

    return FaultWrite


def alias_options() -> dict[str, Any]:
    """OPTIONS of both aliases: the sessions expire after WAIT_TIMEOUT idle seconds."""
    return {"init_command": f"SET SESSION wait_timeout = {WAIT_TIMEOUT}"}


class ProcessList(SessionSampler):
    """The pool tests' process-list sampler, reconnecting when the server restarts or its own
    session expires (a sample taken while MariaDB is down counts -1)."""

    def __init__(self, direct: Endpoint, user: str, database: str) -> None:
        self._kwargs = direct.mysqldb_kwargs(autocommit=True, database="information_schema")
        super().__init__(direct, user, database)

    def count(self) -> int:
        try:
            return super().count()
        except MySQLdb.Error:
            with contextlib.suppress(MySQLdb.Error):
                self.conn.close()
            with contextlib.suppress(MySQLdb.Error):
                self.conn = MySQLdb.connect(**self._kwargs)
            return -1


class Admin:
    """A direct MariaDB connection (the launcher's admin account) for KILL and KILL QUERY."""

    def __init__(self, testbed: Testbed, endpoint: Endpoint) -> None:
        assert testbed.direct is not None and testbed.mariadb is not None
        self.kwargs = testbed.direct.mysqldb_kwargs(
            user=testbed.mariadb.admin_user, password=testbed.mariadb.admin_password, autocommit=True
        )
        self.user, self.database = endpoint.user, endpoint.database
        self.conn: Any = None

    def _query(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        for attempt in (1, 2):
            try:
                if self.conn is None:
                    self.conn = MySQLdb.connect(**self.kwargs)
                cursor = self.conn.cursor()
                cursor.execute(sql, params)
                return list(cursor.fetchall())
            except MySQLdb.OperationalError as exc:
                if exc.args[0] == 1094:  # unknown thread: the session ended meanwhile
                    return []
                with contextlib.suppress(MySQLdb.Error):
                    self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        return []

    def sessions(self, running: bool = False) -> list[int]:
        sql = "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = %s AND DB = %s"
        if running:
            sql += " AND COMMAND = 'Query' AND INFO IS NOT NULL"
        return [int(row[0]) for row in self._query(sql, (self.user, self.database))]

    def kill(self, session: int, query_only: bool = False) -> None:
        self._query(f"KILL {'QUERY' if query_only else 'CONNECTION'} {int(session)}")

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(MySQLdb.Error):
                self.conn.close()


@dataclass
class FaultResult:
    kind: str
    started: float
    ended: float
    baseline: float = 0.0  # operations per second just before the fault
    recovery_s: float | None = None  # None: not back to RECOVERED within the window
    detail: str = ""

    def line(self) -> str:
        back = "not back" if self.recovery_s is None else f"{self.recovery_s:5.2f} s"
        verdict = "ok" if self.recovery_s is not None and self.recovery_s <= RECOVERY_TARGET_S else "SLOW"
        return (
            f"fault {self.kind:<17} lasted {self.ended - self.started:5.2f} s  baseline "
            f"{self.baseline:7.1f} op/s  back to >= {RECOVERED:.0%} in {back}  "
            f"[{verdict} vs {RECOVERY_TARGET_S:.0f} s] {self.detail}"
        )


@dataclass
class CampaignReport:
    verdict: Verdict = field(default_factory=Verdict)
    faults: list[FaultResult] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    read_errors: Counter[str] = field(default_factory=Counter)
    operations: int = 0
    cancellations: int = 0
    duration_s: float = 0.0
    pool_stats: dict[str, int] = field(default_factory=dict)
    server_sessions: int = -1
    leaked: int = -1  # server sessions of the load that are neither pooled nor the KILL connection
    missing: int = -1  # pooled connections without a server session
    kill_side: str = ""  # the pool's KILL connection: open, expired (wait_timeout) or none
    peak_sessions: int = 0

    def lines(self) -> list[str]:
        out = [
            f"REPORT campaign {SYNC_LANES}+{ASYNC_LANES} lanes {self.duration_s:.0f} s: "
            f"{self.operations} operations, {self.cancellations} cancellations",
            f"REPORT ledger {self.verdict.line()}",
            f"REPORT leaks: leaked={self.leaked} (server sessions {self.server_sessions}: pool size "
            f"{self.pool_stats.get('pool_size')}, {self.missing} of them missing on the server, KILL "
            f"connection {self.kill_side}); peak {self.peak_sessions} sessions during the run",
        ]
        out += [f"REPORT {f.line()}" for f in self.faults]
        out.append(f"REPORT write errors: {dict(self.errors.most_common())}")
        out.append(f"REPORT read errors: {dict(self.read_errors.most_common())}")
        stats = {k: v for k, v in self.pool_stats.items() if v}
        out.append(f"REPORT pool stats: {stats}")
        return out


class Load:
    """The lanes, their ledgers and the record of every successful operation's time."""

    def __init__(self, sync_alias: str, async_alias: str, seed: int) -> None:
        self.sync_alias, self.async_alias = sync_alias, async_alias
        self.model = _model()
        self.seed = seed
        self.stop = threading.Event()
        self.running = threading.Event()  # cleared: the lanes pause (the wait_timeout fault)
        self.running.set()
        self.done: list[float] = []  # monotonic times of successful operations (list.append is atomic)
        self.ledgers: list[Ledger] = []
        self.read_errors: Counter[str] = Counter()
        self.error_log: list[tuple[float, str]] = []  # (monotonic time, "sync|async Error (code)")
        self.inflight: set[asyncio.Task[Any]] = set()
        self.cancellations = 0
        self.threads: list[threading.Thread] = []
        self.tasks: list[asyncio.Task[None]] = []

    # -- what one operation writes -----------------------------------------------------------------------
    def _rows(self, key: int, lane: int, n: int) -> list[Any]:
        return [self.model(id=key * 8 + i, write_key=key, lane=lane) for i in range(n)]

    def _write_body(self, alias: str, key: int, lane: int, bulk: bool, phase: Phase) -> None:
        from django.db import transaction

        manager = self.model.objects.using(alias)
        with transaction.atomic(using=alias):
            if bulk:
                manager.bulk_create(self._rows(key, lane, 5))
            else:
                for row in self._rows(key, lane, 2):
                    row.save(using=alias, force_insert=True)
            phase.committing = True  # the commit is sent when the block ends

    # -- sync lanes ------------------------------------------------------------------------------------------
    def _sync_lane(self, lane: int) -> None:
        from django.db import connections

        rng = random.Random(self.seed * 1000 + lane)
        ledger = Ledger()
        self.ledgers.append(ledger)
        serial = 0
        connection = connections[self.sync_alias]
        try:
            while not self.stop.is_set():
                if not self.running.is_set():
                    self.running.wait(0.05)
                    continue
                choice = rng.random()
                try:
                    if choice < 0.3:
                        if choice < 0.05:
                            with connection.cursor() as cursor:
                                cursor.execute("SELECT SLEEP(0.05)")
                        else:
                            self.model.objects.using(self.sync_alias).filter(lane=lane).count()
                        self.done.append(time.monotonic())
                        continue
                except Exception as exc:
                    self.read_errors[error_name(exc)] += 1
                    self._log("sync", exc)
                    self._sync_recover(connection)
                    continue
                serial += 1
                key = lane * KEY_SPACE + serial
                bulk = choice > 0.8
                phase = Phase()
                try:
                    self._write_body(self.sync_alias, key, lane, bulk, phase)
                except Exception as exc:
                    ledger.record(key, phase.outcome_of_error(), 5 if bulk else 2, exc)
                    self._log("sync", exc)
                    self._sync_recover(connection)
                    continue
                ledger.record(key, Outcome.ACKNOWLEDGED, 5 if bulk else 2)
                self.done.append(time.monotonic())
        finally:
            with contextlib.suppress(Exception):
                connection.close()

    def _log(self, path: str, exc: BaseException) -> None:
        self.error_log.append((time.monotonic(), f"{path} {error_name(exc)}"))

    def errors_between(self, start: float, end: float) -> Counter[str]:
        """Errors of the load in [start, end), cancellations left out (they run all along)."""
        return Counter(e for t, e in self.error_log if start <= t < end and "Cancelled" not in e)

    def _sync_recover(self, connection: Any) -> None:
        """After an error: drop the connection (the next operation opens a new one), back off 20 ms."""
        with contextlib.suppress(Exception):
            connection.close()
        time.sleep(0.02)

    # -- async lanes -----------------------------------------------------------------------------------------
    async def _async_operation(self, lane: int, rng: random.Random, ledger: Ledger, key: int) -> None:
        from django.db import connections

        from django_singlestore_async import run_orm

        choice = rng.random()
        if choice < 0.3:
            try:
                if choice < 0.05:
                    async with connections[self.async_alias].acursor() as cursor:
                        await cursor.execute("SELECT SLEEP(0.05)")
                else:
                    await self.model.objects.using(self.async_alias).filter(lane=lane).acount()
            except Exception as exc:
                self.read_errors[error_name(exc)] += 1
                self._log("async", exc)
                await asyncio.sleep(0.02)
                return
            self.done.append(time.monotonic())
            return
        bulk = choice > 0.8
        phase = Phase()
        try:
            if 0.55 <= choice <= 0.8:  # sync ORM code in transaction.atomic(), run natively
                await run_orm(self._write_body, self.async_alias, key, lane, bulk, phase)
            else:
                await self._async_atomic_write(key, lane, bulk, phase)
        except (Exception, asyncio.CancelledError) as exc:
            ledger.record(key, phase.outcome_of_error(), 5 if bulk else 2, exc)
            self._log("async", exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
            await asyncio.sleep(0.02)
            return
        ledger.record(key, Outcome.ACKNOWLEDGED, 5 if bulk else 2)
        self.done.append(time.monotonic())

    async def _async_atomic_write(self, key: int, lane: int, bulk: bool, phase: Phase) -> None:
        """The same write with the a* API in `async_atomic` (a connection pinned for the block)."""
        from django_singlestore_async import async_atomic

        manager = self.model.objects.using(self.async_alias)
        async with async_atomic(self.async_alias):
            if bulk:
                await manager.abulk_create(self._rows(key, lane, 5))
            else:
                for row in self._rows(key, lane, 2):
                    await row.asave(using=self.async_alias, force_insert=True)
            phase.committing = True  # the commit is sent when the block ends

    async def _async_lane(self, lane: int) -> None:
        rng = random.Random(self.seed * 1000 + lane)
        ledger = Ledger()
        self.ledgers.append(ledger)
        serial = 0
        while not self.stop.is_set():
            if not self.running.is_set():
                await asyncio.sleep(0.05)
                continue
            serial += 1
            task = asyncio.create_task(self._async_operation(lane, rng, ledger, lane * KEY_SPACE + serial))
            self.inflight.add(task)
            await asyncio.wait([task])
            self.inflight.discard(task)
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]

    async def canceller(self, target: int, interval: float) -> None:
        """Cancel a random in-flight async operation every `interval` seconds, `target` times."""
        rng = random.Random(self.seed)
        while self.cancellations < target and not self.stop.is_set():
            await asyncio.sleep(interval * rng.uniform(0.5, 1.5))
            pending = [t for t in self.inflight if not t.done()]
            if pending:
                rng.choice(pending).cancel()
                self.cancellations += 1

    # -- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> None:
        for lane in range(SYNC_LANES):
            thread = threading.Thread(target=self._sync_lane, args=(lane,), name=f"sync-lane-{lane}")
            thread.start()
            self.threads.append(thread)
        for lane in range(SYNC_LANES, SYNC_LANES + ASYNC_LANES):
            self.tasks.append(asyncio.create_task(self._async_lane(lane)))

    async def finish(self) -> None:
        self.stop.set()
        self.running.set()
        await asyncio.gather(*self.tasks)
        for thread in self.threads:
            await asyncio.to_thread(thread.join, 60)
            assert not thread.is_alive(), f"{thread.name} did not stop"

    def rate(self, start: float, end: float) -> float:
        """Successful operations per second in [start, end)."""
        return sum(1 for t in self.done if start <= t < end) / (end - start)

    def recovery(self, baseline: float, ended: float, until: float, window: float = 0.5) -> float | None:
        t = ended
        while t + window <= until:
            if self.rate(t, t + window) >= RECOVERED * baseline:
                return t - ended
            t += 0.05
        return None

    def ledger(self) -> Ledger:
        merged = Ledger()
        for ledger in self.ledgers:
            merged.merge(ledger)
        return merged


class Campaign:
    """Runs the load, injects the faults, then checks the ledger and the leaks."""

    def __init__(
        self,
        testbed: Testbed,
        endpoint: Endpoint,
        sync_alias: str,
        async_alias: str,
        *,
        rounds: int = 1,
        window: float = 3.0,
        stall_s: float = 1.5,
        hold_s: float = 1.5,
        cancellations: int = 200,
        seed: int = 14,
    ) -> None:
        assert testbed.mariadb is not None and testbed.gateway is not None and testbed.direct is not None
        self.testbed, self.endpoint = testbed, endpoint
        self.load = Load(sync_alias, async_alias, seed)
        self.rounds, self.window, self.stall_s, self.hold_s = rounds, window, stall_s, hold_s
        self.target_cancellations = cancellations
        self.admin = Admin(testbed, endpoint)
        self.report = CampaignReport()

    def _pool(self) -> Any:
        from django.db import connections

        return connections[self.load.async_alias].pool()

    async def run(self) -> CampaignReport:
        load = self.load
        direct = self.testbed.direct
        assert direct is not None
        with ProcessList(
            Endpoint(
                direct.host, direct.port, self.endpoint.user, self.endpoint.password, "information_schema"
            ),
            self.endpoint.user,
            self.endpoint.database,
        ) as sampler:
            started = time.monotonic()
            load.start()
            expected_s = self.rounds * len(FAULTS) * (self.window + 2.5)
            canceller = asyncio.create_task(
                load.canceller(self.target_cancellations, expected_s / self.target_cancellations)
            )
            try:
                await asyncio.sleep(1.5)  # warm up: connections opened, pool filled
                for _ in range(self.rounds):
                    for kind in FAULTS:
                        await self._fault(kind)
                deadline = time.monotonic() + 120
                while load.cancellations < self.target_cancellations and time.monotonic() < deadline:
                    await asyncio.sleep(0.2)  # the load goes on until every cancellation has been made
            finally:
                canceller.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await canceller
                await load.finish()
            self.report.duration_s = time.monotonic() - started
            await self._check_sessions()
            self.report.peak_sessions = sampler.peak
        self.admin.close()
        ledger = load.ledger()
        self.report.verdict = compare(ledger, self._rows_per_write())
        self.report.errors = ledger.errors
        self.report.read_errors = load.read_errors
        self.report.operations = len(load.done)
        self.report.cancellations = load.cancellations
        return self.report

    async def _fault(self, kind: str) -> None:
        load = self.load
        before = time.monotonic()
        baseline = load.rate(before - min(3.0, self.window - 0.5), before)  # what the last window left
        detail = ""
        if kind in ("mariadb_sigterm", "mariadb_sigkill"):
            assert self.testbed.mariadb is not None
            await asyncio.to_thread(self.testbed.mariadb.restart, kind == "mariadb_sigkill")
        elif kind == "kill_connections":
            sessions = await asyncio.to_thread(self.admin.sessions)
            for session in sessions:
                await asyncio.to_thread(self.admin.kill, session)
            detail = f"({len(sessions)} sessions killed)"
        elif kind == "kill_query":
            killed = 0
            until = time.monotonic() + 1.0
            while time.monotonic() < until:
                for session in await asyncio.to_thread(self.admin.sessions, True):
                    await asyncio.to_thread(self.admin.kill, session, True)
                    killed += 1
                await asyncio.sleep(0.02)
            detail = f"({killed} statements killed)"
        elif kind == "gateway_stall":
            assert self.testbed.gateway is not None
            await asyncio.to_thread(inject_fault, self.testbed.gateway, "stall", self.stall_s)
            await asyncio.sleep(self.stall_s)
        elif kind == "gateway_cut":
            assert self.testbed.gateway is not None
            cut = await asyncio.to_thread(inject_fault, self.testbed.gateway, "cut")
            detail = f"({cut} connections cut)"
        elif kind == "pool_exhaustion":
            pool = self._pool()
            size = pool.config.max_size
            held = await asyncio.gather(
                *(pool.acquire(timeout=10) for _ in range(size)), return_exceptions=True
            )
            await asyncio.sleep(self.hold_s)
            for conn in held:
                if not isinstance(conn, BaseException):
                    pool.release(conn)
            detail = f"({sum(not isinstance(c, BaseException) for c in held)}/{size} held)"
        elif kind == "wait_timeout":
            load.running.clear()
            await asyncio.sleep(WAIT_TIMEOUT + 1.0)
            load.running.set()
        else:
            raise ValueError(kind)
        ended = time.monotonic()
        await asyncio.sleep(self.window)
        now = time.monotonic()
        after = load.rate(ended, now)
        seen = dict(load.errors_between(before, now).most_common())
        detail = f"after {after:6.1f} op/s {detail} errors {seen}"
        result = FaultResult(kind, before, ended, baseline, detail=detail)
        result.recovery_s = load.recovery(baseline, ended, now)
        self.report.faults.append(result)

    async def _check_sessions(self) -> None:
        """Once nothing is borrowed or ending, hold every pooled connection (checked out with a
        pre-ping: one that died with the server is replaced) and compare the server's sessions of the
        load's user and database with the pool's: none may be extra but the pool's KILL side
        connection. Holding them keeps them from expiring (wait_timeout) while the list is read. The
        list is filtered by the load's user and database, which leaves out the gateway's catalog
        connection (its admin account), the launcher's (root over the socket) and this check's own."""
        pool = self._pool()
        deadline = time.monotonic() + 30
        await _settled(pool, deadline)
        await asyncio.sleep(POOL["pre_ping_after_idle"] + 0.1)
        report = self.report
        while True:
            held = [await pool.acquire(timeout=10) for _ in range(pool.get_stats()["pool_available"])]
            try:
                pooled = {conn.server_id for conn in held}
                killer = _kill_side_session(pool)
                seen = set(await asyncio.to_thread(self.admin.sessions))
            finally:
                for conn in held:
                    pool.release(conn)
            report.server_sessions = len(seen)
            report.missing = len(pooled - seen)
            report.kill_side = "open" if killer in seen else "expired" if killer else "none"
            extra = seen - pooled - {killer}
            report.leaked = len(extra)
            if (not extra and not report.missing) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)  # a closed sync connection's session may take a moment to end
        await _settled(pool, deadline)
        report.pool_stats = pool.get_stats()

    def _rows_per_write(self) -> dict[int, int]:
        conn = MySQLdb.connect(**self.endpoint.mysqldb_kwargs())
        try:
            cursor = conn.cursor()
            cursor.execute("SELECT write_key, COUNT(*) FROM flt_write GROUP BY write_key")
            return {int(key): int(n) for key, n in cursor.fetchall()}
        finally:
            conn.close()
