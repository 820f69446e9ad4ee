"""The benchmark run: the test bed, the plan of cells, resumable execution, then the report.

Every measurement is one *cell* (a leg, a path, a workload, a concurrency, an injected latency, a
repeat), run in a process of its own and appended as one JSON line to `<results>/cells.jsonl`; a run
that stops (Ctrl-C, a crash, a deadline) resumes where it stopped, because cells already in that file
are skipped (`--fresh` starts over). Paths are interleaved: each (workload, repeat, latency,
concurrency) group runs every path before the next group, the path order rotating, so load from other
tenants of a shared machine spreads over all paths alike. Workloads are the outer loop, point reads
first (what the targets read), so a run cut short still has every repeat of those. The in-process and
uvicorn cells are counted by completion inside the window (see benchmarks/cell.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))

import benchproc

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "benchmarks"
OLDER_PYTHON = BENCH_DIR / ".venv-older" / "bin" / "python"
DATABASE = "bench"

#: uvicorn's HTTP parser for every path: httptools, as `uvicorn[standard]` deployments run it (h11, the
#: pure-Python fallback, adds the same parsing cost to every path and so hides the difference between them).
UVICORN_HTTP = "httptools"
INPROC_PATHS = ("stock0", "stock60", "native", "acursor", "aiomysql", "sync_orm", "mysqlclient")
UVICORN_PATHS = ("stock0", "stock60", "native")


@dataclass
class Plan:
    name: str
    inproc_paths: tuple[str, ...] = INPROC_PATHS
    uvicorn_paths: tuple[str, ...] = UVICORN_PATHS
    workloads: tuple[str, ...] = ("point", "list", "write", "mixed")
    concurrencies: tuple[int, ...] = (1, 16, 64, 256)
    inproc_concurrencies: tuple[int, ...] | None = None  # None: the same as `concurrencies`
    latencies: tuple[float, ...] = (0.0, 2.0)
    repeats: int = 3
    warmup: float = 0.7
    duration: float = 2.0
    seed_rows: int = 10000
    crud_scale: float = 1.0
    crud_repeats: int = 3
    pool_concurrencies: tuple[int, ...] = (1, 16, 64)
    pool_modes: tuple[str, ...] = ("acquire", "select1")
    profile: bool = True
    legs: tuple[str, ...] = ("crud", "pool", "uvicorn", "profile", "inproc", "knn")
    #: benchmarks/knn.py: vectors, blocks of queries per side, queries per block
    knn: tuple[int, int, int] = (100_000, 12, 10)
    extra: dict[str, Any] = field(default_factory=dict)

    def warmup_for(self, concurrency: int) -> float:
        """Longer warm-ups above 64 clients: the window must open after the first wave of requests
        has finished (256 clients start with 256 connects, stock paths with 256 threads), or it
        measures that wave instead of a steady state."""
        return self.warmup * max(1.0, concurrency / 64)


FULL = Plan("full")
QUICK = Plan(
    "quick",
    uvicorn_paths=("stock0", "native"),
    workloads=("point",),
    concurrencies=(1, 8),
    inproc_concurrencies=(8,),
    latencies=(0.0,),
    repeats=1,
    warmup=0.5,  # the first request of each client opens its connection (and, stock, its thread)
    duration=0.5,
    seed_rows=200,
    crud_scale=0.01,
    crud_repeats=1,
    pool_concurrencies=(16,),
    pool_modes=("acquire", "select1"),
    profile=False,
    # not in the quick run's default legs (its time budget, tests/bench): `--quick --legs knn` runs it
    legs=("crud", "pool", "uvicorn", "profile", "inproc"),
    knn=(2_000, 4, 5),
)


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- the test bed -----------------------------------------------------------------------------------------


class Bed:
    """A private MariaDB and one gateway per injected latency (the gateway's --latency-ms is per process)."""

    def __init__(self, state_dir: Path, latencies: tuple[float, ...]) -> None:
        from tests.testbed.gateway.process import GatewayProcess
        from tests.testbed.mariadb import MariaDB

        self.state_dir = state_dir
        self.mariadb = MariaDB(state_dir / "mariadb")
        self.mariadb.start()
        self.gateways: dict[float, Any] = {}
        for latency in latencies:
            self.gateways[latency] = GatewayProcess(
                self.mariadb.port,
                self.mariadb.admin_user,
                self.mariadb.admin_password,
                latency_ms=latency,
                state_dir=state_dir / f"gateway-{latency:g}ms",
            ).start()

    def port(self, latency: float) -> int:
        return int(self.gateways[latency].master_port)

    def db(self, latency: float) -> str:
        m = self.mariadb
        return f"{m.host}:{self.port(latency)}:{m.user}:{m.password}:{DATABASE}"

    def db_dict(self, latency: float) -> dict[str, Any]:
        m = self.mariadb
        return {
            "host": m.host,
            "port": self.port(latency),
            "user": m.user,
            "password": m.password,
            "name": DATABASE,
        }

    def pids(self, latency: float) -> dict[str, int]:
        return {"gateway": int(self.gateways[latency].pid), "mariadb": int(self.mariadb.pid or 0)}

    def create_database(self) -> None:
        import MySQLdb

        m = self.mariadb
        conn = MySQLdb.connect(
            host=m.host,
            port=self.port(0.0) if 0.0 in self.gateways else self.port(next(iter(self.gateways))),
            user=m.user,
            password=m.password,
        )
        try:
            conn.cursor().execute(f"CREATE DATABASE IF NOT EXISTS `{DATABASE}`")
        finally:
            conn.close()

    def stop(self) -> None:
        for gateway in self.gateways.values():
            with contextlib.suppress(Exception):
                gateway.stop()
        with contextlib.suppress(Exception):
            self.mariadb.stop()


# --- running one process and watching it ------------------------------------------------------------------


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
    env.update(extra)
    return env


def run_process(
    cmd: list[str], env: dict[str, str], *, timeout: float, conn_pid: int | None = None, conn_port: int | None = None,
    cwd: Path = ROOT,
) -> dict[str, Any]:  # fmt: skip
    """Run `cmd`, sample the gateway connections `conn_pid` (default: the process itself) holds, and
    return its last stdout line as JSON (or an `error` record)."""
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=env, cwd=cwd)
        pid = conn_pid or proc.pid
        peak = 0
        deadline = time.monotonic() + timeout
        assert proc.stdout is not None
        while proc.poll() is None:
            if conn_port is not None:
                peak = max(peak, benchproc.connections_of(pid, conn_port))
            if time.monotonic() > deadline:
                proc.kill()
                break
            time.sleep(0.1)
        out = proc.stdout.read().decode(errors="replace")
        proc.wait()
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"error": f"exit {proc.returncode}: {stderr.strip()[-1500:]}"}
    result: dict[str, Any] = json.loads(lines[-1])
    if result.get("requests") == 0:
        result["error"] = f"no request completed in the window (first error: {result.get('first_error')})"
    if conn_port is not None:  # the samples, and the client's own count at the window's end
        result["server_conns_peak"] = max(peak, result.get("conns_at_end") or 0)
    return result


class Store:
    """`cells.jsonl`: one line per finished cell; the keys already there are skipped on a resume."""

    def __init__(self, results: Path, fresh: bool) -> None:
        self.path = results / "cells.jsonl"
        if fresh and self.path.exists():
            self.path.unlink()
        self.done: set[str] = set()
        if self.path.exists():
            for line in self.path.read_text().splitlines():
                with contextlib.suppress(ValueError):
                    rec = json.loads(line)
                    if "error" not in rec:
                        self.done.add(rec["key"])

    def add(self, rec: dict[str, Any]) -> None:
        with self.path.open("a") as f:
            f.write(json.dumps(rec) + "\n")
        if "error" not in rec:
            self.done.add(rec["key"])


def _key(*parts: Any) -> str:
    return "/".join(str(p) for p in parts)


def _rotate(items: tuple[str, ...], n: int) -> list[str]:
    n %= len(items)
    return list(items[n:] + items[:n])


# --- legs ---------------------------------------------------------------------------------------------------


def leg_inproc(plan: Plan, bed: Bed, store: Store, ids_file: Path) -> None:
    turn = 0
    for workload in plan.workloads:  # point reads first: the targets read them
        for rep in range(plan.repeats):
            for latency in plan.latencies:
                for conc in plan.inproc_concurrencies or plan.concurrencies:
                    turn += 1
                    for path in _rotate(plan.inproc_paths, turn):
                        key = _key("inproc", path, workload, conc, f"{latency:g}ms", rep)
                        if key in store.done:
                            continue
                        spec = {
                            "path": path, "workload": workload, "concurrency": conc, "warmup": plan.warmup_for(conc),
                            "duration": plan.duration, "ids_file": str(ids_file), "pids": bed.pids(latency),
                            "gateway_port": bed.port(latency),
                        }  # fmt: skip
                        result = run_process(
                            [sys.executable, "-m", "benchmarks.cell", json.dumps(spec)],
                            _env(BENCH_PATH=path, BENCH_DB=bed.db(latency)),
                            timeout=plan.warmup_for(conc) + plan.duration + 120, conn_port=bed.port(latency),
                        )  # fmt: skip
                        rec = {"key": key, "leg": "inproc", "path": path, "workload": workload,
                               "concurrency": conc, "latency_ms": latency, "repeat": rep, "ts": time.time(), "loadavg": os.getloadavg()[0], **result}  # fmt: skip
                        store.add(rec)
                        log(f"{key}: {_brief(result)}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """uvicorn serving benchmarks.asgi for one path on one gateway."""

    def __init__(
        self, path: str, latency: float, bed: Bed, ids_file: Path, log_dir: Path, trace: bool = False
    ) -> None:
        self.path, self.latency = path, latency
        trace_env = {"BENCH_TRACE": "1"} if trace else {}
        self.port = _free_port()
        self.log = (log_dir / f"uvicorn-{path}-{latency:g}ms.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "benchmarks.asgi:application", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "warning", "--no-access-log", "--lifespan", "on",
             "--http", UVICORN_HTTP],
            env=_env(BENCH_PATH=path, BENCH_DB=bed.db(latency), BENCH_IDS_FILE=str(ids_file), **trace_env),
            cwd=ROOT, stdout=self.log, stderr=self.log,
        )  # fmt: skip

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"uvicorn for {self.path} exited with {self.proc.returncode}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/ping", timeout=2) as resp,
            ):
                if resp.status == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"uvicorn for {self.path} did not answer within {timeout}s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def leg_uvicorn(
    plan: Plan, bed: Bed, store: Store, ids_file: Path, log_dir: Path, trace_dir: Path | None = None
) -> None:
    """With `trace_dir` (`--trace`): per-request timestamps (benchmarks/trace.py), one JSON-lines file
    per cell there and a summary in the cell's record."""
    if trace_dir is not None:
        trace_dir.mkdir(parents=True, exist_ok=True)
    todo = [
        (rep, latency, workload, conc)
        for workload in plan.workloads
        for rep in range(plan.repeats)
        for latency in plan.latencies
        for conc in plan.concurrencies
    ]
    if all(
        _key("uvicorn", p, w, c, f"{lat:g}ms", r) in store.done
        for r, lat, w, c in todo
        for p in plan.uvicorn_paths
    ):
        return
    servers: dict[tuple[str, float], Server] = {}
    try:
        for latency in plan.latencies:
            for path in plan.uvicorn_paths:
                servers[path, latency] = Server(
                    path, latency, bed, ids_file, log_dir, trace=trace_dir is not None
                )
        for server in servers.values():
            server.wait_ready()
        for turn, (rep, latency, workload, conc) in enumerate(todo):
            for path in _rotate(plan.uvicorn_paths, turn):
                key = _key("uvicorn", path, workload, conc, f"{latency:g}ms", rep)
                if key in store.done:
                    continue
                server = servers[path, latency]
                spec = {
                    "port": server.port, "workload": workload, "concurrency": conc, "warmup": plan.warmup_for(conc),
                    "duration": plan.duration, "pids": {"server": server.proc.pid, **bed.pids(latency)},
                    "gateway_port": bed.port(latency),
                }  # fmt: skip
                if trace_dir is not None:
                    spec["trace"] = str(trace_dir / f"{key.replace('/', '_')}.jsonl")
                result = run_process(
                    [sys.executable, "-m", "benchmarks.loadgen", json.dumps(spec)], _env(),
                    timeout=plan.warmup_for(conc) + plan.duration + 120, conn_pid=server.proc.pid, conn_port=bed.port(latency),
                )  # fmt: skip
                rec = {"key": key, "leg": "uvicorn", "path": path, "workload": workload, "concurrency": conc,
                       "window_s": [spec["warmup"], plan.duration], "pool_max_size": _pool_max_size(path),
                       "latency_ms": latency, "repeat": rep, "ts": time.time(), "loadavg": os.getloadavg()[0], **result}  # fmt: skip
                store.add(rec)
                log(f"{key}: {_brief(result)}")
    finally:
        for server in servers.values():
            server.stop()


def _pool_max_size(path: str) -> int | None:
    """The pool cap of an async path (benchmarks/settings.py: "native-32" is 32, else
    BENCH_POOL_MAX_SIZE, default 10); None for the stock paths."""
    if path.startswith("stock"):
        return None
    path = path.removesuffix("+freeze")
    return int(path.split("-", 1)[1]) if "-" in path else int(os.environ.get("BENCH_POOL_MAX_SIZE", "10"))


def leg_crud(plan: Plan, bed: Bed, store: Store) -> None:
    backends = {"this": [sys.executable, "-m", "benchmarks.crud"]}
    if OLDER_PYTHON.exists():
        backends["older"] = [str(OLDER_PYTHON), "-P", str(BENCH_DIR / "crud.py")]
    else:
        store.add(
            {"key": "crud/older/missing", "leg": "crud", "error": f"no {OLDER_PYTHON} (make bench builds it)"}
        )
    latency = plan.latencies[0]
    for rep in range(plan.crud_repeats):
        for name in _rotate(tuple(backends), rep):
            key = _key("crud", name, rep)
            if key in store.done:
                continue
            spec = {"db": bed.db_dict(latency), "pids": bed.pids(latency), "scale": plan.crud_scale}
            result = run_process(backends[name] + [json.dumps(spec)], _env(), timeout=900)
            store.add({"key": key, "leg": "crud", "path": name, "latency_ms": latency, "repeat": rep,
                       "ts": time.time(), "loadavg": os.getloadavg()[0], **result})  # fmt: skip
            log(
                f"{key}: {result.get('error') or {op: v['client_cpu_us_per_op'] for op, v in result['ops'].items()}}"
            )


def leg_pool(plan: Plan, bed: Bed, store: Store) -> None:
    latency = plan.latencies[0]
    turn = 0
    for rep in range(plan.repeats):
        for mode in plan.pool_modes:
            for conc in plan.pool_concurrencies:
                turn += 1
                for impl in _rotate(("ours", "aiomysql"), turn):
                    key = _key("pool", impl, mode, conc, rep)
                    if key in store.done:
                        continue
                    spec = {"impl": impl, "mode": mode, "concurrency": conc, "warmup": plan.warmup,
                            "duration": plan.duration}  # fmt: skip
                    result = run_process(
                        [sys.executable, "-m", "benchmarks.poolbench", json.dumps(spec)],
                        _env(BENCH_PATH="native", BENCH_DB=bed.db(latency)), timeout=plan.duration + 120,
                    )  # fmt: skip
                    store.add({"key": key, "leg": "pool", "path": impl, "workload": mode, "concurrency": conc,
                               "latency_ms": latency, "repeat": rep, "ts": time.time(), "loadavg": os.getloadavg()[0], **result})  # fmt: skip
                    log(f"{key}: {_brief(result)}")


def leg_profile(plan: Plan, bed: Bed, store: Store, ids_file: Path, results: Path) -> None:
    """pyinstrument over the native and the stock (persistent) path: point reads, 16 clients, 0 ms."""
    for path in ("native", "stock60"):
        key = _key("profile", path)
        if key in store.done:
            continue
        out = results / f"profile-{path}-point.txt"
        spec = {"path": path, "workload": "point", "concurrency": 16, "warmup": plan.warmup,
                "duration": plan.duration, "ids_file": str(ids_file), "pids": bed.pids(0.0), "profile": str(out)}  # fmt: skip
        result = run_process([sys.executable, "-m", "benchmarks.cell", json.dumps(spec)],
                             _env(BENCH_PATH=path, BENCH_DB=bed.db(0.0)), timeout=300)  # fmt: skip
        store.add(
            {
                "key": key,
                "leg": "profile",
                "path": path,
                "file": out.name,
                "ts": time.time(),
                "loadavg": os.getloadavg()[0],
                **result,
            }
        )
        log(f"{key}: {_brief(result)}")


def leg_knn(plan: Plan, bed: Bed, store: Store, results: Path) -> None:
    """benchmarks/knn.py: k = 10 nearest over the plan's vectors, ORM vs raw SQL; results in results/knn/."""
    from benchmarks import knn

    key = _key("knn", plan.knn[0])
    if key in store.done:
        return
    n, blocks, per_block = plan.knn
    spec = {"db": bed.db_dict(0.0), "pids": bed.pids(0.0), "n": n, "blocks": blocks, "per_block": per_block}
    result = run_process([sys.executable, "-m", "benchmarks.knn", json.dumps(spec)], _env(), timeout=3600)
    knn.write(results / "knn", dict(result))
    result.pop("profile", None)
    store.add({"key": key, "leg": "knn", "ts": time.time(), **result})
    log(
        f"{key}: {result.get('error') or result.get('orm_overhead_cpu_us_per_query')} us ORM overhead per query"
    )


def _brief(result: dict[str, Any]) -> str:
    if "error" in result:
        return "ERROR " + result["error"][-300:]
    return (f"{result.get('rps')} req/s p50 {result.get('p50_ms')} ms p99 {result.get('p99_ms')} ms "
            f"cpu {result.get('client_cpu_us_per_req')} us/req conns {result.get('server_conns_peak')} "
            f"errors {result.get('errors')}")  # fmt: skip


# --- the run ------------------------------------------------------------------------------------------------


def run(
    plan: Plan,
    results: Path,
    *,
    fresh: bool,
    state_dir: Path,
    legs: tuple[str, ...] | None = None,
    trace: bool = False,
) -> Path:
    from benchmarks import report

    results.mkdir(parents=True, exist_ok=True)
    store = Store(results, fresh)
    meta_path = results / "run.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() and not fresh else {}
    meta.setdefault("runs", []).append(report.environment(plan_name=plan.name, plan=asdict(plan)))
    meta_path.write_text(json.dumps(meta, indent=1))
    legs = legs or plan.legs
    state_dir.mkdir(parents=True, exist_ok=True)
    log(f"plan {plan.name}; results in {results}; test bed in {state_dir}")
    bed = Bed(state_dir, plan.latencies)
    try:
        bed.create_database()
        ids_file = state_dir / "ids.json"
        seeded = run_process([sys.executable, "-m", "benchmarks.seed", str(ids_file), str(plan.seed_rows)],
                             _env(BENCH_DB=bed.db(plan.latencies[0])), timeout=600)  # fmt: skip
        if "error" in seeded and not ids_file.exists():
            raise RuntimeError(f"seeding failed: {seeded['error']}")
        if "error" in seeded:
            log(f"seed: {seeded['error'][-300:]}")
        for leg in legs:  # in the plan's order: the cells the targets read come first
            if leg == "crud":
                leg_crud(plan, bed, store)
            elif leg == "pool":
                leg_pool(plan, bed, store)
            elif leg == "uvicorn":
                leg_uvicorn(plan, bed, store, ids_file, state_dir, results / "requests" if trace else None)
            elif leg == "profile" and plan.profile:
                leg_profile(plan, bed, store, ids_file, results)
            elif leg == "inproc":
                leg_inproc(plan, bed, store, ids_file)
            elif leg == "knn":
                leg_knn(plan, bed, store, results)
            elif leg != "profile":
                raise SystemExit(f"unknown leg {leg!r}")
    finally:
        bed.stop()
        meta = json.loads(meta_path.read_text())
        meta["runs"][-1]["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        meta["runs"][-1]["loadavg_end"] = os.getloadavg()
        meta_path.write_text(json.dumps(meta, indent=1))
    report.write(results)
    return results


def clean_state(state_dir: Path) -> None:
    shutil.rmtree(state_dir, ignore_errors=True)
