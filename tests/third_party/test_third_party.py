"""The third-party suite runner: its summary from recorded outcomes (quick), and both modes on
django-simple-history's own suite through the test bed (slow: `-m slow`; it downloads the sdist)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.testbed import Testbed
from tests.third_party import __main__ as tp

CAUGHT = "simple_history.tests.tests.test_utils.BulkCreateWithHistoryTestCase.test_bulk_create_history_with_duplicates"


def test_summary_counts_worst_outcome_and_unreported_tests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = tmp_path / "records" / "flush"

    def fake_run(*args: object, **kwargs: object) -> None:
        lines = [
            {"event": "planned", "ids": ["a.T.ok", "a.T.sub", "a.T.lost", "a.T.tme"]},
            {"event": "test", "id": "a.T.ok", "outcome": "success"},
            {
                "event": "test",
                "id": "a.T.sub",
                "outcome": "failure",
                "exc": "AssertionError: 3 queries executed, 2 expected",
            },
            {
                "event": "test",
                "id": "a.T.sub",
                "outcome": "error",
                "exc": "IntegrityError: (1062, \"Duplicate entry '7'\")",
            },
            {
                "event": "test",
                "id": "a.T.tme",
                "outcome": "error",
                "root": "TransactionManagementError: An error occurred",
            },
        ]
        (records / "1.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))

    monkeypatch.setattr(tp, "WORK", tmp_path)
    monkeypatch.setattr(tp.subprocess, "run", fake_run)
    result = tp.run_mode("mysql://u:p@h:1/d", "flush")
    assert result.outcomes == {
        "a.T.ok": "success",
        "a.T.sub": "error",
        "a.T.lost": "error",
        "a.T.tme": "error",
    }
    assert "not consecutive" in result.causes["a.T.sub"]
    assert "never reported" in result.causes["a.T.lost"]
    assert "savepoints" in result.causes["a.T.tme"]
    text = tp.report([result])
    assert "| `flush` | 4 | 1 | 0 | 3 | 0 |" in text


@pytest.mark.slow
def test_simple_history_suite_in_both_modes(testbed: Testbed, tmp_path: Path) -> None:
    tp.fetch()
    tx, flush = (tp.run_mode(testbed.master.url, mode) for mode in tp.MODES)
    assert len(tx.outcomes) == len(flush.outcomes) > 300
    # The suite's caught-error-in-atomic() test: doomed per-test transaction vs. passing under "flush".
    assert tx.outcomes[CAUGHT] == "error" and "savepoints" in tx.causes[CAUGHT]
    assert flush.outcomes[CAUGHT] == "success"
    assert tx.count("success") >= len(tx.outcomes) - 5
    assert flush.count("success") >= len(flush.outcomes) - 12
