"""Per-request timestamps under uvicorn (`python -m benchmarks --trace`): where a request's time goes.

Debug only: the benchmark process installs it when `BENCH_TRACE=1` (benchmarks/asgi.py), so the
product's hot path is untouched and untraced cells pay nothing. Every timestamp is
`time.perf_counter()` (CLOCK_MONOTONIC, one clock for every process on the machine), so the load
generator's send and receive times line up with the server's:

    sent      the load generator wrote the request            (loadgen)
    rx        uvicorn's parser began the request (data_received)  (server)
    enter     the request's task entered the ASGI application (server)
    acq0/acq1 each pool acquire began / returned a connection  (server, native path)
    rel       each connection went back to the pool            (server, native path)
    resp      the response body was written to the socket      (server)
    done      the load generator had read the whole response   (loadgen)

Requests carry an `x-bench-req` header (the load generator's id) so both sides join. The server also
records every garbage collection (start, duration, generation). `GET /__trace` returns what the
server collected since the last call, and clears it.
"""

from __future__ import annotations

import contextvars
import gc
import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]

_current: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("bench_trace", default=None)
_records: list[dict[str, Any]] = []
_gcs: list[tuple[float, float, int]] = []
_gc_start = [0.0]
clock = time.perf_counter


def _on_gc(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _gc_start[0] = clock()
    else:
        _gcs.append((_gc_start[0], clock() - _gc_start[0], int(info.get("generation", -1))))


def _patch_pool() -> None:
    from django_singlestore_async.pool import AsyncConnectionPool

    acquire, release = AsyncConnectionPool.acquire, AsyncConnectionPool.release

    async def traced_acquire(self: Any, timeout: float | None = None) -> Any:
        rec = _current.get()
        t0 = clock()
        conn = await acquire(self, timeout)
        if rec is not None:
            rec.setdefault("acq", []).append((t0, clock()))
        return conn

    def traced_release(self: Any, conn: Any) -> None:
        rec = _current.get()
        if rec is not None:
            rec.setdefault("rel", []).append(clock())
            reader = getattr(conn.raw, "_reader", None)  # when the server's last bytes reached the loop
            rec.setdefault("db_rx", []).append(getattr(reader, "bench_rx", None))
        release(self, conn)

    AsyncConnectionPool.acquire = traced_acquire  # type: ignore[method-assign]
    AsyncConnectionPool.release = traced_release  # type: ignore[method-assign]


def _patch_streams() -> None:
    """Stamp every asyncio StreamReader (aiomysql's) with the time its last data was fed: the loop
    ran the socket's read callback then."""
    import asyncio

    feed = asyncio.StreamReader.feed_data

    def traced_feed(self: Any, data: bytes) -> None:
        self.bench_rx = clock()
        feed(self, data)

    asyncio.StreamReader.feed_data = traced_feed  # type: ignore[method-assign,assignment]


async def _lag_sampler(samples: list[tuple[float, float]], period: float = 0.005) -> None:
    """How late the loop runs a timer due `period` from now: its iteration length (own work, GC,
    waiting for a core)."""
    import asyncio

    while True:
        due = clock() + period
        await asyncio.sleep(period)
        samples.append((due, clock() - due))


_lags: list[tuple[float, float]] = []


def _patch_uvicorn() -> None:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    begin = HttpToolsProtocol.on_message_begin

    def traced_begin(self: Any) -> None:
        begin(self)
        self.scope["bench_rx"] = clock()

    HttpToolsProtocol.on_message_begin = traced_begin  # type: ignore[method-assign]


def wrap(app: ASGIApp) -> ASGIApp:
    """`app` with per-request timestamps, and the `/__trace` endpoint."""
    _patch_pool()
    _patch_streams()
    _patch_uvicorn()
    sampler: list[Any] = []
    gc.callbacks.append(_on_gc)

    async def traced(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await app(scope, receive, send)
        if not sampler:
            import asyncio

            sampler.append(asyncio.get_running_loop().create_task(_lag_sampler(_lags)))
        if scope["path"] == "/__trace":
            lags = list(_lags)
            _lags.clear()
            heap = {"objects": len(gc.get_objects()), "frozen": gc.get_freeze_count()}
            body = json.dumps({"requests": _records, "gc": _gcs, "heap": heap, "lags": lags}).encode()
            _records.clear()
            _gcs.clear()
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-length", str(len(body)).encode())]})  # fmt: skip
            await send({"type": "http.response.body", "body": body})
            return None
        rec: dict[str, Any] = {"enter": clock(), "rx": scope.get("bench_rx")}
        for name, value in scope["headers"]:
            if name == b"x-bench-req":
                rec["id"] = value.decode()
        _current.set(rec)  # the request's task has its own context

        async def traced_send(message: Any) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                rec["resp"] = clock()

        await app(scope, receive, traced_send)
        _records.append(rec)
        return None

    return traced


def segments(client: dict[str, Any], server: dict[str, Any]) -> dict[str, float] | None:
    """One request's time split into consecutive waits (ms); None when a timestamp is missing."""
    sent, done = client["sent"], client["done"]
    rx, enter, resp = server.get("rx"), server.get("enter"), server.get("resp")
    if rx is None or enter is None or resp is None:
        return None
    out = {"to_server": rx - sent, "rx_to_task": enter - rx}
    acq, rel = server.get("acq") or [], server.get("rel") or []
    if acq and rel:
        out["before_pool"] = acq[0][0] - enter
        out["pool_wait"] = sum(b - a for a, b in acq)
        out["with_conn"] = sum(r - a[1] for a, r in zip(acq, rel, strict=False))
        db_rx = server.get("db_rx") or []
        if db_rx and None not in db_rx:
            # with_conn = the round trip until the reply's bytes reached the loop + the resume after it
            out["conn_to_reply"] = sum(x - a[1] for a, x in zip(acq, db_rx, strict=False))
            out["reply_to_release"] = sum(r - x for x, r in zip(db_rx, rel, strict=False))
        out["after_pool"] = resp - rel[-1]
        out["handler_other"] = (
            (resp - enter) - out["before_pool"] - out["pool_wait"] - out["with_conn"] - out["after_pool"]
        )
    else:
        out["handler"] = resp - enter
    out["to_client"] = done - resp
    out["total"] = done - sent
    return {k: round(v * 1000, 3) for k, v in out.items()}


def summarize(
    reqs: list[dict[str, float]],
    gcs: list[list[float]],
    window: tuple[float, float],
    lags: list[list[float]] | None = None,
) -> dict[str, Any]:
    """Mean segments (ms) of the fastest half, the requests at p90-p99 and above p99 (by total), and
    the garbage collections inside the window."""
    if not reqs:
        return {}
    reqs = sorted(reqs, key=lambda r: r["total"])
    n = len(reqs)
    bands = {"p0-50": reqs[: n // 2], "p50-90": reqs[n // 2 : int(n * 0.9)],
             "p90-99": reqs[int(n * 0.9) : int(n * 0.99)], "p99-100": reqs[int(n * 0.99) :]}  # fmt: skip
    out: dict[str, Any] = {"n": n}
    for band, rs in bands.items():
        if rs:
            keys = set(rs[0]).intersection(*rs)
            out[band] = {k: round(sum(r[k] for r in rs) / len(rs), 2) for k in sorted(keys)}
    inside = [g for g in gcs if window[0] <= g[0] < window[1]]
    lag = sorted(x[1] for x in lags or [] if window[0] <= x[0] < window[1])
    if lag:
        out["loop_lag_ms"] = {"p50": round(lag[len(lag) // 2] * 1000, 2), "p99": round(lag[int(len(lag) * 0.99)] * 1000, 2),
                              "max": round(lag[-1] * 1000, 2), "over_50ms_s": round(sum(x for x in lag if x > 0.05), 3)}  # fmt: skip
    out["gc"] = {
        "count": len(inside),
        "total_ms": round(sum(g[1] for g in inside) * 1000, 2),
        "max_ms": round(max((g[1] for g in inside), default=0) * 1000, 2),
        "gen2": sum(1 for g in inside if g[2] == 2),
    }
    return out


def timeline(path: str, step: float = 0.25) -> str:
    """`python -m benchmarks.trace FILE`: a traced cell by send time (latency, pool wait, connection
    hold time per slice) and its garbage collections over 10 ms."""
    rows, gcs, window = [], [], (0.0, 0.0)
    with open(path) as f:
        for line in f:
            rec = json.loads(line)
            if "gc" in rec:
                gcs, window = rec["gc"], tuple(rec["window"])
            elif "enter" in rec:
                rows.append(rec)
    t0 = window[0] or min(r["sent"] for r in rows)
    slices: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        slices.setdefault(int((r["sent"] - t0) // step), []).append(r)
    out = []
    for k in sorted(slices):
        rs = slices[k]
        tot = sorted((r["done"] - r["sent"]) * 1000 for r in rs)
        acq = [r for r in rs if r.get("acq") and r.get("rel")]
        wait = sum(sum(b - a for a, b in r["acq"]) for r in acq) / len(acq) * 1000 if acq else 0.0
        hold = sum(r["rel"][-1] - r["acq"][0][1] for r in acq) / len(acq) * 1000 if acq else 0.0
        out.append(f"{k * step:5.2f}s n={len(rs):4d} latency min/med/max {tot[0]:6.0f} {tot[len(tot) // 2]:6.0f} "
                   f"{tot[-1]:6.0f} ms  pool wait {wait:6.0f}  hold {hold:5.1f}")  # fmt: skip
    for start, dur, gen in gcs:
        if dur >= 0.01:
            out.append(f"gc gen{gen} at {start - t0:6.2f}s {dur * 1000:6.1f} ms")
    return "\n".join(out)


def summary_table(cells_path: str) -> str:
    """`python -m benchmarks.trace --summary CELLS.jsonl`: one row per traced cell (markdown)."""
    lines = [
        "| cell | load | req/s | p50 ms | p99 ms | p99-p50 | server CPU s | server run-queue wait s "
        "| loop lag p50/p99 ms | GCs (max ms) | fastest half: pool wait / hold ms | slowest 1%: pool wait / hold ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    with open(cells_path) as f:
        for line in f:
            r = json.loads(line)
            if "error" in r or "trace" not in r:
                continue
            t, wait = r["trace"], (r.get("runq_wait_s") or {}).get("server")
            lag, gcs = t.get("loop_lag_ms") or {}, t.get("gc") or {}

            def band(name: str, t: dict[str, Any] = t) -> str:
                b = t.get(name) or {}
                return f"{b['pool_wait']:.0f} / {b['with_conn']:.0f}" if "pool_wait" in b else "-"

            lines.append(
                f"| {r['path']} #{r['repeat']} | {r['loadavg']:.1f} | {r['rps']:.0f} | {r['p50_ms']:.0f} | {r['p99_ms']:.0f} "
                f"| {r['p99_ms'] - r['p50_ms']:.0f} | {r['client_cpu_s']:.2f} | {wait if wait is not None else '-'} "
                f"| {lag.get('p50', '-')}/{lag.get('p99', '-')} | {gcs.get('count')} ({gcs.get('max_ms')}) "
                f"| {band('p0-50')} | {band('p99-100')} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    if sys.argv[1] == "--summary":
        print(summary_table(sys.argv[2]))
    else:
        print(timeline(sys.argv[1]))
