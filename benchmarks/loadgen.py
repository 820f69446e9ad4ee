"""HTTP/1.1 keep-alive load generator, run as its own process: `python -m benchmarks.loadgen '<json>'`.

`concurrency` connections each send GET requests back to back (closed loop) from the start of the
warm-up; responses that arrive inside the window count. It reads the server's, the gateway's and
MariaDB's CPU seconds at the window's edges from /proc, and the server's RSS and threads at the
window's end, lets the requests in flight finish (uncounted) and prints one JSON line. Standard
library only.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))

import benchproc


async def _client(
    host: str, port: int, request: bytes, win: dict[str, Any], out: dict[str, Any], tag: str | None = None
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    n = 0
    try:
        while True:
            started = time.perf_counter()
            if started >= win["end"]:
                return
            if tag is None:
                writer.write(request)
            else:  # --trace: an id per request, that the server's records carry too (benchmarks/trace.py)
                n += 1
                rid = f"{tag}-{n}"
                writer.write(request[:-2] + f"x-bench-req: {rid}\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = -1
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length < 0:
                raise RuntimeError(f"response without Content-Length: {head[:200]!r}")
            if length:
                await reader.readexactly(length)
            done = time.perf_counter()
            if not win["start"] <= done < win["end"]:
                continue
            if status == 200:
                out["latencies"].append(done - started)
                if tag is not None:
                    out["trace"][rid] = {"sent": started, "done": done}
            else:
                out["errors"] += 1
                out.setdefault("first_error", f"HTTP {status}")
    finally:
        writer.close()


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    host, port = "127.0.0.1", int(spec["port"])
    request = f"GET /{spec['workload']} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
    pids = {k: int(v) for k, v in spec["pids"].items()}
    now = time.perf_counter()
    win = {"start": now + float(spec["warmup"]), "end": now + float(spec["warmup"]) + float(spec["duration"])}
    out: dict[str, Any] = {"latencies": [], "errors": 0, "trace": {}}
    tracing = bool(spec.get("trace"))
    marks: dict[str, Any] = {}

    async def marker() -> None:
        await asyncio.sleep(max(0.0, win["start"] - time.perf_counter()))
        marks["t0"] = time.perf_counter()
        marks["cpu0"] = benchproc.cpu_snapshot(pids)
        marks["wait0"] = {
            name: benchproc.runqueue_wait(pid) for name, pid in {**pids, "loadgen": "self"}.items()
        }
        marks["own0"] = time.process_time()
        await asyncio.sleep(max(0.0, win["end"] - time.perf_counter()))
        marks["elapsed"] = time.perf_counter() - marks["t0"]
        marks["cpu"] = benchproc.cpu_delta(marks["cpu0"], benchproc.cpu_snapshot(pids))
        # waiting for a core (runnable, not running) in the window: the machine's share of the latency
        marks["wait"] = benchproc.cpu_delta(
            marks["wait0"],
            {name: benchproc.runqueue_wait(pid) for name, pid in {**pids, "loadgen": "self"}.items()},
        )
        marks["own"] = time.process_time() - marks["own0"]
        marks["mem"] = benchproc.memory_and_threads(pids["server"])
        if spec.get("gateway_port"):
            marks["conns"] = benchproc.connections_of(pids["server"], int(spec["gateway_port"]))
        marks["latencies"], marks["errors"] = list(out["latencies"]), out["errors"]

    results = await asyncio.gather(
        marker(),
        *(_client(host, port, request, win, out, f"c{i}" if tracing else None) for i in range(int(spec["concurrency"]))),
        return_exceptions=True,
    )  # fmt: skip
    elapsed, cpu = marks["elapsed"], marks["cpu"]
    failures = [r for r in results if isinstance(r, BaseException)]
    lat = sorted(marks["latencies"])
    n = len(lat)

    def pct(q: float) -> float | None:
        return round(lat[min(n - 1, int(q * n))] * 1000, 3) if n else None

    server_cpu = cpu.get("server")
    traced = {"trace": await _collect_trace(host, port, out["trace"], spec, win)} if tracing else {}
    return traced | {
        "requests": n,
        "errors": marks["errors"] + len(failures),
        "first_error": out.get("first_error") or (repr(failures[0])[:300] if failures else None),
        "elapsed_s": round(elapsed, 4),
        "rps": round(n / elapsed, 2) if elapsed > 0 else None,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "mean_ms": round(sum(lat) / n * 1000, 3) if n else None,
        "client_cpu_s": server_cpu,
        "client_cpu_us_per_req": round(server_cpu / n * 1e6, 1) if n and server_cpu is not None else None,
        "gateway_cpu_s": cpu.get("gateway"),
        "mariadb_cpu_s": cpu.get("mariadb"),
        "loadgen_cpu_s": round(marks["own"], 4),
        "runq_wait_s": marks["wait"],
        "rss_kb": marks["mem"]["rss_kb"],
        "threads": marks["mem"]["threads"],
        "conns_at_end": marks.get("conns"),
    }


async def _collect_trace(
    host: str, port: int, client: dict[str, Any], spec: dict[str, Any], win: dict[str, Any]
) -> dict[str, Any]:
    """Join the server's records (`GET /__trace`) with the load generator's by request id; write
    every request's segments to `spec["trace"]` (JSON lines) and return the summary."""
    from benchmarks import trace

    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(b"GET /__trace HTTP/1.1\r\nHost: bench\r\n\r\n")
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line[15:]) for line in head.split(b"\r\n") if line[:15].lower() == b"content-length:"
        )
        server = json.loads(await reader.readexactly(length))
    finally:
        writer.close()
    by_id = {rec["id"]: rec for rec in server["requests"] if "id" in rec}
    rows = []
    for rid, times in client.items():
        seg = trace.segments(times, by_id.get(rid, {}))
        if seg is not None:
            rows.append(seg)
    with open(spec["trace"], "w") as f:
        for rid, times in client.items():
            f.write(json.dumps({"id": rid, **times, **by_id.get(rid, {})}) + "\n")
        f.write(
            json.dumps({"gc": server["gc"], "window": [win["start"], win["end"]], "lags": server.get("lags")})
            + "\n"
        )
    summary = trace.summarize(rows, server["gc"], (win["start"], win["end"]), server.get("lags"))
    return summary | {"heap": server.get("heap")}


def main(argv: list[str]) -> int:
    print(json.dumps(asyncio.run(run(json.loads(argv[0])))), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
