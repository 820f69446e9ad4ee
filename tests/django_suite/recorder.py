"""The test runner that `runtests.py` uses under our settings (TEST_RUNNER): Django's DiscoverRunner whose
result also writes one JSON line per outcome, so the parent needs no parsing of unittest's text output.

Runs inside Django's `runtests.py` process. The record file is `<DJANGO_SUITE_RECORD_DIR>/<pid>.jsonl`;
the parent knows the pid of the process it started. With `--parallel N` the workers' events are replayed
on the parent's result, so the parent process writes every line.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import time
import traceback
import unittest
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.test.runner import DiscoverRunner

ExcInfo = tuple[type[BaseException], BaseException, Any]


RECORD_DIR: Path | None = None  # set by unit tests; otherwise settings.DJANGO_SUITE_RECORD_DIR


def _open_record() -> IO[str]:
    record_dir = RECORD_DIR or Path(getattr(settings, "DJANGO_SUITE_RECORD_DIR", "."))
    record_dir.mkdir(parents=True, exist_ok=True)
    return open(record_dir / f"{os.getpid()}.jsonl", "a", encoding="utf-8", buffering=1)


_STREAM: IO[str] | None = None


def _emit(rec: dict[str, Any]) -> None:
    global _STREAM
    if _STREAM is None:
        _STREAM = _open_record()
        atexit.register(_STREAM.close)
    _STREAM.write(json.dumps(rec, default=str) + "\n")
    _STREAM.flush()


def reset_stream() -> None:
    """Close the record file (the next record opens a new one); for unit tests."""
    global _STREAM
    if _STREAM is not None:
        _STREAM.close()
        _STREAM = None


def _iter_ids(suite: unittest.TestSuite | unittest.TestCase) -> list[str]:
    if isinstance(suite, unittest.TestCase):
        return [suite.id()]
    ids: list[str] = []
    for item in suite:
        ids.extend(_iter_ids(item))
    return ids


def _root_cause(exc: BaseException) -> BaseException:
    """The first exception of a chain (__cause__ / __context__), e.g. the server error behind
    Django's wrapper or behind a TransactionManagementError."""
    seen = {id(exc)}
    while True:
        nxt = exc.__cause__ or exc.__context__
        if nxt is None or id(nxt) in seen:
            return exc
        seen.add(id(nxt))
        exc = nxt


class RecordingResult(unittest.TextTestResult):
    """TextTestResult (the usual -v2 output stays) plus one JSON line per outcome."""

    xfail_reasons: dict[str, str] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._started: dict[str, float] = {}

    def _seconds(self, test: unittest.TestCase) -> float:
        t0 = self._started.get(test.id())
        return round(time.perf_counter() - t0, 3) if t0 is not None else 0.0

    def _write(self, test: Any, outcome: str, err: ExcInfo | None = None, reason: str = "") -> None:
        rec: dict[str, Any] = {"event": "test", "id": test.id(), "outcome": outcome}
        if reason:
            rec["reason"] = reason
        if err is not None:
            exc_type, exc_value, _tb = err
            first = str(exc_value).strip().splitlines()
            rec["exc"] = f"{exc_type.__module__}.{exc_type.__qualname__}: {first[0] if first else ''}"[:800]
            root = _root_cause(exc_value)
            if root is not exc_value:
                lines = str(root).strip().splitlines()
                rt = type(root)
                rec["root"] = f"{rt.__module__}.{rt.__qualname__}: {lines[0] if lines else ''}"[:800]
            try:
                rec["detail"] = getattr(self, "_exc_info_to_string")(err, test)[-4000:]  # noqa: B009
            except Exception:  # a broken __str__ must not lose the record
                rec["detail"] = "".join(traceback.format_exception_only(exc_type, exc_value))[-4000:]
        rec["seconds"] = self._seconds(test)
        _emit(rec)

    def startTest(self, test: unittest.TestCase) -> None:
        self._started[test.id()] = time.perf_counter()
        super().startTest(test)

    def addSuccess(self, test: unittest.TestCase) -> None:
        super().addSuccess(test)
        self._write(test, "success")

    def addFailure(self, test: unittest.TestCase, err: Any) -> None:
        super().addFailure(test, err)
        self._write(test, "failure", err)

    def addError(self, test: unittest.TestCase, err: Any) -> None:
        super().addError(test, err)
        self._write(test, "error", err)

    def addSkip(self, test: unittest.TestCase, reason: str) -> None:
        super().addSkip(test, reason)
        self._write(test, "skip", reason=reason)

    def addExpectedFailure(self, test: unittest.TestCase, err: Any) -> None:
        super().addExpectedFailure(test, err)
        tid = test.id()
        self._write(test, "expected_failure", reason=self.xfail_reasons.get(tid, ""))

    def addUnexpectedSuccess(self, test: unittest.TestCase) -> None:
        super().addUnexpectedSuccess(test)
        self._write(test, "unexpected_success")

    def addSubTest(self, test: unittest.TestCase, subtest: unittest.TestCase, err: Any) -> None:
        super().addSubTest(test, subtest, err)
        if err is None:
            return
        outcome = "failure" if issubclass(err[0], test.failureException) else "error"
        # Counted on the parent test: a failing subtest fails the test once.
        self._write(_Named(test.id(), test), outcome, err)


class _Named:
    """Stands for a test under another id (a subtest reported on its parent)."""

    def __init__(self, test_id: str, test: unittest.TestCase) -> None:
        self._id = test_id
        self._test = test
        self.failureException = test.failureException
        self.longMessage = getattr(test, "longMessage", True)
        self.maxDiff = getattr(test, "maxDiff", None)

    def id(self) -> str:
        return self._id

    def __getattr__(self, name: str) -> Any:
        return getattr(self._test, name)


class RecordingRunner(DiscoverRunner):
    """DiscoverRunner that records the planned tests and every outcome (see module docstring)."""

    def build_suite(self, *args: Any, **kwargs: Any) -> Any:
        suite = super().build_suite(*args, **kwargs)
        self._planned = _iter_ids(suite)
        _emit({"event": "planned", "ids": self._planned, "pid": os.getpid(), "argv": sys.argv[1:]})
        return suite

    def setup_databases(self, **kwargs: Any) -> Any:
        old = super().setup_databases(**kwargs)
        # The backend's skip/xfail reasons are known once its features exist (after test DB creation).
        from django.db import connections

        skip_reasons: set[str] = set()
        xfail_by_id: dict[str, str] = {}
        for alias in connections:
            feats = connections[alias].features
            skip_reasons.update(dict(getattr(feats, "django_test_skips", {}) or {}))
            grouped = dict(getattr(feats, "django_test_expected_failures_reasons", {}) or {})
            for reason, ids in grouped.items():
                for tid in ids:
                    xfail_by_id.setdefault(tid, reason)
        RecordingResult.xfail_reasons = xfail_by_id
        _skip_outside_installed_apps(
            dict(getattr(connections["default"].features, "django_test_skips", {}) or {}),
            getattr(self, "_planned", []),
        )
        xfail_reasons = set(xfail_by_id.values())
        _emit(
            {
                "event": "backend",
                "vendor": connections["default"].vendor,
                "skip_reasons": sorted(skip_reasons),
                "xfail_reasons": sorted(xfail_reasons),
            }
        )
        return old

    def get_resultclass(self) -> Any:
        return super().get_resultclass() or RecordingResult

    def setup_test_environment(self, **kwargs: Any) -> None:
        super().setup_test_environment(**kwargs)
        _native_setup()

    def run_suite(self, suite: Any, **kwargs: Any) -> Any:
        result = super().run_suite(suite, **kwargs)
        _emit({"event": "end", "tests_run": result.testsRun})
        if _native_state["on"]:
            from django_singlestore_async.native import statement_counts

            _emit({"event": "native", **statement_counts()})
        return result


def _skip_outside_installed_apps(skips: dict[str, set[str]], planned: list[str]) -> None:
    """Apply the backend's `django_test_skips` to the planned tests: Django's
    `mark_expected_failures_and_skips` runs inside `create_test_db`, so a run whose tests need no
    database (sphinx, template_tests' loaders, ...) never applies them, and it skips apps runtests left
    out of INSTALLED_APPS. Marking a test Django already marked again changes nothing."""
    from django.utils.module_loading import import_string

    planned_set = set(planned)
    prefixes = {p.rsplit(".", 1)[0] for p in planned}  # test classes
    for reason, ids in skips.items():
        for tid in ids:
            if tid not in planned_set and tid not in prefixes:
                continue
            owner_name, _, attr = tid.rpartition(".")
            try:
                owner = import_string(owner_name)
            except ImportError:
                continue
            target = getattr(owner, attr, None)
            if target is not None:
                setattr(owner, attr, unittest.skip(reason)(target))


_native_state = {"on": False}


def _native_setup() -> None:
    """Async-engine legs: Django's async ORM routed natively (runtests.py sets INSTALLED_APPS itself, so
    the engine's app is not installed: its ready() steps run here), and Django's TestCase bound to the
    native path (django_singlestore_async.test.bind_django_test_cases)."""
    from django.db import connections

    if not any(s.get("ENGINE") == "django_singlestore_async" for s in connections.settings.values()):
        return
    from django_singlestore_async import handlers, routing
    from django_singlestore_async import test as native_test

    routing.install()
    handlers.install()
    native_test.bind_django_test_cases()
    _native_state["on"] = True
