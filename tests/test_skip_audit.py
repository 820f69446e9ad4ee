"""The skip audit of tests/conftest.py: skips listed in tests/skips_allowed.txt pass, others fail the run."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.conftest import SkipAudit, load_skip_allow_list, skip_is_allowed


def skipped(nodeid: str, reason: str) -> SimpleNamespace:
    return SimpleNamespace(skipped=True, nodeid=nodeid, longrepr=("f.py", 1, f"Skipped: {reason}"))


def test_the_allow_list_covers_the_known_skips_and_nothing_broad():
    entries = load_skip_allow_list()
    allowed = [
        ("tests/backend/test_django_suite_fixes.py::test_x", "environment: JSONNull is Django >= 6.1"),
        (
            "tests/gateway/test_proxy_tls.py::test_y",
            "gateway only: asserts the test bed's emulation, not the real server",
        ),
        ("tests/errors/test_z.py::t", "environment: no child aggregator (set SINGLESTORE_CHILD_URL; ...)"),
    ]
    for nodeid, reason in allowed:
        assert skip_is_allowed(nodeid, reason, entries), (nodeid, reason)
    refused = [
        ("tests/backend/test_orm_it.py::test_json_object", "gateway limit: the gateway does not translate X"),
        ("tests/backend/test_orm_it.py::test_a", "environment: JSONNull is Django >= 6.1"),  # not its file
        ("tests/backend/test_a.py::t", "some reason"),
    ]
    for nodeid, reason in refused:
        assert not skip_is_allowed(nodeid, reason, entries), (nodeid, reason)


def test_an_unlisted_skip_fails_an_otherwise_green_run():
    audit = SkipAudit()
    audit.record(
        skipped("tests/backend/test_django_suite_fixes.py::test_x", "environment: JSONNull is Django >= 6.1")
    )
    session = SimpleNamespace(exitstatus=0)
    audit.pytest_sessionfinish(session, 0)
    assert session.exitstatus == 0
    audit.record(skipped("tests/backend/test_orm_it.py::test_json_object", "gateway limit: not translated"))
    audit.pytest_sessionfinish(session, 0)
    assert session.exitstatus == pytest.ExitCode.TESTS_FAILED
    lines: list[str] = []
    audit.pytest_terminal_summary(SimpleNamespace(write_line=lambda text, **_: lines.append(text)))
    assert lines[0] == "skips: 2 (1 listed in tests/skips_allowed.txt, 1 not)"
    assert "tests/backend/test_orm_it.py::test_json_object" in lines[1]


def test_an_xfail_is_not_a_skip():
    audit = SkipAudit()
    report = skipped("tests/a.py::t", "whatever")
    report.wasxfail = "reason"
    audit.record(report)
    assert audit.allowed == [] and audit.unlisted == []
