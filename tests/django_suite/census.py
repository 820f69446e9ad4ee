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


# ------------------------------------------------------------------------------------------- preview
# A diagnostic, never a result: to see the failures that lie behind test-database creation before the
# backend's automatic layout exists, `python -m tests.django_suite preview` pre-creates an app's test
# databases with the backend's own DDL, and where the server refuses a table, retries it as a ROWSTORE
# REFERENCE table with its deferred UNIQUE constraints folded into CREATE TABLE (a stand-in layout).
# Then runtests.py runs with --keepdb. Legs are named *-preview and kept out of RESULTS.md.

_ALTER_UNIQUE = re.compile(r"^ALTER TABLE (`[^`]+`) ADD CONSTRAINT (`[^`]+`) UNIQUE \((.*)\);?$", re.S)
_CREATE = re.compile(r"^CREATE (?:[A-Z ]*?)TABLE (`[^`]+`) \(", re.S)


def stand_in_layout(statements: list[str]) -> tuple[list[str], list[str]]:
    """(tables created, SQL to run): every CREATE TABLE becomes ROWSTORE REFERENCE and each
    `ALTER TABLE t ADD CONSTRAINT n UNIQUE (...)` folds into t's CREATE as `UNIQUE KEY n (...)`."""
    creates: dict[str, str] = {}
    order: list[str] = []
    rest: list[str] = []
    for stmt in statements:
        stmt = stmt.strip().rstrip(";")
        m = _CREATE.match(stmt)
        if m:
            table = m.group(1)
            creates[table] = "CREATE ROWSTORE REFERENCE TABLE " + stmt[m.end(1) - len(table) :]
            order.append(table)
            continue
        m = _ALTER_UNIQUE.match(stmt)
        if m and m.group(1) in creates:
            body = creates[m.group(1)]
            cut = body.rindex(")")
            creates[m.group(1)] = f"{body[:cut]}, UNIQUE KEY {m.group(2)} ({m.group(3)}){body[cut:]}"
            continue
        rest.append(stmt)
    tables = [t.strip("`") for t in order]
    return tables, [creates[t] for t in order] + rest


class _StandIn(Exception):
    pass


def has_unique_beyond_pk(model: Any) -> bool:
    """Unique fields (OneToOne included), unique_together, UniqueConstraints or an auto M2M table."""
    meta = model._meta
    if any(f.unique and not f.primary_key for f in meta.local_fields):
        return True
    if meta.unique_together or any(type(c).__name__ == "UniqueConstraint" for c in meta.constraints):
        return True
    return any(f.remote_field.through._meta.auto_created for f in meta.local_many_to_many)


class PreviewSetupRunner(DiscoverRunner):
    """Creates the test databases of the installed apps with the stand-in layout; runs no test."""

    def run_tests(self, test_labels: Any, **kwargs: Any) -> int:
        from django.apps import apps
        from django.db import connections

        self.setup_test_environment()
        out_path = Path(settings.DJANGO_SUITE_RECORD_DIR) / "preview-setup.jsonl"
        out_path.parent.mkdir(parents=True, exist_ok=True)
        with open(out_path, "w") as out:
            for alias in ("default", "other"):
                conn = connections[alias]
                db = str(conn.settings_dict["TEST"]["NAME"])
                with conn._nodb_cursor() as cur:
                    cur.execute(f"DROP DATABASE IF EXISTS {conn.ops.quote_name(db)}")
                    cur.execute(f"CREATE DATABASE {conn.ops.quote_name(db)}")
                conn.close()
                conn.settings_dict["NAME"] = db
                for model in apps.get_models():
                    meta = model._meta
                    if not meta.managed or meta.proxy or meta.swapped or not meta.can_migrate(conn):
                        continue
                    rec: dict[str, Any] = {"alias": alias, "table": meta.db_table, "layout": "backend"}
                    try:
                        if has_unique_beyond_pk(model):
                            # Sharded on its unique columns, Model.save() (an UPDATE of every column)
                            # is refused ("UPDATE of a shard key column"): reference table instead.
                            raise _StandIn("unique beyond the primary key")
                        with conn.schema_editor() as editor:
                            editor.create_model(model)
                    except Exception as exc:
                        rec["refused"] = f"{type(exc).__qualname__}: {exc}"[:300]
                        # Django's own MySQL DDL (PRIMARY KEY inline, uniques deferred), not the layout's.
                        from django.db.backends.mysql.schema import DatabaseSchemaEditor as MySQLEditor

                        with MySQLEditor(conn, collect_sql=True) as editor:
                            editor.create_model(model)
                        tables, sql = stand_in_layout(list(editor.collected_sql))
                        rec["layout"] = "stand-in"
                        try:
                            with conn.cursor() as cur:
                                for table in tables:
                                    cur.execute(f"DROP TABLE IF EXISTS {conn.ops.quote_name(table)}")
                                for stmt in sql:
                                    cur.execute(stmt)
                        except Exception as exc2:
                            rec["layout"] = "failed"
                            rec["error"] = f"{type(exc2).__qualname__}: {exc2}"[:300]
                    out.write(json.dumps(rec) + "\n")
                # Tables of migrated apps exist now: record their migrations as applied.
                from django.core.management import call_command

                call_command("migrate", database=alias, fake=True, verbosity=0, interactive=False)
        self.teardown_test_environment()
        return 0
