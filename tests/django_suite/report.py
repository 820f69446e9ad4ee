"""RESULTS.md: per-leg totals and pass rate, the per-app table, skips compared with the older backend,
and every remaining failure with its cause (the exception line; `causes.json` adds a human diagnosis)."""

from __future__ import annotations

import ast
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.django_suite import results as R

SUITE_DIR = Path(__file__).resolve().parent
GOAL = 0.97
STRICT_GOAL = 0.95

# The older backend (singlestore-labs/django-singlestore 5.0.1) per Django test module: the entries of
# its features.py `django_test_skips` (a class or a test each) and `django_test_expected_failures`,
# counted with `count_upstream_entries()` on the 5.0.1 wheel from PyPI (`pip download --no-deps
# django-singlestore==5.0.1`). Modules not listed have no entry.
UPSTREAM_SKIPS: dict[str, int] = {
    "schema": 40, "migrations": 34, "serializers": 31, "fixtures": 19, "aggregation": 13,
    "expressions": 12, "get_or_create": 11, "db_functions": 11, "backends": 7, "queries": 7,
    "annotations": 4, "admin_filters": 3, "signals": 3, "m2m_through": 2, "aggregation_regress": 2,
    "test_runner": 2, "servers": 2, "fixtures_regress": 1, "model_fields": 1, "transactions": 1,
    "inspectdb": 1, "known_related_objects": 1, "filtered_relation": 1, "async": 1, "lookup": 1,
    "expressions_case": 1, "ordering": 1, "generic_relations_regress": 1, "admin_views": 1,
    "datetimes": 1, "queryset_pickle": 1, "test_utils": 1, "utils_tests": 1,
}  # fmt: skip
UPSTREAM_XFAILS: dict[str, int] = {
    "delete": 18, "force_insert_update": 6, "queries": 6, "update_only_fields": 4, "bulk_create": 4,
    "delete_regress": 3, "model_inheritance": 3, "admin_views": 2, "expressions": 2, "introspection": 2,
    "lookup": 1, "order_with_respect_to": 1, "contenttypes_tests": 1, "generic_relations": 1,
    "basic": 1, "many_to_one_null": 1, "cache": 1, "schema": 1, "many_to_many": 1, "model_fields": 1,
    "utils_tests": 1, "field_defaults": 1, "migrations": 1,
}  # fmt: skip


def count_upstream_entries(features_source: str) -> tuple[Counter[str], Counter[str]]:
    """Per Django test module, the string entries of the older backend's `django_test_skips` and
    `django_test_expected_failures` (the collections written in those two properties' bodies)."""
    counts: dict[str, Counter[str]] = {
        "django_test_skips": Counter(),
        "django_test_expected_failures": Counter(),
    }
    for node in ast.walk(ast.parse(features_source)):
        if isinstance(node, ast.FunctionDef) and node.name in counts:
            for literal in ast.walk(node):
                if isinstance(literal, ast.Set | ast.List | ast.Tuple):
                    for item in literal.elts:
                        if isinstance(item, ast.Constant) and isinstance(item.value, str):
                            counts[node.name][item.value.split(".", 1)[0].strip()] += 1
    return counts["django_test_skips"], counts["django_test_expected_failures"]


def load_causes(path: Path = SUITE_DIR / "causes.json") -> dict[str, str]:
    """Human diagnoses: {"test id or cluster key prefix": "cause"}; optional."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def cause_for(problem: dict[str, Any], causes: dict[str, str]) -> str:
    tid = problem.get("id", "")
    if tid in causes:
        return causes[tid]
    key = problem.get("key", "")
    # The longest matching prefix wins (a specific diagnosis over a general one).
    best = ""
    for prefix in causes:
        if (key.startswith(prefix) or tid.startswith(prefix + ".")) and len(prefix) > len(best):
            best = prefix
    return causes[best] if best else ""


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def upstream_cell(module: str) -> str:
    return str(UPSTREAM_SKIPS.get(module, 0) + UPSTREAM_XFAILS.get(module, 0))


def render(dirs: Iterable[Path], now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    causes = load_causes()
    legs: list[tuple[dict[str, Any], list[R.AppResult]]] = []
    for d in dirs:
        meta = json.loads((d / "leg.json").read_text())
        meta["dir"] = d.name
        meta["path"] = str(d)
        have = {p.stem for p in (d / "state").glob("*.json")}
        order = [a for a in R.APPS if a in have] + sorted(have - set(R.APPS))
        res = [r for r in (_load(d / "state" / f"{a}.json") for a in order) if r is not None]
        legs.append((meta, res))
    out: list[str] = []
    out.append("# Django's test suite against django-singlestore\n")
    out.append(
        f"Generated {now:%Y-%m-%d %H:%M} UTC by `python -m tests.django_suite report` (`make django-suite`).\n"
        "Pass rate = passed / (passed + failed + errors), expected failures (and unexpected successes) "
        "counted as failures. **Strict** rate = passed / every test, each skip and expected failure counted "
        "as not passed, except Django's own skips of tests written for another database vendor (SQLite, "
        "PostgreSQL, Oracle) and of tests needing a library that cannot be installed here (issue 16; goal "
        f"strict ≥ {STRICT_GOAL:.0%} per Django version over all apps but gis_tests and postgres_tests). "
        'Tests of an app that could not run (database setup failed, crash, timeout) count as errors ("not '
        'run").\n'
    )
    out.append("## Summary\n")
    out.append(
        "| leg | Django | engine | server | backend at | apps run | passed | failed | errors | xfail "
        "| skipped | pass rate | strict rate |\n|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    for meta, res in legs:
        t = R.totals(res)
        out.append(
            f"| {meta['dir']} | {meta['django']} | `{meta['engine']}` | {meta['target']} "
            f"| {meta.get('backend', '?')} "
            f"| {len(res)}/{_planned_apps(meta, len(res))} | {t.passed} | {t.failed + t.unexpected_successes} "
            f"| {t.errors} | {t.expected_failures} | {t.skipped} | **{R.fmt_rate(t.rate)}** "
            f"| **{R.fmt_rate(R.strict_rate(res))}** |"
        )
    out.append("")
    out.append(
        "Skips by kind (strict accounting): **list** = the backend's `django_test_skips` (a SingleStore "
        "limit); **flag** = Django's skip on a feature flag the backend declares; **gateway** = what the test "
        "bed cannot imitate; **environment** = a missing piece of the environment (the backend's "
        '"environment:" reasons); **other vendor** and **library** = excluded from the strict rate; **other** '
        "= Django's remaining conditions (no browser for Selenium, no memcached/redis server, platform...), "
        "counted as not passed.\n"
    )
    out.append(
        "| leg | list | flag | gateway | environment | other vendor | library | other | xfail |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    for meta, res in legs:
        k: Counter[str] = Counter()
        for r in res:
            k.update(R.strict_counts(r.skip_reasons))
        t = R.totals(res)
        out.append(
            f"| {meta['dir']} | {k[R.S2]} | {k[R.S2_FLAG]} | {k[R.GATEWAY]} | {k[R.ENV]} | {k[R.VENDOR]} "
            f"| {k[R.LIBRARY]} | {k[R.OTHER] + k[R.UNCLASSIFIED]} | {t.expected_failures} |"
        )
    out.append("")
    out.extend(_refusal_skips())
    notes = SUITE_DIR / "notes.md"
    if notes.exists():
        out.append("## Notes (hand-written)\n")
        out.append(notes.read_text().rstrip() + "\n")
    out.append(
        "Skip kinds (from the reason text; convention in README.md): **S2 (list)** = "
        '`django_test_skips` reasons starting with "SingleStore" (a SingleStore limit); **S2 (flag)** = '
        "Django's own skips on a feature flag the backend declares false/true; **gateway** = what the "
        'test bed cannot imitate (reason starts with "gateway:"); **env** = a missing piece of the '
        "environment (\"environment:\"); **other** = Django's own conditions (another vendor's test, a "
        "missing optional library) and backend reasons that follow no convention.\n"
    )
    for meta, res in legs:
        out.append(f"## {meta['dir']}: Django {meta['django']}, `{meta['engine']}` on {meta['target']}\n")
        if not res:
            out.append("_No app has finished yet._\n")
            continue
        out.append(R.app_table(res))
        native: dict[str, int] = {}
        for r in res:
            for kind, n in r.native_statements.items():
                native[kind] = native.get(kind, 0) + n
        if native:
            out.append(
                f"Native async ORM: {native.get('pool', 0)} statements served by the pool, "
                f"{native.get('test_connection', 0)} on TestCase connections borrowed by the native path "
                f"(`django_singlestore_async.test`).\n"
            )
        missing = [a for a in _apps_of(meta) if a not in {r.app for r in res}]
        if missing:
            out.append(f"Not run yet: {', '.join(missing)}.\n")
        census = d_of(meta) / "census.md"
        if census.exists():
            out.append("### Table census (`python -m tests.django_suite census`)\n")
            out.append(
                "Every concrete model of the app list (and the contrib apps runtests installs) created one "
                "by one through the server; a single refused table stops an app's test-database creation.\n"
            )
            out.append(census.read_text())
        out.extend(_refusals(res))
        out.extend(_comparison(res))
        out.extend(_gateway_and_env(res))
        out.extend(_failures(res, causes))
    return "\n".join(out).rstrip() + "\n"


def _apps_of(meta: dict[str, Any]) -> list[str]:
    """The leg's full app list (every app of its Django release but the excluded ones)."""
    from tests.django_suite import run

    tests_dir = run.SRC / f"django-{meta['django']}" / "tests"
    return run.all_apps(tests_dir) if tests_dir.is_dir() else list(R.APPS)


def _planned_apps(meta: dict[str, Any], ran: int) -> int:
    return max(ran, len(_apps_of(meta)))


def _refusals(res: list[R.AppResult]) -> list[str]:
    """Failing tests that hit a gateway refusal rule: the planner-refusal list, detected, not carried."""
    from tests.django_suite import refusals

    hits = {tid: hit for r in res for tid, hit in refusals.detected(r.problems).items()}
    out = [
        "### Refusals detected (issue 21)\n",
        "Failing tests whose query the gateway refused with one of SingleStore's query-shape errors "
        "(`tests/testbed/gateway/query_rules.py`; refusal rules on, the default). *assumption* = a shape known "
        "only from the older backend's skip texts. New entries here belong in `DETECTED_REFUSALS` "
        "(`django_singlestore/test_skips.py`); a run with those skips lifted: `--lift-refusal-skips`.\n",
    ]
    if not hits:
        out.append("None.\n")
        return out
    out.append("| test | refused shape (gateway rule) | code | server text |\n|---|---|---:|---|")
    for tid, hit in sorted(hits.items()):
        rule = hit.rule + (" *(assumption)*" if hit.assumption else "")
        out.append(f"| `{tid}` | {rule} | {hit.code} | {_md(hit.text)[:160]} |")
    out.append("")
    return out


def _refusal_skips() -> list[str]:
    """The planner-refusal skips as the backend carries them: detected by the runner, test -> shape."""
    try:
        from django_singlestore.test_skips import DETECTED_REFUSALS, REFUSAL_REASONS_BY_RULE
    except ImportError:
        return []
    out = [
        "## Planner-refusal skips (detected, issue 21)\n",
        "`DETECTED_REFUSALS` in `django_singlestore/test_skips.py`: the tests whose queries the gateway refused "
        "with one of SingleStore's query-shape errors when they ran unskipped (the refused shape is the "
        "gateway rule; its code and text are in `tests/testbed/gateway/errors.py`). Nothing is carried over "
        "from the older backend.\n",
        "| test | refused shape | skip reason |\n|---|---|---|",
    ]
    for test, rule in sorted(DETECTED_REFUSALS.items()):
        out.append(f"| `{test}` | {rule} | {_md(REFUSAL_REASONS_BY_RULE.get(rule, ''))} |")
    out.append("")
    return out


def d_of(meta: dict[str, Any]) -> Path:
    return Path(meta["path"])


def _load(path: Path) -> R.AppResult | None:
    try:
        return R.AppResult.from_json(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _comparison(res: list[R.AppResult]) -> list[str]:
    out = [
        "### SingleStore-limit skips and expected failures vs the older backend\n",
        "Ours: skips and expected failures of the SingleStore kind that the backend lists "
        "(`django_test_skips` / `django_test_expected_failures`); flag skips are shown apart. Older: "
        "singlestore-labs/django-singlestore 5.0.1 on its modified copy of the suite: the entries of its features.py per module. "
        "Gateway-limit skips are left out of this comparison.\n",
        "| module | ours: S2 skips + S2 xfails | ours: flag skips | older: skips + xfails |",
        "|---|---:|---:|---:|",
    ]
    for r in res:
        ours = r.skips_by_kind.get(R.S2, 0) + r.xfails_by_kind.get(R.S2, 0)
        out.append(f"| {r.app} | {ours} | {r.skips_by_kind.get(R.S2_FLAG, 0)} | {upstream_cell(r.app)} |")
    out.append("")
    return out


def _gateway_and_env(res: list[R.AppResult]) -> list[str]:
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    for r in res:
        for key, n in r.skip_reasons.items():
            kind, _, reason = key.partition(" | ")
            by_kind[kind][reason] += n
    out = ["### Skip reasons\n"]
    for kind in (R.GATEWAY, R.ENV, R.S2, R.S2_FLAG, R.UNCLASSIFIED, R.OTHER):
        reasons = by_kind.get(kind)
        if not reasons:
            continue
        out.append(f"**{kind}** ({sum(reasons.values())})\n")
        for reason, n in reasons.most_common():
            out.append(f"- {n} x {_md(reason)[:300]}")
        out.append("")
    return out


def _failures(res: list[R.AppResult], causes: dict[str, str]) -> list[str]:
    problems = [(r.app, p) for r in res for p in r.problems]
    broken = [r for r in res if r.not_run]
    if not problems and not broken:
        return ["### Failures\n", "None.\n"]
    clusters = R.failure_clusters(res, top=None)
    number = {key: i for i, (key, _n, _ex) in enumerate(clusters, 1)}
    out = [
        "### Failure causes (clusters, biggest first)\n",
        "| # | n | exception (normalised; for wrapped errors the first of the chain) | examples | diagnosis |",
        "|---:|---:|---|---|---|",
    ]
    for key, n, examples in clusters:
        diagnosis = cause_for({"id": "", "key": key}, causes)
        out.append(f"| {number[key]} | {n} | {_md(key)} | {_md(', '.join(examples))} | {_md(diagnosis)} |")
    out.append("")
    if broken:
        out.append("Apps that did not run to the end:\n")
        for r in broken:
            out.append(
                f"- **{r.app}** ({r.status}, rc={r.rc}): {r.not_run} tests not run; {_md(r.setup_error)}"
            )
        out.append("")
    out.append("### Every remaining failure, by cause\n")
    by_key: dict[str, list[str]] = defaultdict(list)
    for _app, p in problems:
        by_key[p.get("key") or p.get("outcome", "?")].append(f"`{p['id']}` ({p['outcome']})")
    out.append(f"<details><summary>{len(problems)} failing tests (cluster numbers as above)</summary>\n")
    for key, ids in sorted(by_key.items(), key=lambda kv: number.get(kv[0], 0)):
        out.append(f"- **#{number.get(key, '?')}** ({len(ids)}): " + ", ".join(sorted(ids)))
    out.append("\n</details>\n")
    return out
