"""Create and seed the benchmark table: `BENCH_DB=... python -m benchmarks.seed IDS_FILE ROWS`."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    os.environ["BENCH_PATH"] = "stock0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
    import django

    django.setup()
    from django.db import connection

    from benchmarks.benchapp.models import Item

    ids_file, rows = Path(argv[0]), int(argv[1])
    with connection.schema_editor() as editor:
        editor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(Item._meta.db_table)}")
        editor.create_model(Item)
    Item.objects.bulk_create(
        [Item(name=f"item {i}", value=i, note="n" * (i % 200)) for i in range(rows)], batch_size=2000
    )
    ids = list(Item.objects.order_by("id").values_list("id", flat=True))
    if len(ids) != rows:
        raise SystemExit(f"seeded {len(ids)} rows, wanted {rows}")
    ids_file.write_text(json.dumps(ids))
    connection.close()
    print(json.dumps({"rows": len(ids)}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
