"""One in-process benchmark cell: `python -m benchmarks.cell '<json>'` prints one JSON line.

The JSON names the path, workload, concurrency, warm-up and measured seconds, the seeded ids file and
the gateway / MariaDB pids. Load is closed-loop: `concurrency` clients (tasks on one event loop for the
async paths, threads with a connection each for the sync floors) issue requests back to back from the
start of the warm-up; requests that complete inside the window count (so an overloaded cell, whose
requests take longer than the window, still measures its throughput). CPU seconds of this process (all
threads), the gateway and MariaDB, and RSS and threads, are read at the window's edges; the requests
in flight at its end then finish uncounted.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))

import benchproc

ASYNC_PATHS = ("stock0", "stock60", "native", "acursor", "aiomysql")
SYNC_PATHS = ("sync_orm", "mysqlclient")


class Window:
    def __init__(
        self, warmup: float, duration: float, pids: dict[str, int], gateway_port: int | None = None
    ) -> None:
        now = time.perf_counter()
        self.start = now + warmup
        self.end = self.start + duration
        self.pids = pids
        self.gateway_port = gateway_port
        self.latencies: list[float] = []
        self.errors = 0
        self.first_error: str | None = None
        self.cpu0 = 0.0
        self.procs0: dict[str, float | None] = {}
        self.wait0: dict[str, float | None] = {}
        self.began = 0.0
        self.ended: dict[str, Any] = {}

    def mark_start(self) -> None:
        self.began = time.perf_counter()
        self.cpu0 = time.process_time()
        self.procs0 = benchproc.cpu_snapshot(self.pids)
        self.wait0 = {
            "client": benchproc.runqueue_wait(),
            **{n: benchproc.runqueue_wait(p) for n, p in self.pids.items()},
        }

    def mark_end(self) -> None:
        self.ended = {
            "elapsed": time.perf_counter() - self.began,
            "cpu": time.process_time() - self.cpu0,
            "procs": benchproc.cpu_delta(self.procs0, benchproc.cpu_snapshot(self.pids)),
            "mem": benchproc.memory_and_threads(),
            "latencies": list(self.latencies),
            "errors": self.errors,
            "wait": benchproc.cpu_delta(
                self.wait0,
                {
                    "client": benchproc.runqueue_wait(),
                    **{n: benchproc.runqueue_wait(p) for n, p in self.pids.items()},
                },
            ),
        }
        if self.gateway_port:  # after the CPU snapshot: not charged to the window
            self.ended["conns_at_end"] = benchproc.connections_of(os.getpid(), self.gateway_port)

    def counts(self, done: float) -> bool:
        return self.start <= done < self.end

    def error(self, exc: BaseException) -> None:
        self.errors += 1
        if self.first_error is None:
            self.first_error = f"{type(exc).__name__}: {exc}"[:300]

    def result(self) -> dict[str, Any]:
        elapsed, client_cpu = self.ended["elapsed"], self.ended["cpu"]
        procs, mem = self.ended["procs"], self.ended["mem"]
        lat = sorted(self.ended["latencies"])
        n = len(lat)

        def pct(q: float) -> float | None:
            return round(lat[min(n - 1, int(q * n))] * 1000, 3) if n else None

        return {
            "requests": n,
            "errors": self.ended["errors"],
            "first_error": self.first_error,
            "elapsed_s": round(elapsed, 4),
            "rps": round(n / elapsed, 2) if elapsed > 0 else None,
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
            "mean_ms": round(sum(lat) / n * 1000, 3) if n else None,
            "client_cpu_s": round(client_cpu, 4),
            "gateway_cpu_s": procs.get("gateway"),
            "mariadb_cpu_s": procs.get("mariadb"),
            "client_cpu_us_per_req": round(client_cpu / n * 1e6, 1) if n else None,
            "rss_kb": mem["rss_kb"],
            "threads": mem["threads"],
            "conns_at_end": self.ended.get("conns_at_end"),
            "runq_wait_s": self.ended["wait"],
        }


async def _run_async(op: Callable[[], Any], concurrency: int, win: Window) -> None:
    async def client() -> None:
        while True:
            started = time.perf_counter()
            if started >= win.end:
                return
            try:
                await op()
            except Exception as exc:
                if win.counts(time.perf_counter()):
                    win.error(exc)
                continue
            done = time.perf_counter()
            if win.counts(done):
                win.latencies.append(done - started)

    async def marker() -> None:
        await asyncio.sleep(max(0.0, win.start - time.perf_counter()))
        win.mark_start()
        await asyncio.sleep(max(0.0, win.end - time.perf_counter()))
        win.mark_end()

    await asyncio.gather(marker(), *(client() for _ in range(concurrency)))


def _run_threads(
    make_op: Callable[[], tuple[Callable[[], Any], Callable[[], None]]], concurrency: int, win: Window
) -> None:
    lock = threading.Lock()

    def client() -> None:
        op, close = make_op()
        try:
            while True:
                started = time.perf_counter()
                if started >= win.end:
                    return
                try:
                    op()
                except Exception as exc:
                    if win.counts(time.perf_counter()):
                        with lock:
                            win.error(exc)
                    continue
                done = time.perf_counter()
                if win.counts(done):
                    win.latencies.append(done - started)  # list.append is atomic
        finally:
            close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    time.sleep(max(0.0, win.start - time.perf_counter()))
    win.mark_start()
    time.sleep(max(0.0, win.end - time.perf_counter()))
    win.mark_end()
    for t in threads:
        t.join()


def native_routing_probe(ids: Any) -> dict[str, Any]:
    """Was Django's async ORM routed natively on the native alias (did an `aget()` open a
    mysqlclient connection on another thread, the stock thread hop)? And did a request through the
    process's ASGI handler hand anything to a thread (request signals included)?"""
    import concurrent.futures

    from django.db import connection
    from django.db.backends.signals import connection_created

    from benchmarks import workloads
    from benchmarks.asgi import handler
    from benchmarks.benchapp.models import Item

    loop_thread = threading.get_ident()
    hops: list[int] = []
    submitted: list[str] = []
    submit = concurrent.futures.ThreadPoolExecutor.submit

    def on_connect(sender: Any, connection: Any, **kwargs: Any) -> None:
        if threading.get_ident() != loop_thread:
            hops.append(threading.get_ident())

    def counting_submit(executor: Any, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        submitted.append(getattr(getattr(fn, "func", fn), "__qualname__", type(fn).__qualname__))
        return submit(executor, fn, *args, **kwargs)

    async def probe() -> None:
        await Item.objects.aget(pk=ids.one())
        await workloads.asgi_get(handler, "/point")  # the pool has its connection from here on
        concurrent.futures.ThreadPoolExecutor.submit = counting_submit  # type: ignore[method-assign]
        try:
            await workloads.asgi_get(handler, "/point")
        finally:
            concurrent.futures.ThreadPoolExecutor.submit = submit  # type: ignore[method-assign]
        if hasattr(connection, "aclose_pool"):
            await connection.aclose_pool()

    connection_created.connect(on_connect, weak=False)
    asyncio.run(probe())
    connection_created.disconnect(on_connect)
    return {
        "thread_hop_observed": bool(hops),
        "active": not hops,
        "handler": f"{type(handler).__module__}.{type(handler).__qualname__}",
        "request_thread_jobs": submitted,
    }


def run(spec: dict[str, Any]) -> dict[str, Any]:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection, connections

    from benchmarks import workloads

    path, workload, concurrency = spec["path"], spec["workload"], int(spec["concurrency"])
    ids = workloads.Ids(json.loads(Path(spec["ids_file"]).read_text()))
    pids = {k: int(v) for k, v in spec.get("pids", {}).items()}
    extra: dict[str, Any] = {}
    if path in ("stock0", "stock60", "native"):
        os.environ["BENCH_IDS_FILE"] = spec["ids_file"]  # benchmarks.views reads it
    if path == "native":
        extra["native_routing"] = native_routing_probe(ids)
        extra["write_api"] = "async_atomic" if workloads.async_atomic_api() else "sync_to_async(atomic)"
    elif path in ("stock0", "stock60"):
        extra["write_api"] = "sync_to_async(atomic)"
    win = Window(float(spec["warmup"]), float(spec["duration"]), pids, spec.get("gateway_port"))
    profiler = None
    if spec.get("profile"):
        from pyinstrument import Profiler

        profiler = Profiler(async_mode="enabled")

    if path in ASYNC_PATHS:

        async def main() -> dict[str, Any]:
            pool = None
            op: Callable[[], Awaitable[Any]]
            if path in ("stock0", "stock60", "native"):
                from benchmarks.asgi import handler

                url = f"/{workload}"

                async def op() -> Any:
                    return await workloads.asgi_get(handler, url)

            elif path == "acursor":
                op = workloads.acursor_ops(ids)[workload]
            else:
                import aiomysql

                sd = connection.settings_dict
                pool = await aiomysql.create_pool(
                    minsize=0, maxsize=settings.POOL_MAX_SIZE, host=sd["HOST"], port=int(sd["PORT"]),
                    user=sd["USER"], password=sd["PASSWORD"], db=sd["NAME"], charset="utf8mb4",
                    autocommit=True,
                )  # fmt: skip
                op = workloads.aiomysql_ops(pool, ids)[workload]
            if profiler is not None:
                profiler.start()
            await _run_async(op, concurrency, win)
            if profiler is not None:
                profiler.stop()
            result = win.result()
            if pool is not None:
                pool.close()
                await pool.wait_closed()
            if path in ("native", "acursor"):
                result["pool_stats"] = _pool_stats(connection)
                await connection.aclose_pool()
            return result

        result = asyncio.run(main())
    elif path in SYNC_PATHS:

        def make_op() -> tuple[Callable[[], Any], Callable[[], None]]:
            if path == "sync_orm":
                return workloads.sync_orm_ops(ids)[workload], connections.close_all
            import MySQLdb

            sd = connection.settings_dict
            conn = MySQLdb.connect(
                host=sd["HOST"], port=int(sd["PORT"]), user=sd["USER"], password=sd["PASSWORD"],
                database=sd["NAME"], charset="utf8mb4", autocommit=True,
            )  # fmt: skip
            return workloads.mysqlclient_ops(conn, ids)[workload], conn.close

        _run_threads(make_op, concurrency, win)
        result = win.result()
    else:
        raise SystemExit(f"unknown path {path!r}")
    if profiler is not None:
        Path(spec["profile"]).write_text(profiler.output_text(unicode=True, color=False, show_all=False))
    result.update(extra)
    return result


def _pool_stats(connection: Any) -> Any:
    try:
        stats = connection.pool().get_stats()
    except Exception as exc:
        return f"unavailable: {type(exc).__name__}"
    return stats if isinstance(stats, dict) else repr(stats)


def main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    os.environ["BENCH_PATH"] = spec["path"]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
    print(json.dumps(run(spec)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
