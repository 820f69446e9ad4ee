"""k-nearest neighbours (k = 10) over N vectors of 128 dimensions: the ORM against the same raw SQL.

    .venv/bin/python -m benchmarks.knn '<json spec>'     # run by `make bench` (harness.leg_knn)

Both sides run on one mysqlclient connection through the gateway. The ORM query is

    Item.objects.only("id", "label").annotate(distance=EuclideanDistance("embedding", q))
        .order_by("distance")[:10]                                   -> 10 Item instances

and the raw side sends the SQL a person would write for it on the DB-API cursor, fetchall. Both sides
encode the query vector the same way, as the JSON text of its elements to 9 significant digits (exact
for F32; what the ORM sends): equal work. Neither side reads the stored vectors (the queryset defers
them with only()). A third side is `Item.objects.nearest("embedding", q, k=10)`
(django_singlestore.vector.VectorManager), the same query with its SQL compiled once; a fourth,
``raw_json``, encodes with json.dumps (17 digits, about three times the CPU), the raw baseline of the
first measurements: reported, not the one the overheads are taken against. The reference pair,
``ref_orm`` / ``ref_raw``, is the same queryset shape with ``F("id")`` where the distance was (no
vector anywhere) and its raw SQL: what Django itself costs for such a queryset.

Client CPU (`time.process_time`: this process only; the server's work is not in it) is summed over
blocks of queries, the sides' blocks interleaved (the first side rotating); the overhead per query is
the median ORM block minus the median raw block. The first query's results are checked against a
brute-force numpy answer, and every ORM answer against the raw ones. A cProfile of each ORM side is
written beside the results, for where the time goes. Prints one JSON line.
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))

import benchproc

K = 10
#: the JSON text of an F32 vector, 9 significant digits per element (exact for F32)
RAW_FORMAT = "[" + ",".join(["%.9g"] * 128) + "]"
#: the reference: the same shape without a vector (Django's own cost for such a queryset)
REF_SQL = "SELECT `id`, `label`, `id` AS `distance` FROM `benchknn_item` ORDER BY `distance` ASC LIMIT 10"
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
    from django.db.models import F

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
        cursor.execute(RAW_SQL, [RAW_FORMAT % tuple(q)])
        rows = cursor.fetchall()
        cursor.close()
        return list(rows)

    def ref_orm(q: list[float]) -> list[Any]:
        """Django's own cost: the same queryset shape with a column where the distance was, no vector."""
        return list(Item.objects.only("id", "label").annotate(distance=F("id")).order_by("distance")[:K])

    def ref_raw(q: list[float]) -> list[Any]:
        cursor = raw_conn.cursor()
        cursor.execute(REF_SQL)
        rows = cursor.fetchall()
        cursor.close()
        return list(rows)

    def raw_json(q: list[float]) -> list[Any]:
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
        if (
            not [i.pk for i in orm(q)]
            == [i.pk for i in nearest(q)]
            == [r[0] for r in raw(q)]
            == [r[0] for r in raw_json(q)]
        ):
            raise RuntimeError("ORM and raw SQL disagree")
    if [i.pk for i in ref_orm(q0)] != [r[0] for r in ref_raw(q0)]:
        raise RuntimeError("the reference queryset and its raw SQL disagree")
    # warm-up
    for q in queries[6:20]:
        orm(q)
        nearest(q)
        raw(q)
        raw_json(q)
        ref_orm(q)
        ref_raw(q)

    def block(fn: Any, qs: list[list[float]]) -> tuple[float, float]:
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for q in qs:
            fn(q)
        return (time.process_time() - cpu0) / len(qs) * 1e6, (time.perf_counter() - wall0) / len(qs) * 1e3

    sides = {
        "orm": orm,
        "nearest": nearest,
        "raw": raw,
        "raw_json": raw_json,
        "ref_orm": ref_orm,
        "ref_raw": ref_raw,
    }
    cpu: dict[str, list[float]] = {name: [] for name in sides}
    wall: dict[str, list[float]] = {name: [] for name in sides}
    load_start = os.getloadavg()
    procs0 = benchproc.cpu_snapshot(pids)
    names = list(sides)
    for b in range(blocks):
        qs = queries[20 + b * per_block : 20 + (b + 1) * per_block]
        for name in names[b % len(names) :] + names[: b % len(names)]:  # rotate which side goes first
            c, w = block(sides[name], qs)
            cpu[name].append(c)
            wall[name].append(w)
    procs = benchproc.cpu_delta(procs0, benchproc.cpu_snapshot(pids))
    load_end = os.getloadavg()
    orm_cpu, raw_cpu, near_cpu = cpu["orm"], cpu["raw"], cpu["nearest"]

    # where the ORM's time goes: cProfile over each ORM side, and the query building/compiling alone
    text = io.StringIO()
    for name in ("orm", "nearest"):
        profiler = cProfile.Profile(time.process_time)  # CPU, not wall: the server wait is not ours
        profiler.enable()
        for q in queries[20 : 20 + per_block * 2]:
            sides[name](q)
        profiler.disable()
        text.write(f"===== {name}: {per_block * 2} queries =====\n")
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

    def compile_reference(q: list[float]) -> Any:
        """The same queryset shape with a column for the distance: what Django costs for any such query."""
        qs = Item.objects.only("id", "label").annotate(distance=F("id")).order_by("distance")[:K]
        return qs.query.get_compiler(using="default").as_sql()

    cpu0 = time.process_time()
    for q in queries[20:120]:
        compile_reference(q)
    compile_reference_us = (time.process_time() - cpu0) / 100 * 1e6
    cpu0 = time.process_time()
    for q in queries[20:120]:
        json.dumps(q)
    dumps_us = (time.process_time() - cpu0) / 100 * 1e6
    cpu0 = time.process_time()
    for q in queries[20:120]:
        RAW_FORMAT % tuple(q)
    format_us = (time.process_time() - cpu0) / 100 * 1e6

    connection.close()
    orm_med, raw_med, near_med, json_med = (
        statistics.median(cpu[name]) for name in ("orm", "raw", "nearest", "raw_json")
    )
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
        "reference_query_build_and_compile_us": round(compile_reference_us, 1),
        "raw_json_dumps_us": round(dumps_us, 1),
        "raw_format_us": round(format_us, 1),
        "raw_json_cpu_us_per_query": round(json_med, 1),
        "raw_json_wall_ms_per_query": round(statistics.median(wall["raw_json"]), 2),
        "nearest_overhead_vs_raw_json_cpu_us_per_query": round(near_med - json_med, 1),
        "orm_overhead_vs_raw_json_cpu_us_per_query": round(orm_med - json_med, 1),
        "reference_orm_cpu_us_per_query": round(statistics.median(cpu["ref_orm"]), 1),
        "reference_raw_cpu_us_per_query": round(statistics.median(cpu["ref_raw"]), 1),
        "reference_overhead_cpu_us_per_query": round(
            statistics.median(cpu["ref_orm"]) - statistics.median(cpu["ref_raw"]), 1
        ),
        "reference_overhead_cpu_us_blocks": [
            round(o - r, 1) for o, r in zip(cpu["ref_orm"], cpu["ref_raw"], strict=True)
        ],
        "cpu_us_blocks": {name: [round(v, 1) for v in values] for name, values in cpu.items()},
        "loadavg_start": [round(v, 2) for v in load_start],
        "loadavg_end": [round(v, 2) for v in load_end],
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

    def spread(values: list[float]) -> str:
        return f"{min(values)} to {max(values)}"

    blocks = result.get("cpu_us_blocks", {})
    lines = [
        "# k-nearest benchmark (benchmarks/knn.py)",
        "",
        f"k = {result['k']} nearest by EUCLIDEAN_DISTANCE over {result['n']:,} vectors of "
        f"{result['dimensions']} dimensions (F32), through the test-bed gateway, mysqlclient, "
        f"Django {result['django']}, Python {result['python']}; {result['queries_per_side']} queries per side, "
        f"in blocks of {result['queries_per_side'] // max(1, len(result['orm_overhead_cpu_us_blocks']))}, "
        f"the sides interleaved (the first side rotating). Load average (1, 5, 15 min) "
        f"{result.get('loadavg_start')} at the start of the timed blocks, {result.get('loadavg_end')} at the end "
        "(a shared 2-core machine).",
        "",
        "Both the ORM and the raw side encode the query vector as the same JSON text (9 significant digits, "
        "exact for F32) and neither reads the stored vectors (the queryset defers them): the same work. "
        "`raw_json` (json.dumps, 17 digits) is the baseline of the first measurement, shown for reference.",
        "",
        "| | client CPU µs / query (median block) | spread of blocks | wall ms / query |",
        "| --- | ---: | ---: | ---: |",
        f"| ORM queryset (10 model instances) | {result['orm_cpu_us_per_query']} | "
        f"{spread(blocks.get('orm', [0]))} | {result['orm_wall_ms_per_query']} |",
        f"| ORM `Item.objects.nearest()` (10 model instances) | {result['nearest_cpu_us_per_query']} | "
        f"{spread(blocks.get('nearest', [0]))} | {result['nearest_wall_ms_per_query']} |",
        f"| raw SQL, DB-API cursor (same vector text) | {result['raw_cpu_us_per_query']} | "
        f"{spread(blocks.get('raw', [0]))} | {result['raw_wall_ms_per_query']} |",
        f"| raw SQL, json.dumps of the vector (reference) | {result.get('raw_json_cpu_us_per_query')} | "
        f"{spread(blocks.get('raw_json', [0]))} | {result.get('raw_json_wall_ms_per_query')} |",
        f"| **queryset overhead** | **{result['orm_overhead_cpu_us_per_query']}** (target ≤ {target}: "
        f"{verdict(result['orm_overhead_cpu_us_per_query'])}) | "
        f"{spread(result['orm_overhead_cpu_us_blocks'])} | |",
        f"| **nearest() overhead** | **{result['nearest_overhead_cpu_us_per_query']}** (target ≤ {target}: "
        f"{verdict(result['nearest_overhead_cpu_us_per_query'])}) | "
        f"{spread(result['nearest_overhead_cpu_us_blocks'])} | |",
        "",
        f"Per block, minus raw (µs): queryset {result['orm_overhead_cpu_us_blocks']}, nearest() "
        f"{result['nearest_overhead_cpu_us_blocks']}. Against the json.dumps raw side: queryset "
        f"{result.get('orm_overhead_vs_raw_json_cpu_us_per_query')}, nearest() "
        f"{result.get('nearest_overhead_vs_raw_json_cpu_us_per_query')}.",
        f"Building and compiling the ORM query alone: {result['orm_query_build_and_compile_us']} µs; the same "
        f"queryset shape with a column instead of the distance (Django's own cost for any such query): "
        f"{result.get('reference_query_build_and_compile_us')} µs. Encoding the query vector: "
        f"{result.get('raw_format_us')} µs as 9-digit text, {result['raw_json_dumps_us']} µs with json.dumps.",
        f"Seeding took {result['seed_s']} s. Server CPU during the timed blocks: gateway "
        f"{result['gateway_cpu_s']} s, MariaDB {result['mariadb_cpu_s']} s.",
        f'Django\'s own cost for this queryset shape, measured: the same queryset with `F("id")` where the '
        f"distance was (no vector anywhere) costs {result.get('reference_orm_cpu_us_per_query')} µs against "
        f"{result.get('reference_raw_cpu_us_per_query')} µs for its raw SQL: "
        f"**{result.get('reference_overhead_cpu_us_per_query')} µs** of overhead (blocks "
        f"{result.get('reference_overhead_cpu_us_blocks')}), which the vector queryset cannot go below; "
        "`nearest()` is the k-NN API that skips it.",
        "",
        "Where the ORM's time goes: `profile.txt` (cProfile on the CPU clock, cumulative and own time, "
        "the queryset and nearest()).",
    ]
    (results / "results.md").write_text("\n".join(lines) + "\n")


def main(argv: list[str]) -> int:
    print(json.dumps(run(json.loads(argv[0]))), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
