"""The sync CRUD set, for this backend and the older one (`django-singlestore` 5.0.1 + singlestoredb).

    .venv/bin/python -m benchmarks.crud '<json>'                          # this checkout's backend
    benchmarks/.venv-older/bin/python -P benchmarks/crud.py '<json>'      # the older backend

`-P` keeps this checkout off sys.path, so the older venv's own `django_singlestore` is imported; only
benchmarks/lib (the model and /proc helpers, no backend) is added. Both run the same Django version
with USE_TZ=False and BigAutoField (what the older backend needs). Each operation is timed separately:
wall seconds, this process's CPU seconds, and the gateway's and MariaDB's CPU seconds. Prints JSON.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))

import benchproc

#: operation -> how many (scaled down by `scale` in the quick run)
OPERATIONS = {"create": 2000, "get": 5000, "bulk_create": 10000, "update": 2000, "iterate": 10000}


def configure(db: dict[str, Any]) -> None:
    import django
    from django.conf import settings

    settings.configure(
        SECRET_KEY="bench",
        USE_TZ=False,
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        INSTALLED_APPS=["benchcrud"],
        DATABASES={
            "default": {
                "ENGINE": "django_singlestore",
                "HOST": db["host"],
                "PORT": int(db["port"]),
                "USER": db["user"],
                "PASSWORD": db["password"],
                "NAME": db["name"],
                "CONN_MAX_AGE": None,
                "OPTIONS": {},
            }
        },
        LOGGING_CONFIG=None,
    )
    django.setup()


def run(spec: dict[str, Any]) -> dict[str, Any]:
    configure(spec["db"])
    import django
    from benchcrud.models import Row
    from django.db import connection

    import django_singlestore

    pids = {k: int(v) for k, v in spec.get("pids", {}).items()}
    scale = float(spec.get("scale", 1.0))
    counts = {op: max(1, int(n * scale)) for op, n in OPERATIONS.items()}
    with connection.schema_editor() as editor:
        editor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(Row._meta.db_table)}")
        editor.create_model(Row)
    rng = random.Random(13)
    results: dict[str, Any] = {}
    created: list[int] = []

    def timed(name: str, n: int, fn: Any) -> None:
        procs0 = benchproc.cpu_snapshot(pids)
        cpu0, t0 = time.process_time(), time.perf_counter()
        fn(n)
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        procs = benchproc.cpu_delta(procs0, benchproc.cpu_snapshot(pids))
        results[name] = {
            "n": n,
            "wall_s": round(wall, 4),
            "client_cpu_s": round(cpu, 4),
            "client_cpu_us_per_op": round(cpu / n * 1e6, 2),
            "wall_us_per_op": round(wall / n * 1e6, 2),
            "gateway_cpu_s": procs.get("gateway"),
            "mariadb_cpu_s": procs.get("mariadb"),
        }

    def create(n: int) -> None:
        for i in range(n):
            created.append(Row.objects.create(name=f"row {i}", value=i).pk)

    def get(n: int) -> None:
        for _ in range(n):
            Row.objects.get(pk=rng.choice(created))

    def bulk(n: int) -> None:
        Row.objects.bulk_create([Row(name=f"bulk {i}", value=i) for i in range(n)])

    def update(n: int) -> None:
        for i in range(n):
            Row.objects.filter(pk=rng.choice(created)).update(value=i)

    def iterate(n: int) -> None:
        seen = sum(1 for _ in Row.objects.all()[:n])
        if seen != n:
            raise RuntimeError(f"iterated {seen} rows, wanted {n}")

    timed("create", counts["create"], create)
    timed("get", counts["get"], get)
    timed("bulk_create", counts["bulk_create"], bulk)
    timed("update", counts["update"], update)
    timed("iterate", counts["iterate"], iterate)
    with connection.schema_editor() as editor:
        editor.delete_model(Row)
    version = getattr(django_singlestore, "__version__", None)
    driver = type(connection.connection).__module__.split(".")[0] if connection.connection else None
    connection.close()
    return {
        "ops": results,
        "backend_file": str(Path(django_singlestore.__file__).parent),
        "backend_version": version,
        "driver": driver,
        "django": django.get_version(),
        "python": sys.version.split()[0],
    }


def main(argv: list[str]) -> int:
    print(json.dumps(run(json.loads(argv[0]))), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
