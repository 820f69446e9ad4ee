"""Pure logic of the Django-suite runner: reading a run's records, classifying skips, counting, reporting.

Nothing here needs a server or Django: the unit tests (`test_runner_*.py`) exercise it on made-up records.

Records are JSON lines written by `tests.django_suite.recorder` inside the `runtests.py` process:

    {"event": "planned", "ids": [...]}                    the tests the app's suite holds (before DB setup)
    {"event": "test", "id": ..., "outcome": ..., ...}     one outcome of one test (or of one of its subtests)
    {"event": "end"}                                      the suite ran to its end

Outcomes: success, failure, error, skip, expected_failure, unexpected_success. A test counts once, by its
worst outcome (a failing subtest fails the test). Planned tests with no outcome count as errors ("not run":
the database setup failed, the process crashed or timed out), so a broken app cannot look healthy.

Skip reasons are classified by the prefix convention that `DatabaseFeatures.django_test_skips` keys follow
(see README.md): "SingleStore..." = SingleStore limit, "gateway:" = gateway limit (what MariaDB cannot do),
"environment:" = missing piece of the environment. Django's own feature-flag skips ("Database doesn't
support feature(s): ...") are SingleStore limits declared by flags; every other Django skip (another vendor,
a missing library) is environment.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

# The app list (order kept: cheap, core apps first).
APPS: tuple[str, ...] = (
    "basic",
    "queries",
    "lookup",
    "aggregation",
    "aggregation_regress",
    "annotations",
    "expressions",
    "expressions_window",
    "model_fields",
    "bulk_create",
    "update",
    "delete",
    "delete_regress",
    "select_related",
    "prefetch_related",
    "many_to_one",
    "many_to_many",
    "one_to_one",
    "m2m_through",
    "transactions",
    "transaction_hooks",
    "get_or_create",
    "model_inheritance",
    "custom_pk",
    "dates",
    "datetimes",
    "timezones",
    "db_functions",
    "ordering",
    "null_queries",
    "schema",
    "migrations",
    "inspectdb",
    "introspection",
    "backends",
    "async",
    "async_queryset",
    "model_forms",
    "fixtures",
    "serializers",
    "auth_tests",
    "contenttypes_tests",
    "sessions_tests",
    "admin_views",
)

# Skip / expected-failure kinds.
S2 = "singlestore"  # listed in django_test_skips / expected failures with a "SingleStore..." reason
S2_FLAG = "flag"  # Django's skipUnlessDBFeature / skipIfDBFeature: a feature flag the backend declares
GATEWAY = "gateway"  # what the gateway (MariaDB behind it) cannot imitate
ENV = "environment"  # a missing piece of the environment (explicit "environment:" reason)
OTHER = "other"  # Django's own conditions: another vendor's test, a missing library, a platform
UNCLASSIFIED = "unclassified"  # a backend reason that follows no prefix convention: fix the reason text
KINDS: tuple[str, ...] = (S2, S2_FLAG, GATEWAY, ENV, OTHER, UNCLASSIFIED)

_FLAG_PREFIXES = (
    "Database doesn't support feature",
    "Database has feature",
    "Database doesn't support any of the feature",
)

OUTCOMES: tuple[str, ...] = (
    "error",
    "failure",
    "unexpected_success",
    "expected_failure",
    "skip",
    "success",
)
_RANK = {name: i for i, name in enumerate(OUTCOMES)}  # lower rank = worse, wins


def classify_reason(reason: str, backend_reasons: Iterable[str] = ()) -> str:
    """Kind of a skip (or expected-failure) reason; `backend_reasons` are the backend's own keys."""
    text = reason.strip()
    low = text.lower()
    if text.startswith("SingleStore"):
        return S2
    if low.startswith(("gateway:", "gateway limit", "the gateway")):
        return GATEWAY
    if low.startswith("environment:"):
        return ENV
    if text.startswith(_FLAG_PREFIXES):
        return S2_FLAG
    if text in set(backend_reasons):
        return UNCLASSIFIED
    return OTHER


# The strict rate's exclusions (issue 16): Django's own skips of tests written for another database vendor,
# and of tests that need a library that cannot be installed here. Everything else, every backend skip,
# flag skip and expected failure included, counts as not passed; so do Django's skips naming MySQL or
# MariaDB (this backend's vendor is "mysql": such a skip is one of ours, not another vendor's test).
VENDOR = "vendor"
LIBRARY = "library"
_VENDOR_RE = re.compile(
    r"\b(sqlite3?|postgres|postgresql|psycopg\d?|oracle|mssql|cx_oracle|oracledb|spatialite|postgis)\b",
    re.I,
)
_LIBRARY_RE = re.compile(
    r"no module named|(?:is|are) not installed|not installed\b|requires? (?:the )?\w+ (?:library|module|package)",
    re.I,
)


def strict_kind(kind: str, reason: str) -> str:
    """Refine Django's own ("other") skips: another vendor's test, a library missing here, or other."""
    if kind != OTHER:
        return kind
    if _LIBRARY_RE.search(reason):
        return LIBRARY
    if _VENDOR_RE.search(reason):
        return VENDOR
    return OTHER


def strict_counts(skip_reasons: Mapping[str, int]) -> Counter[str]:
    """Skips per strict kind from an AppResult's {"kind | reason": n}."""
    out: Counter[str] = Counter()
    for key, n in skip_reasons.items():
        kind, _, reason = key.partition(" | ")
        out[strict_kind(kind, reason)] += n
    return out


def strict_rate(results: Iterable[AppResult]) -> float | None:
    """passed / (every test but another vendor's and those needing a library that cannot be installed):
    skips and expected failures count as not passed."""
    num = den = 0
    for r in results:
        k = strict_counts(r.skip_reasons)
        num += r.passed
        den += r.rate_denominator + r.skipped - k[VENDOR] - k[LIBRARY]
    return None if den == 0 else num / den


def summary_kind(kind: str) -> str:
    """The issue's three-way split: SingleStore limit / gateway limit / environment."""
    if kind in (S2, S2_FLAG):
        return S2
    if kind == GATEWAY:
        return GATEWAY
    return ENV


@dataclass
class TestOutcome:
    id: str
    outcome: str
    reason: str = ""
    kind: str = ""
    exc: str = ""  # "ExceptionType: normalised message" for failures and errors
    root: str = ""  # the first exception of the chain, when it differs
    detail: str = ""  # traceback tail
    seconds: float = 0.0


@dataclass
class AppResult:
    app: str
    status: str = "done"  # done | crashed | timeout | setup_failed
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    expected_failures: int = 0
    unexpected_successes: int = 0
    not_run: int = 0  # planned tests without an outcome; also counted in errors
    planned: int = 0  # tests the app's suite held (0: the run broke before the suite was built)
    skips_by_kind: dict[str, int] = field(default_factory=dict)
    xfails_by_kind: dict[str, int] = field(default_factory=dict)
    skip_reasons: dict[str, int] = field(default_factory=dict)  # "kind | reason" -> count
    problems: list[dict[str, Any]] = field(default_factory=list)  # failures, errors, unexpected successes
    seconds: float = 0.0
    rc: int | None = None
    ran: int | None = None  # "Ran N tests" from the text log, when present
    log_tail: str = ""
    setup_error: str = ""  # the last exception line of the log when the run broke outside a test
    # Async-engine legs: statements the native async ORM sent ("pool": over pooled connections,
    # "test_connection": over a TestCase's borrowed mysqlclient connection); empty on other legs.
    native_statements: dict[str, int] = field(default_factory=dict)

    @property
    def rate_denominator(self) -> int:
        # passed / (passed + failed + errors); expected failures and unexpected successes count as failures.
        return self.passed + self.failed + self.errors + self.expected_failures + self.unexpected_successes

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AppResult:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


def read_records(lines: Iterable[str]) -> list[dict[str, Any]]:
    """JSON lines; a torn last line (the process died mid-write) is dropped."""
    out: list[dict[str, Any]] = []
    for line in lines:
        line = line.strip()
        if not line:
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict):
            out.append(rec)
    return out


_NUM = re.compile(r"(?<![\w.])\d+(?![\w.])")
_BACKTICKED = re.compile(r"`[^`]*`")
_TEST_DB = re.compile(r"\btest_djs_\w+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")


def normalise_message(exc: str, limit: int = 180) -> str:
    """Cluster key for an exception line: identifiers, numbers and addresses blanked; the leading
    MySQL error code `(1706, ...` kept."""
    head = ""
    m = re.match(r"^([\w.]+: \(\d+, )(.*)$", exc, re.S)
    if m:
        head, exc = m.group(1), m.group(2)
    body = _TEST_DB.sub("<db>", exc)
    body = _HEX.sub("0x?", body)
    body = _BACKTICKED.sub("`?`", body)
    body = _NUM.sub("N", body)
    body = " ".join(body.split())
    text = head + body
    return text if len(text) <= limit else text[: limit - 1] + "…"


_TME = "TransactionManagementError"


def cluster_key(exc: str, root: str = "") -> str:
    """What a failure is grouped by: the exception, or for Django's wrapper/transaction errors the
    exception that started the chain (a TransactionManagementError only says an earlier query failed)."""
    if root and (
        _TME in exc.split(":", 1)[0] or exc.split(":", 1)[-1].strip() == root.split(":", 1)[-1].strip()
    ):
        prefix = "after an earlier error: " if _TME in exc.split(":", 1)[0] else ""
        return prefix + normalise_message(root)
    return normalise_message(exc)


def summarise(
    app: str,
    records: list[dict[str, Any]],
    *,
    backend_reasons: Iterable[str] = (),
    status: str = "done",
    seconds: float = 0.0,
    rc: int | None = None,
    log_text: str = "",
    size_hint: int | None = None,
) -> AppResult:
    """Count one app's records. Each test id counts once, by its worst outcome. `size_hint`: the app's
    number of tests from an earlier run, used when this run broke before planning any."""
    reasons = set(backend_reasons)
    for rec in records:
        if rec.get("event") == "backend":
            reasons.update(rec.get("skip_reasons", []))
            reasons.update(rec.get("xfail_reasons", []))
    planned: list[str] = []
    best: dict[str, TestOutcome] = {}
    ended = False
    native: Counter[str] = Counter()
    for rec in records:
        event = rec.get("event")
        if event == "native":
            native.update({k: int(v) for k, v in rec.items() if k not in ("event", "pid")})
        elif event == "planned":
            planned = [str(i) for i in rec.get("ids", [])]
        elif event == "end":
            ended = True
        elif event == "test":
            outcome = str(rec.get("outcome", "error"))
            if outcome not in _RANK:
                outcome = "error"
            tid = str(rec.get("id", "?"))
            reason = str(rec.get("reason", "") or "")
            kind = ""
            if outcome == "skip":
                kind = classify_reason(reason, reasons)
            elif outcome == "expected_failure":
                kind = classify_reason(reason, reasons) if reason else UNCLASSIFIED
            new = TestOutcome(
                id=tid,
                outcome=outcome,
                reason=reason,
                kind=kind,
                exc=str(rec.get("exc", "") or ""),
                root=str(rec.get("root", "") or ""),
                detail=str(rec.get("detail", "") or ""),
                seconds=float(rec.get("seconds", 0.0) or 0.0),
            )
            old = best.get(tid)
            if old is None or _RANK[new.outcome] < _RANK[old.outcome]:
                best[tid] = new

    result = AppResult(app=app, seconds=round(seconds, 1), rc=rc, native_statements=dict(native))
    ran = parse_ran(log_text)
    result.ran = ran
    result.log_tail = "\n".join(log_text.splitlines()[-40:]) if log_text else ""
    skip_kinds: Counter[str] = Counter()
    xfail_kinds: Counter[str] = Counter()
    skip_reasons: Counter[str] = Counter()
    for out in best.values():
        if out.outcome == "success":
            result.passed += 1
        elif out.outcome == "failure":
            result.failed += 1
        elif out.outcome == "error":
            result.errors += 1
        elif out.outcome == "skip":
            result.skipped += 1
            skip_kinds[out.kind] += 1
            skip_reasons[f"{out.kind} | {out.reason}"] += 1
        elif out.outcome == "expected_failure":
            result.expected_failures += 1
            xfail_kinds[out.kind] += 1
        elif out.outcome == "unexpected_success":
            result.unexpected_successes += 1
        if out.outcome in ("failure", "error", "unexpected_success"):
            result.problems.append(
                {
                    "id": out.id,
                    "outcome": out.outcome,
                    "exc": out.exc or ("unexpected success" if out.outcome == "unexpected_success" else ""),
                    "root": out.root,
                    "key": cluster_key(out.exc, out.root) if out.exc else out.outcome,
                    "detail": out.detail[-1500:],
                }
            )
    # Planned tests that never reported: the run broke before reaching them.
    missing = [tid for tid in planned if tid not in best and not _covered_by_holder(tid, best)]
    if missing:
        result.not_run = len(missing)
        result.errors += len(missing)
    result.planned = len(planned)
    if not planned and not best and not ended:
        # The run broke before the suite was built (the backend did not import, settings failed...):
        # count the app's known size (from an earlier run), at least one test, as not run.
        result.not_run = max(1, size_hint or 0)
        result.errors += result.not_run
    if status == "done":
        if not best and not ended:
            status = "setup_failed"  # nothing reported: the database setup (or the import) broke
        elif not ended:
            status = "crashed"
    result.status = status
    if status != "done" or result.not_run:
        result.setup_error = last_exception_line(log_text)
    result.skips_by_kind = dict(sorted(skip_kinds.items()))
    result.xfails_by_kind = dict(sorted(xfail_kinds.items()))
    result.skip_reasons = dict(skip_reasons.most_common())
    result.problems.sort(key=lambda p: p["id"])
    return result


def _covered_by_holder(test_id: str, best: Mapping[str, TestOutcome]) -> bool:
    """A class-level outcome ("setUpClass (app.tests.Class)") stands for all the class's tests."""
    cls = test_id.rsplit(".", 1)[0]
    return any(
        key.endswith(f"({cls})") and key.split(" ", 1)[0] in ("setUpClass", "tearDownClass")
        for key in best
        if " (" in key
    )


_RAN = re.compile(r"^Ran (\d+) tests? in [\d.]+s$", re.M)
_FINAL = re.compile(r"^(OK|FAILED)(?: \((.*)\))?$", re.M)


_EXC_LINE = re.compile(
    r"^((?:(?:[a-z_]\w*\.)+[A-Z]\w*|[A-Z]\w*(?:Error|Exception|Exit|Interrupt|Warning|Failure))(?::.*)?)$",
    re.M,
)


def last_exception_line(text: str) -> str:
    """The last "SomeError: message" line of a log (a traceback's last line), or ""."""
    found = _EXC_LINE.findall(text)
    return found[-1].strip()[:500] if found else ""


def parse_ran(text: str) -> int | None:
    """The N of unittest's closing "Ran N tests in X.XXXs" line (the last one), or None."""
    found = _RAN.findall(text)
    return int(found[-1]) if found else None


def parse_final_line(text: str) -> dict[str, int] | None:
    """unittest's closing "OK (skipped=3)" / "FAILED (failures=1, errors=2, ...)" as a dict, or None."""
    found = _FINAL.findall(text)
    if not found:
        return None
    verdict, inner = found[-1]
    counts: dict[str, int] = {"ok": 1 if verdict == "OK" else 0}
    for part in (inner or "").split(","):
        if "=" in part:
            key, _, val = part.strip().partition("=")
            if val.strip().isdigit():
                counts[key.strip().replace(" ", "_")] = int(val)
    return counts


@dataclass
class Totals:
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    expected_failures: int = 0
    unexpected_successes: int = 0
    not_run: int = 0
    seconds: float = 0.0
    apps: int = 0

    @property
    def denominator(self) -> int:
        return self.passed + self.failed + self.errors + self.expected_failures + self.unexpected_successes

    @property
    def rate(self) -> float | None:
        d = self.denominator
        return None if d == 0 else self.passed / d


def pass_rate(result: AppResult | Totals) -> float | None:
    """passed / (passed + failed + errors), expected failures and unexpected successes counted as
    failures; None when nothing ran."""
    if isinstance(result, AppResult):
        d = result.rate_denominator
        return None if d == 0 else result.passed / d
    return result.rate


def totals(results: Iterable[AppResult]) -> Totals:
    t = Totals()
    for r in results:
        t.apps += 1
        t.passed += r.passed
        t.failed += r.failed
        t.errors += r.errors
        t.skipped += r.skipped
        t.expected_failures += r.expected_failures
        t.unexpected_successes += r.unexpected_successes
        t.not_run += r.not_run
        t.seconds += r.seconds
    return t


def fmt_rate(rate: float | None) -> str:
    """One decimal, rounded down, so a rate just under a goal never prints as the goal."""
    return "-" if rate is None else f"{math.floor(1000 * rate) / 10:.1f}%"


def app_table(results: list[AppResult]) -> str:
    """The per-app markdown table."""
    head = (
        "| app | status | passed | failed | errors | skip S2 (list) | skip S2 (flag) | skip gateway "
        "| skip env | skip other | xfail | pass rate | time |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    rows = []
    for r in results:
        k = r.skips_by_kind
        errors = f"{r.errors}" + (f" ({r.not_run} not run)" if r.not_run else "")
        failed = f"{r.failed}" + (f" (+{r.unexpected_successes} unexp. ok)" if r.unexpected_successes else "")
        rows.append(
            f"| {r.app} | {r.status} | {r.passed} | {failed} | {errors} | {k.get(S2, 0)} | {k.get(S2_FLAG, 0)} "
            f"| {k.get(GATEWAY, 0)} | {k.get(ENV, 0)} | {k.get(OTHER, 0) + k.get(UNCLASSIFIED, 0)} "
            f"| {r.expected_failures} | {fmt_rate(pass_rate(r))} | {_fmt_time(r.seconds)} |"
        )
    t = totals(results)
    k_all: Counter[str] = Counter()
    for r in results:
        k_all.update(r.skips_by_kind)
    rows.append(
        f"| **total** ({t.apps} apps) | | **{t.passed}** | **{t.failed + t.unexpected_successes}** "
        f"| **{t.errors}** | {k_all.get(S2, 0)} | {k_all.get(S2_FLAG, 0)} | {k_all.get(GATEWAY, 0)} "
        f"| {k_all.get(ENV, 0)} | {k_all.get(OTHER, 0) + k_all.get(UNCLASSIFIED, 0)} | {t.expected_failures} "
        f"| **{fmt_rate(t.rate)}** | {_fmt_time(t.seconds)} |"
    )
    return head + "\n".join(rows) + "\n"


def _fmt_time(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def failure_clusters(results: Iterable[AppResult], top: int | None = 25) -> list[tuple[str, int, list[str]]]:
    """(cluster key, count, example test ids) for failures/errors, biggest first."""
    counts: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    for r in results:
        for p in r.problems:
            key = p.get("key") or p.get("outcome", "?")
            counts[key] += 1
            examples.setdefault(key, [])
            if len(examples[key]) < 3:
                examples[key].append(p["id"])
        if r.not_run:
            key = f"not run ({r.status})" + (f": {normalise_message(r.setup_error)}" if r.setup_error else "")
            counts[key] += r.not_run
            examples.setdefault(key, [])
            if len(examples[key]) < 3:
                examples[key].append(r.app)
    return [(k, n, examples[k]) for k, n in counts.most_common(top)]
