"""k-nearest neighbours (k = 10) over N vectors of 128 dimensions: the ORM against the same raw SQL.

    .venv/bin/python -m benchmarks.knn '<json spec>'     # run by `make bench` (harness.leg_knn)

Both sides run on one mysqlclient connection through the gateway. The ORM query is

    Item.objects.only("id", "label").annotate(distance=EuclideanDistance("embedding", q))
        .order_by("distance")[:10]                                   -> 10 Item instances

and the raw side sends the SQL a person would write for it on the DB-API cursor (json.dumps of the query
vector, fetchall). Client CPU (`time.process_time`: this process only; the server's work is not in it)
is summed over blocks of queries, the sides' blocks interleaved; the overhead per query is the median
ORM block minus the median raw block. A third side is `Item.objects.nearest("embedding", q, k=10)`
(django_singlestore.vector.VectorManager), the same query with its SQL compiled once. The first query's results are checked against a brute-force
numpy answer, and every ORM answer against the raw one. A cProfile of the ORM queries is written
beside the results, for where the time goes. Prints one JSON line.
"""

from __future__ import annotations

import cProfile
import io
import json
import pstats
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))

import benchproc

K = 10
RAW_SQL = (
    "SELECT `id`, `label`, EUCLIDEAN_DISTANCE(`embedding`, %s :> VECTOR(128, F32)) AS `distance` "
    "FROM `benchknn_item` ORDER BY `distance` ASC LIMIT 10"
)


def configure(db: dict[str, Any]) -> None:
    import django
    from django.conf import settings

    settings.configure(
        SECRET_KEY="bench",
        USE_TZ=False,
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        INSTALLED_APPS=["benchknn"],
        DATABASES={
            "default": {
                "ENGINE": "django_singlestore",
                "HOST": db["host"],
                "PORT": int(db["port"]),
                "USER": db["user"],
                "PASSWORD": db["password"],
                "NAME": db["name"],
                "CONN_MAX_AGE": None,
            }
        },
        LOGGING_CONFIG=None,
    )
    django.setup()


def seed(n: int, rng: Any) -> Any:
    """n random F32 vectors (stored through the gateway as JSON text, packed by it); returns them."""
    from benchknn.models import DIMENSIONS, Item
    from django.db import connection

    with connection.schema_editor() as editor:
        editor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(Item._meta.db_table)}")
        editor.create_model(Item)
    vectors = rng.standard_normal((n, DIMENSIONS)).astype("float32")
    row_format = "[" + ",".join(["%.9g"] * DIMENSIONS) + "]"
    with connection.cursor() as cursor:
        for start in range(0, n, 1000):
            chunk = vectors[start : start + 1000]
            cursor.executemany(
                "INSERT INTO `benchknn_item` (`label`, `embedding`) VALUES (%s, %s)",
                [(f"item {start + i}", row_format % tuple(v.tolist())) for i, v in enumerate(chunk)],
            )
    return vectors


def run(spec: dict[str, Any]) -> dict[str, Any]:
    configure(spec["db"])
    import django
    import numpy as np
    from benchknn.models import Item
    from django.db import connection

    from django_singlestore.vector import EuclideanDistance

    n = int(spec.get("n", 100_000))
    blocks = int(spec.get("blocks", 12))
    per_block = int(spec.get("per_block", 10))
    rng = np.random.default_rng(18)
    pids = {k: int(v) for k, v in spec.get("pids", {}).items()}
    t0 = time.perf_counter()
    vectors = seed(n, rng)
    seed_s = time.perf_counter() - t0
    queries = [q.tolist() for q in rng.standard_normal((blocks * per_block + 20, 128)).astype("float32")]
    ids = np.array(Item.objects.order_by("id").values_list("id", flat=True))

    def orm(q: list[float]) -> list[Any]:
        return list(
            Item.objects.only("id", "label")
            .annotate(distance=EuclideanDistance("embedding", q))
            .order_by("distance")[:K]
        )

    def nearest(q: list[float]) -> list[Any]:
        return Item.objects.nearest("embedding", q, k=K)

    connection.ensure_connection()
    raw_conn = connection.connection  # the MySQLdb connection under Django's wrapper

    def raw(q: list[float]) -> list[Any]:
        cursor = raw_conn.cursor()
        cursor.execute(RAW_SQL, [json.dumps(q)])
        rows = cursor.fetchall()
        cursor.close()
        return list(rows)

    # correctness: the exact answer, and ORM == raw
    q0 = queries[0]
    exact = ids[
        np.argsort(np.linalg.norm(vectors - np.asarray(q0, dtype="float32"), axis=1), kind="stable")[:K]
    ]
    got = [item.pk for item in orm(q0)]
    if got != exact.tolist():
        raise RuntimeError(f"ORM k-nearest {got} != brute force {exact.tolist()}")
    for q in queries[1:6]:
        if not [i.pk for i in orm(q)] == [i.pk for i in nearest(q)] == [r[0] for r in raw(q)]:
            raise RuntimeError("ORM and raw SQL disagree")
    # warm-up
    for q in queries[6:20]:
        orm(q)
        nearest(q)
        raw(q)

    def block(fn: Any, qs: list[list[float]]) -> tuple[float, float]:
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for q in qs:
            fn(q)
        return (time.process_time() - cpu0) / len(qs) * 1e6, (time.perf_counter() - wall0) / len(qs) * 1e3

    sides = {"orm": orm, "nearest": nearest, "raw": raw}
    cpu: dict[str, list[float]] = {name: [] for name in sides}
    wall: dict[str, list[float]] = {name: [] for name in sides}
    procs0 = benchproc.cpu_snapshot(pids)
    names = list(sides)
    for b in range(blocks):
        qs = queries[20 + b * per_block : 20 + (b + 1) * per_block]
        for name in names[b % 3 :] + names[: b % 3]:  # rotate which side goes first
            c, w = block(sides[name], qs)
            cpu[name].append(c)
            wall[name].append(w)
    procs = benchproc.cpu_delta(procs0, benchproc.cpu_snapshot(pids))
    orm_cpu, raw_cpu, near_cpu = cpu["orm"], cpu["raw"], cpu["nearest"]

    # where the ORM's time goes: cProfile over the ORM queries, and the query building/compiling alone
    profiler = cProfile.Profile(time.process_time)  # CPU, not wall: the server wait is not ours
    profiler.enable()
    for q in queries[20 : 20 + per_block * 2]:
        orm(q)
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(25)

    def compile_only(q: list[float]) -> Any:
        qs = (
            Item.objects.only("id", "label")
            .annotate(distance=EuclideanDistance("embedding", q))
            .order_by("distance")[:K]
        )
        return qs.query.get_compiler(using="default").as_sql()

    cpu0 = time.process_time()
    for q in queries[20:120]:
        compile_only(q)
    compile_us = (time.process_time() - cpu0) / 100 * 1e6
    cpu0 = time.process_time()
    for q in queries[20:120]:
        json.dumps(q)
    dumps_us = (time.process_time() - cpu0) / 100 * 1e6

    connection.close()
    orm_med, raw_med, near_med = (statistics.median(cpu[name]) for name in ("orm", "raw", "nearest"))
    return {
        "n": n,
        "dimensions": 128,
        "k": K,
        "queries_per_side": blocks * per_block,
        "seed_s": round(seed_s, 1),
        "orm_cpu_us_per_query": round(orm_med, 1),
        "raw_cpu_us_per_query": round(raw_med, 1),
        "orm_overhead_cpu_us_per_query": round(orm_med - raw_med, 1),
        "orm_overhead_cpu_us_blocks": [round(o - r, 1) for o, r in zip(orm_cpu, raw_cpu, strict=True)],
        "nearest_cpu_us_per_query": round(near_med, 1),
        "nearest_overhead_cpu_us_per_query": round(near_med - raw_med, 1),
        "nearest_overhead_cpu_us_blocks": [round(o - r, 1) for o, r in zip(near_cpu, raw_cpu, strict=True)],
        "nearest_wall_ms_per_query": round(statistics.median(wall["nearest"]), 2),
        "orm_query_build_and_compile_us": round(compile_us, 1),
        "raw_json_dumps_us": round(dumps_us, 1),
        "orm_wall_ms_per_query": round(statistics.median(wall["orm"]), 2),
        "raw_wall_ms_per_query": round(statistics.median(wall["raw"]), 2),
        "gateway_cpu_s": procs.get("gateway"),
        "mariadb_cpu_s": procs.get("mariadb"),
        "target_us": 150,
        "profile": text.getvalue(),
        "django": django.get_version(),
        "python": sys.version.split()[0],
    }


def write(results: Path, result: dict[str, Any]) -> None:
    """results.json, results.md and profile.txt in ``results`` (benchmarks/results/knn/)."""
    results.mkdir(parents=True, exist_ok=True)
    profile = result.pop("profile", "")
    (results / "profile.txt").write_text(profile)
    (results / "results.json").write_text(json.dumps(result, indent=1))
    if "error" in result:
        (results / "results.md").write_text(f"# k-nearest benchmark\n\nFailed: {result['error']}\n")
        return
    target = result["target_us"]

    def verdict(value: float) -> str:
        return "met" if value <= target else "MISSED"

    lines = [
        "# k-nearest benchmark (benchmarks/knn.py)",
        "",
        f"k = {result['k']} nearest by EUCLIDEAN_DISTANCE over {result['n']:,} vectors of "
        f"{result['dimensions']} dimensions (F32), through the test-bed gateway, mysqlclient, "
        f"Django {result['django']}, Python {result['python']}; {result['queries_per_side']} queries per side.",
        "",
        "| | client CPU µs / query (median block) | wall ms / query |",
        "| --- | ---: | ---: |",
        f"| ORM queryset (10 model instances) | {result['orm_cpu_us_per_query']} | "
        f"{result['orm_wall_ms_per_query']} |",
        f"| ORM `Item.objects.nearest()` (10 model instances) | {result['nearest_cpu_us_per_query']} | "
        f"{result['nearest_wall_ms_per_query']} |",
        f"| raw SQL, DB-API cursor | {result['raw_cpu_us_per_query']} | {result['raw_wall_ms_per_query']} |",
        f"| **queryset overhead** | **{result['orm_overhead_cpu_us_per_query']}** (target ≤ {target}: "
        f"{verdict(result['orm_overhead_cpu_us_per_query'])}) | |",
        f"| **nearest() overhead** | **{result['nearest_overhead_cpu_us_per_query']}** (target ≤ {target}: "
        f"{verdict(result['nearest_overhead_cpu_us_per_query'])}) | |",
        "",
        f"Per block, minus raw (µs): queryset {result['orm_overhead_cpu_us_blocks']}, nearest() "
        f"{result['nearest_overhead_cpu_us_blocks']}.",
        f"Building and compiling the ORM query alone: {result['orm_query_build_and_compile_us']} µs; "
        f"json.dumps of the query vector on the raw side: {result['raw_json_dumps_us']} µs.",
        f"Seeding took {result['seed_s']} s. Server CPU during the timed blocks: gateway "
        f"{result['gateway_cpu_s']} s, MariaDB {result['mariadb_cpu_s']} s.",
        "",
        "Where the ORM's time goes: `profile.txt` (cProfile, cumulative and own time).",
    ]
    (results / "results.md").write_text("\n".join(lines) + "\n")


def main(argv: list[str]) -> int:
    print(json.dumps(run(json.loads(argv[0]))), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
