"""Table census: which of the suite's tables the server accepts, one CREATE at a time.

`python -m tests.django_suite census` runs Django's `runtests.py` once with every app of the list
installed and this module's CensusRunner as TEST_RUNNER. Instead of running tests, it creates a scratch
database and calls the backend's `schema_editor().create_model()` for every concrete model, each in
its own schema editor, recording success or the server's refusal. One refused table makes a whole app's
test database fail in a normal run (the first error stops `migrate`), so this shows every layout problem
at once rather than the first one per app. Output: JSON lines (one per model) and a markdown summary.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from django.conf import settings
from django.test.runner import DiscoverRunner


class CensusRunner(DiscoverRunner):
    def run_tests(self, test_labels: Any, **kwargs: Any) -> int:
        from django.apps import apps
        from django.db import connections

        self.setup_test_environment()
        out_path = Path(settings.DJANGO_SUITE_RECORD_DIR) / "census.jsonl"
        out_path.parent.mkdir(parents=True, exist_ok=True)
        conn = connections["default"]
        db = str(conn.settings_dict["TEST"].get("NAME") or "census") + "_census"
        with conn._nodb_cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {conn.ops.quote_name(db)}")
            cur.execute(f"CREATE DATABASE {conn.ops.quote_name(db)}")
        conn.close()
        conn.settings_dict["NAME"] = db
        n_bad = 0
        with open(out_path, "w") as out:
            for model in apps.get_models():
                meta = model._meta
                if not meta.managed or meta.proxy or meta.swapped or not meta.can_migrate(conn):
                    continue  # as syncdb: required_db_features the backend lacks keep a model out
                rec: dict[str, Any] = {
                    "app": meta.app_label,
                    "model": meta.object_name,
                    "table": meta.db_table,
                }
                sql: list[str] = []
                try:
                    with conn.schema_editor(collect_sql=False) as editor:
                        editor.create_model(model)
                    rec["ok"] = True
                except Exception as exc:
                    n_bad += 1
                    rec["ok"] = False
                    rec["error"] = f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}"[:600]
                    try:
                        with conn.schema_editor(collect_sql=True) as editor:
                            editor.create_model(model)
                        sql = [s for s in editor.collected_sql if s.upper().startswith("CREATE")]
                    except Exception as exc2:  # the SQL itself could not be built
                        sql = [f"(no SQL: {exc2})"]
                    rec["sql"] = sql[:4]
                out.write(json.dumps(rec) + "\n")
                out.flush()
        with conn._nodb_cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {conn.ops.quote_name(db)}")
        self.teardown_test_environment()
        print(f"census: {n_bad} models refused; records in {out_path}")
        return 0


# Names in server messages: `quoted`, 'word', and Django's generated index names (..._1a2b3c4d[_uniq]).
_TABLE_IN_ERROR = re.compile(r"`[^`]*`|'[\w$]+'|\b\w*_[0-9a-f]{8}(?:_uniq)?\b")


_NEAR = re.compile(r"near '.*", re.S)  # MariaDB's syntax-error excerpt
_DOTTED = re.compile(r"\b[a-z_]+\.[A-Z]\w*\.\w+\b")  # app.Model.field


def summarise(lines: list[str]) -> str:
    """Markdown summary of census.jsonl: refusals by normalised message, with example tables."""
    recs = [json.loads(x) for x in lines if x.strip()]
    ok = sum(1 for r in recs if r.get("ok"))
    bad = [r for r in recs if not r.get("ok")]
    by_msg: Counter[str] = Counter()
    examples: dict[str, list[str]] = defaultdict(list)
    by_app: Counter[str] = Counter()
    for r in bad:
        key = _NEAR.sub("near …", _DOTTED.sub("?", _TABLE_IN_ERROR.sub("?", r.get("error", ""))))[:200]
        by_msg[key] += 1
        by_app[r["app"]] += 1
        if len(examples[key]) < 4:
            examples[key].append(r["table"])
    lines_out = [
        f"Tables: {len(recs)}; created: {ok}; refused: {len(bad)}.",
        "",
        "| refused | server message (names blanked) | example tables |",
        "|---:|---|---|",
    ]
    for key, n in by_msg.most_common():
        lines_out.append(f"| {n} | {key.replace('|', '/')} | {', '.join(examples[key])} |")
    lines_out += ["", "Refused tables per app: " + ", ".join(f"{a} {n}" for a, n in by_app.most_common())]
    return "\n".join(lines_out) + "\n"
