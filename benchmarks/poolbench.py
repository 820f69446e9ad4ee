"""Pool micro-benchmark: this project's pool against aiomysql's own, `python -m benchmarks.poolbench '<json>'`.

`impl` is `ours` (the async engine's pool, through `connection.pool()`) or `aiomysql`
(`aiomysql.create_pool`); `mode` is `acquire` (borrow and give back) or `select1` (borrow, `SELECT 1`,
give back). Both pools have the same cap and are filled before the window. Prints one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    impl, mode, concurrency = spec["impl"], spec["mode"], int(spec["concurrency"])
    cap = settings.POOL_MAX_SIZE
    if impl == "ours":
        pool = connection.pool()
        await pool.open(wait=True)

        async def one() -> None:
            conn = await pool.acquire()
            try:
                if mode == "select1":
                    async with conn.cursor() as cursor:
                        await cursor.execute("SELECT 1")
                        await cursor.fetchone()
            finally:
                pool.release(conn)

    else:
        import aiomysql

        sd = connection.settings_dict
        pool = await aiomysql.create_pool(
            minsize=0, maxsize=cap, host=sd["HOST"], port=int(sd["PORT"]), user=sd["USER"],
            password=sd["PASSWORD"], db=sd["NAME"], charset="utf8mb4", autocommit=True,
        )  # fmt: skip

        async def one() -> None:
            async with pool.acquire() as conn:
                if mode == "select1":
                    async with conn.cursor() as cursor:
                        await cursor.execute("SELECT 1")
                        await cursor.fetchone()

    # Fill the pool to its cap (what a busy server has) before measuring.
    await asyncio.gather(*(one() for _ in range(cap * 2)))
    start = time.perf_counter() + float(spec["warmup"])
    end = start + float(spec["duration"])
    # The window's edges are found by the clients themselves: an acquire that finds an idle connection
    # need not yield to the event loop, so a separate timer task might never run in time.
    state: dict[str, Any] = {"count": 0}

    async def client() -> None:
        while True:
            now = time.perf_counter()
            if now >= end:
                if "t1" not in state and "t0" in state:
                    state["t1"], state["cpu1"] = now, time.process_time()
                return
            if now >= start and "t0" not in state:
                state["t0"], state["cpu0"] = now, time.process_time()
            await one()
            if "t0" in state and time.perf_counter() < end:
                state["count"] += 1
            await asyncio.sleep(0)  # let the other clients run: a closed loop of `concurrency` tasks

    await asyncio.gather(*(client() for _ in range(concurrency)))
    count = state["count"]
    elapsed, cpu = state["t1"] - state["t0"], state["cpu1"] - state["cpu0"]
    if impl == "ours":
        await connection.aclose_pool()
    else:
        pool.close()
        await pool.wait_closed()
    return {
        "requests": count,
        "rps": round(count / elapsed, 1) if elapsed else None,
        "client_cpu_us_per_req": round(cpu / count * 1e6, 2) if count else None,
        "elapsed_s": round(elapsed, 4),
    }


def main(argv: list[str]) -> int:
    os.environ["BENCH_PATH"] = "native"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
    print(json.dumps(asyncio.run(run(json.loads(argv[0])))), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
