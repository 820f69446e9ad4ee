"""TEST["RESET"] on a small app's own suite, run by Django's test runner (test database created and
destroyed by the backend's creation): "transaction" (default) breaks the test that catches an
error inside atomic() and queries on; "flush" runs it, and the native path works in both."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.dbtools import ASYNC_ENGINE, alias_settings
from tests.testbed import Testbed

ROOT = Path(__file__).resolve().parents[2]


def run_suite(testbed: Testbed, reset: str | None) -> subprocess.CompletedProcess[str]:
    settings = alias_settings(testbed.master, f"rs_{reset or 'default'}_{os.getpid()}", engine=ASYNC_ENGINE)
    if reset is not None:
        settings["TEST"]["RESET"] = reset
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SINGLESTORE_"))},
        "RESET_APP_DATABASES": json.dumps({"default": settings}),
        "DJANGO_SETTINGS_MODULE": "tests.async_scope.reset_settings",
    }
    return subprocess.run(
        [sys.executable, "-m", "django", "test", "tests.async_scope.resetapp", "--noinput", "-v", "2"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_transaction_mode_breaks_the_caught_error_test(testbed: Testbed) -> None:
    done = run_suite(testbed, None)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "Ran 3 tests" in out
    assert "test_duplicate_is_caught_and_the_test_goes_on" in out and "TransactionManagementError" in out
    assert "FAILED (errors=1)" in out, out
    assert "test_native_path_sees_the_test_data" in out and "test_starts_empty" in out


def test_flush_mode_runs_the_whole_suite(testbed: Testbed) -> None:
    done = run_suite(testbed, "flush")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "Ran 3 tests" in out and "OK" in out


def test_an_unknown_mode_is_refused(testbed: Testbed) -> None:
    done = run_suite(testbed, "truncate")
    out = done.stdout + done.stderr
    assert done.returncode != 0
    assert "DATABASES['default']['TEST']['RESET'] = 'truncate'" in out
