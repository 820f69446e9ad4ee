"""Django's own tests, a quick subset, through the backend on the test bed (issue 7).

The full list runs with `make django-suite` (tests/django_suite/RESULTS.md); this subset runs inside
`make test` on both legs: basic CRUD, lookups, null queries, a core queries class, aggregation and
transactions. Every test of it must pass or be skipped with a reason the backend gives.
"""

from __future__ import annotations

from tests.django_suite import results, run
from tests.testbed import Testbed


def test_quick_subset_of_djangos_suite_passes(testbed: Testbed) -> None:
    result = run.run_quick(testbed.master.url)
    assert result.status == "done" and not result.not_run, result.setup_error or result.log_tail
    problems = [(p.get("id"), p.get("exception", "")[:300]) for p in result.problems]
    assert result.passed > 300, f"only {result.passed} tests passed"
    assert (result.failed, result.errors, result.unexpected_successes) == (0, 0, 0), problems
    assert results.pass_rate(result) == 1.0
