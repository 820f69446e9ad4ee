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
    end_warm = time.perf_counter() + float(spec["warmup"])
    count = 0
    state: dict[str, Any] = {"measuring": False}

    async def client() -> None:
        nonlocal count
        while time.perf_counter() < end:
            await one()
            if state["measuring"]:
                count += 1

    end = end_warm + float(spec["duration"])

    async def marker() -> None:
        await asyncio.sleep(max(0.0, end_warm - time.perf_counter()))
        state["measuring"] = True
        state["t0"], state["cpu0"] = time.perf_counter(), time.process_time()

    await asyncio.gather(marker(), *(client() for _ in range(concurrency)))
    elapsed, cpu = time.perf_counter() - state["t0"], time.process_time() - state["cpu0"]
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
