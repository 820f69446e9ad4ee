"""Unit tests of the Django-suite runner's record parsing, classification and counting (no server)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.django_suite import results as R


def rec(tid: str, outcome: str, **kw: object) -> dict[str, Any]:
    return {"event": "test", "id": tid, "outcome": outcome, **kw}


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("SingleStore's planner refuses correlated subselects in ORDER BY", R.S2),
        ("SingleStore: unique keys must contain the shard key", R.S2),
        ("gateway: MariaDB cannot refuse nested scalar subselects", R.GATEWAY),
        ("Gateway: no real aggregators", R.GATEWAY),
        ("environment: no child aggregator (SINGLESTORE_CHILD_URL unset)", R.ENV),
        ("Database doesn't support feature(s): supports_over_clause", R.S2_FLAG),
        ("Database has feature(s): closed_cursor_error_class", R.S2_FLAG),
        ("Database doesn't support any of the feature(s): a, b", R.S2_FLAG),
        ("PostgreSQL specific SQL", R.OTHER),
        ("No module named 'yaml'", R.OTHER),
    ],
)
def test_classify_reason(reason: str, kind: str) -> None:
    assert R.classify_reason(reason) == kind


def test_backend_reason_without_prefix_is_unclassified() -> None:
    reason = "Unique keys must contain the shard key"
    assert R.classify_reason(reason, [reason]) == R.UNCLASSIFIED
    assert R.classify_reason(reason) == R.OTHER


def test_summary_kind_three_way_split() -> None:
    assert R.summary_kind(R.S2_FLAG) == R.S2
    assert R.summary_kind(R.GATEWAY) == R.GATEWAY
    assert R.summary_kind(R.OTHER) == R.ENV


def test_summarise_counts_each_test_once_by_worst_outcome() -> None:
    records = [
        {"event": "planned", "ids": ["a.T.t1", "a.T.t2", "a.T.t3", "a.T.t4", "a.T.t5", "a.T.t6"]},
        rec("a.T.t1", "success"),
        rec("a.T.t2", "failure", exc="AssertionError: 1 != 2"),  # a failing subtest...
        rec("a.T.t2", "failure", exc="AssertionError: 3 != 4"),  # ...and another: still one failed test
        rec("a.T.t3", "error", exc="MySQLdb.OperationalError: (1706, \"Feature 'x' is not supported\")"),
        rec("a.T.t3", "failure", exc="AssertionError"),  # error wins over failure
        rec("a.T.t4", "skip", reason="SingleStore: no savepoints"),
        rec("a.T.t5", "expected_failure", reason="SingleStore: BEGIN/COMMIT counted"),
        rec("a.T.t6", "unexpected_success"),
        {"event": "end"},
    ]
    r = R.summarise("a", records)
    assert (r.passed, r.failed, r.errors, r.skipped, r.expected_failures, r.unexpected_successes) == (
        1,
        1,
        1,
        1,
        1,
        1,
    )
    assert r.status == "done"
    assert r.not_run == 0
    assert r.skips_by_kind == {R.S2: 1}
    assert r.xfails_by_kind == {R.S2: 1}
    assert [p["id"] for p in r.problems] == ["a.T.t2", "a.T.t3", "a.T.t6"]
    assert r.problems[1]["key"].startswith("MySQLdb.OperationalError: (1706, ")
    # passed / (passed + failed + errors + xfail + unexpected successes)
    assert R.pass_rate(r) == pytest.approx(1 / 5)


def test_planned_tests_without_outcome_count_as_errors() -> None:
    records = [{"event": "planned", "ids": ["a.T.t1", "a.T.t2", "a.T.t3"]}, rec("a.T.t1", "success")]
    r = R.summarise("a", records, status="timeout", log_text="Traceback...\nKeyboardInterrupt\n")
    assert r.status == "timeout"
    assert r.passed == 1
    assert r.not_run == 2
    assert r.errors == 2
    assert R.pass_rate(r) == pytest.approx(1 / 3)


def test_setup_failure_counts_every_planned_test_and_keeps_the_cause() -> None:
    log = (
        "Creating test database for alias 'default'...\nTraceback (most recent call last):\n"
        '  File "x.py", line 1, in <module>\n'
        "django.db.utils.OperationalError: (1706, \"Feature 'FOREIGN KEY' is not supported by SingleStore\")\n"
    )
    r = R.summarise("a", [{"event": "planned", "ids": ["a.T.t1", "a.T.t2"]}], log_text=log, rc=1)
    assert r.status == "setup_failed"
    assert r.errors == 2 and r.not_run == 2 and r.passed == 0
    assert r.setup_error.startswith("django.db.utils.OperationalError: (1706,")
    clusters = R.failure_clusters([r])
    assert clusters[0][1] == 2
    assert "setup_failed" in clusters[0][0] and "1706" in clusters[0][0]


def test_crash_without_end_marker() -> None:
    r = R.summarise("a", [{"event": "planned", "ids": ["a.T.t1"]}, rec("a.T.t1", "success")])
    assert r.status == "crashed"
    assert r.errors == 0 and r.passed == 1


def test_no_records_at_all_is_a_setup_failure() -> None:
    assert R.summarise("a", []).status == "setup_failed"


def test_class_level_error_holder_covers_its_tests() -> None:
    records = [
        {"event": "planned", "ids": ["a.T.t1", "a.T.t2", "a.U.t1"]},
        rec("setUpClass (a.T)", "error", exc="RuntimeError: boom"),
        rec("a.U.t1", "success"),
        {"event": "end"},
    ]
    r = R.summarise("a", records)
    assert r.errors == 1  # the holder; its class's tests are not also "not run"
    assert r.not_run == 0
    assert r.passed == 1


def test_expected_failure_without_reason_is_unclassified() -> None:
    r = R.summarise("a", [rec("a.T.t1", "expected_failure"), {"event": "end"}])
    assert r.xfails_by_kind == {R.UNCLASSIFIED: 1}


def test_backend_event_makes_unprefixed_reasons_unclassified() -> None:
    records = [
        {"event": "backend", "skip_reasons": ["no savepoints"], "xfail_reasons": []},
        rec("a.T.t1", "skip", reason="no savepoints"),
        rec("a.T.t2", "skip", reason="PostgreSQL specific"),
        {"event": "end"},
    ]
    r = R.summarise("a", records)
    assert r.skips_by_kind == {R.OTHER: 1, R.UNCLASSIFIED: 1}


def test_read_records_drops_torn_lines() -> None:
    lines = [json.dumps(rec("a.T.t1", "success")), "", '{"event": "test", "id": "a.T.t2", "outc']
    assert [r["id"] for r in R.read_records(lines)] == ["a.T.t1"]


def test_normalise_message_clusters_variants() -> None:
    a = R.normalise_message("MySQLdb.OperationalError: (1054, \"Unknown column 'x' in 'field list'\") at 12")
    b = R.normalise_message("MySQLdb.OperationalError: (1054, \"Unknown column 'x' in 'field list'\") at 345")
    assert a == b
    assert a.startswith("MySQLdb.OperationalError: (1054, ")
    assert (
        R.normalise_message("E: table `test_djs_dj52_w0`.`basic_article` 0xdeadbeef")
        == "E: table `?`.`?` 0x?"
    )
    assert len(R.normalise_message("x" * 1000, limit=50)) == 50


def test_parse_ran_and_final_line() -> None:
    text = "...\nRan 12 tests in 0.5s\n\nFAILED (failures=1, errors=2, skipped=3, expected failures=4)\n"
    assert R.parse_ran(text) == 12
    assert R.parse_final_line(text) == {
        "ok": 0,
        "failures": 1,
        "errors": 2,
        "skipped": 3,
        "expected_failures": 4,
    }
    assert R.parse_final_line("Ran 1 test in 0.001s\n\nOK\n") == {"ok": 1}
    assert R.parse_ran("nothing") is None
    assert R.parse_final_line("nothing") is None


def test_totals_and_table() -> None:
    a = R.AppResult(app="basic", passed=9, failed=1, skips_by_kind={R.S2: 2, R.GATEWAY: 1}, seconds=70)
    b = R.AppResult(app="lookup", passed=10, errors=2, not_run=2, expected_failures=1, status="timeout")
    t = R.totals([a, b])
    assert (t.passed, t.failed, t.errors, t.expected_failures, t.apps) == (19, 1, 2, 1, 2)
    assert t.rate == pytest.approx(19 / 23)
    table = R.app_table([a, b])
    assert "| basic | done | 9 | 1 | 0 | 2 | 0 | 1 |" in table
    assert "2 (2 not run)" in table
    assert "1m10s" in table
    assert "**82.6%**" in table


def test_empty_pass_rate_is_none() -> None:
    assert R.pass_rate(R.AppResult(app="x")) is None
    assert R.fmt_rate(None) == "-"


def test_app_result_json_roundtrip_ignores_unknown_keys() -> None:
    a = R.AppResult(app="basic", passed=3, skips_by_kind={R.S2: 1})
    data = a.to_json()
    data["meta"] = {"django": "5.2"}
    assert R.AppResult.from_json(data) == a


def test_app_list_is_the_issues() -> None:
    assert len(R.APPS) == 44 and len(set(R.APPS)) == 44
    assert {"basic", "queries", "admin_views", "async_queryset", "sessions_tests"} <= set(R.APPS)


def test_census_summary_groups_refusals() -> None:
    from tests.django_suite import census

    lines = [
        json.dumps(
            {
                "app": "auth",
                "model": "Group",
                "table": "auth_group",
                "ok": False,
                "error": "E: (1105, \"The unique key named: 'name' cannot\")",
            }
        ),
        json.dumps(
            {
                "app": "sites",
                "model": "Site",
                "table": "django_site",
                "ok": False,
                "error": "E: (1105, \"The unique key named: 'domain' cannot\")",
            }
        ),
        json.dumps({"app": "basic", "model": "Article", "table": "basic_article", "ok": True}),
    ]
    text = census.summarise(lines)
    assert "Tables: 3; created: 1; refused: 2." in text
    assert '| 2 | E: (1105, "The unique key named: ? cannot") | auth_group, django_site |' in text
    assert "auth 1" in text and "sites 1" in text


def test_stand_in_layout_folds_deferred_uniques() -> None:
    from tests.django_suite import census

    sql = [
        "CREATE TABLE `a_b` (`id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY, `x` integer NOT NULL, `y` integer NOT NULL);",
        "ALTER TABLE `a_b` ADD CONSTRAINT `a_b_x_y_uniq` UNIQUE (`x`, `y`);",
        "CREATE INDEX `a_b_y_idx` ON `a_b` (`y`);",
    ]
    tables, out = census.stand_in_layout(sql)
    assert tables == ["a_b"]
    assert out[0] == (
        "CREATE ROWSTORE REFERENCE TABLE `a_b` (`id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY, "
        "`x` integer NOT NULL, `y` integer NOT NULL, UNIQUE KEY `a_b_x_y_uniq` (`x`, `y`))"
    )
    assert out[1] == "CREATE INDEX `a_b_y_idx` ON `a_b` (`y`)"
    assert len(out) == 2


def test_cluster_key_follows_the_chain_behind_transaction_errors() -> None:
    tme = "django.db.transaction.TransactionManagementError: An error occurred in the current transaction."
    root = "MySQLdb.DataError: (1264, \"Out of range value for column 'product_id' at row 1\")"
    assert R.cluster_key(tme, root).startswith("after an earlier error: MySQLdb.DataError: (1264, ")
    wrapped = "django.db.utils.DataError: (1264, \"Out of range value for column 'product_id' at row 1\")"
    assert R.cluster_key(wrapped, root) == R.normalise_message(root)
    assert R.cluster_key("builtins.AssertionError: 1 != 2", "builtins.KeyError: 'x'") == (
        "builtins.AssertionError: N != N"
    )


def test_run_that_broke_before_planning_counts_the_known_size() -> None:
    log = "django.core.exceptions.ImproperlyConfigured: 'django_singlestore' isn't an available database backend\n"
    r = R.summarise("a", [], log_text=log, rc=1, size_hint=40)
    assert r.status == "setup_failed"
    assert r.errors == 40 and r.not_run == 40 and r.planned == 0
    assert "ImproperlyConfigured" in r.setup_error
    unknown = R.summarise("a", [], log_text=log, rc=1)
    assert unknown.errors == 1  # size unknown: still never an empty, harmless-looking app
    assert R.pass_rate(unknown) == 0.0


def test_cause_for_prefers_the_longest_prefix() -> None:
    from tests.django_suite import report

    causes = {
        "MySQLdb.DataError: (1264, ": "general",
        "MySQLdb.DataError: (1264, \"Out of range value for column 'object_id'": "gfk",
    }
    gfk = {
        "id": "a.T.t",
        "key": "MySQLdb.DataError: (1264, \"Out of range value for column 'object_id' at row N\")",
    }
    other = {
        "id": "a.T.u",
        "key": "MySQLdb.DataError: (1264, \"Out of range value for column 'x_id' at row N\")",
    }
    assert report.cause_for(gfk, causes) == "gfk"
    assert report.cause_for(other, causes) == "general"
    assert report.cause_for({"id": "a.T.u", "key": "x"}, {"a.T": "by test id"}) == "by test id"
    assert report.cause_for({"id": "b.T.u", "key": "x"}, causes) == ""


def test_native_statement_counts_are_summed_and_round_trip() -> None:
    records = [
        {"event": "planned", "ids": ["a.T.t1"]},
        {"event": "test", "id": "a.T.t1", "outcome": "success"},
        {"event": "end", "tests_run": 1},
        {"event": "native", "pool": 3, "test_connection": 40},
        {"event": "native", "pool": 2, "test_connection": 0},
    ]
    result = R.summarise("a", records)
    assert result.native_statements == {"pool": 5, "test_connection": 40}
    assert (
        R.AppResult.from_json(json.loads(json.dumps(result.to_json()))).native_statements
        == result.native_statements
    )
    assert R.summarise("b", records[:3]).native_statements == {}


# --- strict rate and refusal detection (issues 16 and 21) -------------------------------------------
def test_strict_kind_splits_djangos_own_skips() -> None:
    assert R.strict_kind(R.OTHER, "SQLite specific test") == R.VENDOR
    assert R.strict_kind(R.OTHER, "PostgreSQL tests") == R.VENDOR
    assert R.strict_kind(R.OTHER, "pylibmc not installed") == R.LIBRARY
    assert R.strict_kind(R.OTHER, "No module named 'yaml'") == R.LIBRARY
    # this backend's vendor is "mysql": a skip naming MySQL is ours, counted as not passed
    assert R.strict_kind(R.OTHER, "MySQL doesn't support this") == R.OTHER
    assert R.strict_kind(R.S2_FLAG, "Database doesn't support feature(s): sqlite_x") == R.S2_FLAG


def test_strict_rate_counts_skips_and_xfails_as_not_passed() -> None:
    r = R.AppResult(app="a", passed=90, failed=1, expected_failures=1, skipped=10)
    r.skip_reasons = {"other | SQLite specific": 4, "flag | Database doesn't support feature(s): x": 6}
    assert R.pass_rate(r) == 90 / 92
    assert R.strict_rate([r]) == 90 / (92 + 10 - 4)


def test_refusal_detected_from_the_exception_chain() -> None:
    from tests.django_suite import refusals

    hit = refusals.detect(
        {
            "exc": "django.db.utils.NotSupportedError: (1706, \"Feature 'Subselect in aggregate functions' is "
            'not supported by SingleStore.")'
        }
    )
    assert hit is not None and hit.rule == "subselect_in_aggregate" and hit.code == 1706
    syntax = "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server"
    hit = refusals.detect(
        {"root": f"X: (1064, \"{syntax} version for the right syntax to use near 'ORDER BY x' at line 1"}
    )
    assert hit is not None and hit.rule == "update_order_by"
    assert refusals.detect({"exc": "AssertionError: 1 != 2"}) is None
    # MariaDB's own syntax error is not a SingleStore refusal
    assert (
        refusals.detect({"exc": "X: (1064, \"...MariaDB server version for the right syntax near 'x'"})
        is None
    )


def test_upstream_entries_are_counted_per_module_from_both_properties() -> None:
    from tests.django_suite.report import count_upstream_entries, upstream_cell

    source = """
class DatabaseFeatures:
    @cached_property
    def django_test_skips(self):
        skips = {
            "SingleStore does not enforce FOREIGN KEY constraints": {
                "backends.tests.FkConstraintsTests",
                "schema.tests.SchemaTests.test_a",
            },
            "another reason": {"schema.tests.SchemaTests.test_b"},
        }
        return skips

    @cached_property
    def django_test_expected_failures(self):
        return {"delete.tests.DeletionTests.test_x", "schema.tests.SchemaTests.test_c"}

    @cached_property
    def unrelated(self):
        return {"queries.tests.Nope"}
"""
    skips, xfails = count_upstream_entries(source)
    assert skips == {"backends": 1, "schema": 2}
    assert xfails == {"delete": 1, "schema": 1}
    assert upstream_cell("schema") == "41"  # the pinned 5.0.1 counts: 40 skips + 1 expected failure
    assert upstream_cell("no_such_module") == "0"
