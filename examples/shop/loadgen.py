"""A short load against the shop's async views, from its own process: asyncio streams, HTTP/1.1
keep-alive, no dependencies.

    python loadgen.py http://127.0.0.1:8000 [--seconds 5] [--concurrency 16] [--json]

Prints requests/s, latency percentiles per endpoint and overall, and the server's pool statistics
(`/api/stats`, the pool's `get_stats()`)."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import time
from typing import Any
from urllib.parse import urlsplit

# (name, weight): what one request of the mix does.
MIX = [("point read", 50), ("list", 20), ("create", 10), ("transaction", 10), ("raw cursor", 10)]


class HTTPClient:
    """One keep-alive connection; reconnects when the server closes it."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        data = b"" if body is None else json.dumps(body).encode()
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Length: {len(data)}\r\n"
        if data:
            head += "Content-Type: application/json\r\n"
        self.writer.write(head.encode() + b"\r\n" + data)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("server closed the connection")
        headers: dict[str, str] = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            payload = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            payload = b""
            while size := int((await self.reader.readline()).split(b";")[0], 16):
                payload += await self.reader.readexactly(size)
                await self.reader.readline()
            await self.reader.readline()
        else:
            payload = await self.reader.read()
        if headers.get("connection", "").lower() == "close":
            await self.close()
        status = int(status_line.split()[1])
        is_json = headers.get("content-type", "").startswith("application/json")
        return status, json.loads(payload) if is_json else payload

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None


def percentile(sorted_values: list[float], p: float) -> float:
    return sorted_values[max(0, math.ceil(p * len(sorted_values)) - 1)] if sorted_values else math.nan


async def worker(client: HTTPClient, ids: list[int], brands: list[str], deadline: float, seed: int,
                 samples: dict[str, list[float]], errors: dict[str, int]) -> None:  # fmt: skip
    rng = random.Random(seed)
    names, weights = zip(*MIX, strict=True)
    while time.monotonic() < deadline:
        kind = rng.choices(names, weights)[0]
        if kind == "point read":
            call: tuple[str, str, Any] = ("GET", f"/api/products/{rng.choice(ids)}", None)
        elif kind == "list":
            call = ("GET", f"/api/products?limit=10&brand={rng.choice(brands)}", None)
        elif kind == "create":
            call = ("POST", "/api/orders", {"product": rng.choice(ids), "quantity": rng.randint(1, 3)})
        elif kind == "transaction":
            items = [{"product": pk, "quantity": rng.randint(1, 2)} for pk in rng.sample(ids, 2)]
            call = ("POST", "/api/checkout", {"items": items})
        else:
            call = ("GET", "/api/top", None)
        started = time.perf_counter()
        try:
            status, _ = await client.request(*call)
        except (OSError, asyncio.IncompleteReadError, ConnectionError):
            await client.close()
            status = 0
        samples[kind].append(time.perf_counter() - started)
        if not 200 <= status < 300:
            errors[kind] += 1


async def run(url: str, seconds: float, concurrency: int) -> dict[str, Any]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    setup = HTTPClient(host, port)
    status, listing = await setup.request("GET", "/api/products?limit=100")
    if status != 200 or not listing["products"]:
        raise SystemExit(f"loadgen: {url}/api/products answered {status}: is the demo data there?")
    await setup.close()  # idle through the load, uvicorn would close it (keep-alive timeout)
    ids = [p["id"] for p in listing["products"]]
    brands = sorted({p["brand"] for p in listing["products"]})
    samples: dict[str, list[float]] = {name: [] for name, _ in MIX}
    errors: dict[str, int] = dict.fromkeys(samples, 0)
    clients = [HTTPClient(host, port) for _ in range(concurrency)]
    started = time.monotonic()
    deadline = started + seconds
    await asyncio.gather(
        *(worker(c, ids, brands, deadline, n, samples, errors) for n, c in enumerate(clients))
    )
    elapsed = time.monotonic() - started
    for client in clients:
        await client.close()
    _, stats = await setup.request("GET", "/api/stats")
    await setup.close()
    everything = sorted(t for values in samples.values() for t in values)
    report: dict[str, Any] = {
        "seconds": round(elapsed, 2),
        "concurrency": concurrency,
        "requests": len(everything),
        "errors": sum(errors.values()),
        "rps": round(len(everything) / elapsed, 1),
        "p50_ms": round(percentile(everything, 0.50) * 1000, 2),
        "p99_ms": round(percentile(everything, 0.99) * 1000, 2),
        "endpoints": {},
        "pool": stats["pool"],
    }
    for name, values in samples.items():
        values.sort()
        report["endpoints"][name] = {
            "requests": len(values),
            "errors": errors[name],
            "p50_ms": round(percentile(values, 0.50) * 1000, 2),
            "p99_ms": round(percentile(values, 0.99) * 1000, 2),
        }
    return report


def render(report: dict[str, Any]) -> str:
    lines = [
        f"load: {report['requests']} requests in {report['seconds']} s from {report['concurrency']} concurrent"
        f" clients: {report['rps']} requests/s, latency p50 {report['p50_ms']} ms, p99 {report['p99_ms']} ms,"
        f" {report['errors']} errors",
        f"  {'endpoint':<12} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p99 ms':>8}",
    ]
    for name, row in report["endpoints"].items():
        lines.append(
            f"  {name:<12} {row['requests']:>8} {row['errors']:>6} {row['p50_ms']:>8} {row['p99_ms']:>8}"
        )
    pool = report["pool"]
    keys = ["pool_max", "pool_size", "pool_available", "in_use", "requests_num", "requests_queued",
            "requests_wait_ms", "requests_errors", "connections_num", "connections_errors"]  # fmt: skip
    lines.append("pool (get_stats()): " + ", ".join(f"{k}={pool[k]}" for k in keys if k in pool))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args()
    report = asyncio.run(run(args.url, args.seconds, args.concurrency))
    print(json.dumps(report) if args.json else render(report), flush=True)
    raise SystemExit(1 if report["errors"] else 0)


if __name__ == "__main__":
    main()
