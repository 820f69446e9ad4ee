"""Unit tests of the Django-suite runner's resume logic, settings, sdist unpacking and recorder (no server)."""

from __future__ import annotations

import io
import json
import tarfile
import unittest
from pathlib import Path

import pytest

from tests.django_suite import results as R
from tests.django_suite import run
from tests.django_suite import settings as S


def write_state(leg_dir: Path, app: str, **kw: object) -> None:
    run.write_json_atomic(run.state_path(leg_dir, app), R.AppResult(app=app, **kw).to_json())  # type: ignore[arg-type]


def test_resume_skips_finished_apps(tmp_path: Path) -> None:
    apps = ["basic", "queries", "lookup", "schema"]
    write_state(tmp_path, "basic", passed=3)
    write_state(tmp_path, "queries", status="timeout", errors=4, not_run=4)
    write_state(tmp_path, "lookup", passed=1, errors=2, not_run=2)  # ran, but some tests never reported
    assert run.apps_to_run(tmp_path, apps) == ["schema"]
    assert run.apps_to_run(tmp_path, apps, retry=True) == ["queries", "lookup", "schema"]
    assert run.apps_to_run(tmp_path, apps, force=True) == apps


def test_corrupt_state_file_means_not_run(tmp_path: Path) -> None:
    path = run.state_path(tmp_path, "basic")
    path.parent.mkdir(parents=True)
    path.write_text('{"app": "basic", "pas')  # torn write of an older runner
    assert run.load_state(tmp_path, "basic") is None
    assert run.apps_to_run(tmp_path, ["basic"]) == ["basic"]


def test_write_json_atomic_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "state" / "x.json"
    run.write_json_atomic(target, {"a": 1})
    run.write_json_atomic(target, {"a": 2})
    assert json.loads(target.read_text()) == {"a": 2}
    assert [p.name for p in target.parent.iterdir()] == ["x.json"]


def test_parse_testbed_lines() -> None:
    out = "master\tmysql://u:p@127.0.0.1:4001/s2test\nchild\tmysql://u:p@127.0.0.1:4002/s2test\n"
    assert run.parse_testbed_lines(out) == {
        "master": "mysql://u:p@127.0.0.1:4001/s2test",
        "child": "mysql://u:p@127.0.0.1:4002/s2test",
    }
    with pytest.raises(SystemExit):
        run.parse_testbed_lines("testbed: the gateway did not start\n")


def test_child_env_strips_backend_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJANGO_SINGLESTORE_TABLE_STORAGE_TYPE_QUERIES", "ROWSTORE REFERENCE")
    monkeypatch.setenv("DJANGO_SINGLESTORE_SKIP_AUTOCOMMIT", "1")
    monkeypatch.setenv("SINGLESTORE_URL", "mysql://x:y@h:1/d")
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "nope")
    monkeypatch.setenv("KEEP_ME", "1")
    env = run.child_env()
    assert not [k for k in env if k.startswith(("DJANGO_SINGLESTORE_", "SINGLESTORE_"))]
    assert "DJANGO_SETTINGS_MODULE" not in env
    assert env["KEEP_ME"] == "1"


def test_leg_tags() -> None:
    assert run.Leg("py", "5.2.19", "django_singlestore").tag == "dj52-sync"
    assert run.Leg("py", "6.1.3", "django_singlestore_async").tag == "dj61-async"
    assert run.Leg("py", "6.1.3", "django.db.backends.mysql", "mariadb").tag == "dj61-mysql-mariadb"
    assert run.Leg("py", "5.2.19", "django_singlestore", "url").tag == "dj52-sync"
    assert run.Leg("py", "5.2.19", "django_singlestore", "sqlite").tag == "dj52-sync-sqlite"


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def test_unpack_tests_takes_only_the_tests_dir(tmp_path: Path) -> None:
    archive = tmp_path / "django-9.9.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        _add(tar, "django-9.9/django/__init__.py", b"")
        _add(tar, "django-9.9/tests/runtests.py", b"print('hi')\n")
        _add(tar, "django-9.9/tests/basic/models.py", b"# models\n")
    dest = tmp_path / "src" / "django-9.9"
    run.unpack_tests(archive, dest)
    assert (dest / "tests" / "runtests.py").read_text() == "print('hi')\n"
    assert (dest / "tests" / "basic" / "models.py").exists()
    assert not (dest / "django").exists()
    assert (dest / ".complete").exists()
    # the cache is used as it is afterwards (no download)
    assert run.ensure_django_tests("/nonexistent/python", "9.9", src=tmp_path / "src") == dest / "tests"


def test_unpack_tests_rejects_an_sdist_without_tests(tmp_path: Path) -> None:
    archive = tmp_path / "django-9.9.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        _add(tar, "django-9.9/django/__init__.py", b"")
    with pytest.raises(SystemExit):
        run.unpack_tests(archive, tmp_path / "django-9.9")


def test_labels_for_splits_async(tmp_path: Path) -> None:
    (tmp_path / "async").mkdir()
    for name in ("__init__", "models", "tests", "test_async_queryset", "test_async_auth"):
        (tmp_path / "async" / f"{name}.py").write_text("")
    assert run.labels_for("async_queryset", tmp_path) == ["async.test_async_queryset"]
    assert run.labels_for("async", tmp_path) == ["async.test_async_auth", "async.tests"]
    assert run.labels_for("basic", tmp_path) == ["basic"]


def test_settings_load_replaces_only_databases(tmp_path: Path) -> None:
    (tmp_path / "test_sqlite.py").write_text(
        'DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3"}}\n'
        'SECRET_KEY = "k"\nUSE_TZ = False\n_private = 1\n'
    )
    cfg = tmp_path / "config.json"
    cfg.write_text(
        json.dumps(
            {
                "django_tests_dir": str(tmp_path),
                "engine": "django_singlestore",
                "url": "mysql://us%40r:p%3Aw@127.0.0.1:4001/s2test",
                "test_name": "test_djs_x",
                "record_dir": str(tmp_path / "rec"),
            }
        )
    )
    ns = S.load(str(cfg))
    assert ns["SECRET_KEY"] == "k" and ns["USE_TZ"] is False
    assert "_private" not in ns
    assert ns["TEST_RUNNER"] == S.RUNNER
    default, other = ns["DATABASES"]["default"], ns["DATABASES"]["other"]
    assert default["ENGINE"] == "django_singlestore"
    assert (default["USER"], default["PASSWORD"], default["PORT"]) == ("us@r", "p:w", "4001")
    assert default["NAME"] == other["NAME"] == "s2test"
    assert default["TEST"]["NAME"] == "test_djs_x" and other["TEST"]["NAME"] == "test_djs_x_other"
    assert "OPTIONS" not in default  # the backend's automatic layout decides


def test_recorder_writes_one_line_per_outcome(tmp_path: Path) -> None:
    pytest.importorskip("django")
    from tests.django_suite import recorder

    class Sample(unittest.TestCase):
        def test_ok(self) -> None:
            pass

        def test_fail(self) -> None:
            self.assertEqual(1, 2)

        def test_error(self) -> None:
            raise RuntimeError("boom")

        def test_skip(self) -> None:
            self.skipTest("gateway: cannot")

        @unittest.expectedFailure
        def test_xfail(self) -> None:
            raise AssertionError

        def test_subtests(self) -> None:
            for i in range(3):
                with self.subTest(i=i):
                    self.assertLess(i, 1)

    recorder.reset_stream()
    recorder.RECORD_DIR = tmp_path
    recorder.RecordingResult.xfail_reasons = {Sample("test_xfail").id(): "SingleStore: x"}
    try:
        suite = unittest.defaultTestLoader.loadTestsFromTestCase(Sample)
        result = recorder.RecordingResult(io.StringIO(), True, 0)
        suite.run(result)
    finally:
        recorder.reset_stream()
        recorder.RECORD_DIR = None
        recorder.RecordingResult.xfail_reasons = {}
    (record,) = tmp_path.glob("*.jsonl")
    recs = R.read_records(record.read_text().splitlines())
    summary = R.summarise("sample", [*recs, {"event": "end"}])
    assert (summary.passed, summary.failed, summary.errors, summary.skipped, summary.expected_failures) == (
        1,
        2,  # test_fail, and test_subtests once for its two failing subtests
        1,
        1,
        1,
    )
    assert summary.skips_by_kind == {R.GATEWAY: 1}
    assert summary.xfails_by_kind == {R.S2: 1}
    err = next(p for p in summary.problems if p["id"].endswith("test_error"))
    assert err["exc"] == "builtins.RuntimeError: boom"
    assert "Traceback" in err["detail"]


def test_server_unreachable_is_not_a_backend_result() -> None:
    gone = R.AppResult(
        app="basic",
        status="setup_failed",
        setup_error="django.db.utils.OperationalError: (2002, \"Can't connect to server on '127.0.0.1' (115)\")",
    )
    assert run.server_unreachable(gone)
    broken = R.AppResult(
        app="basic",
        status="setup_failed",
        setup_error="django.db.utils.OperationalError: (1105, 'The unique key named: x cannot be created')",
    )
    assert not run.server_unreachable(broken)
    assert not run.server_unreachable(
        R.AppResult(app="basic", status="crashed", setup_error=gone.setup_error)
    )


def test_sizes_cache_roundtrip(tmp_path: Path) -> None:
    path = tmp_path / "sizes-5.2.19.json"
    assert run._load_sizes(path) == {}
    run._store_size(path, "basic", 82)
    run._store_size(path, "queries", 493)
    run._store_size(path, "basic", 83)
    assert run._load_sizes(path) == {"basic": 83, "queries": 493}


_FAKE_RUNTESTS = """
import os, sys
module = [a.split("=", 1)[1] for a in sys.argv if a.startswith("--settings=")][0]
os.environ["DJANGO_SETTINGS_MODULE"] = module
import django
django.setup()
from django.conf import settings
from django.test.utils import get_runner
labels = [a for a in sys.argv[1:] if not a.startswith("-")]
runner = get_runner(settings)(verbosity=2, interactive=False)
sys.exit(bool(runner.run_tests(labels)))
"""

_SAMPLE_TESTS = """
from django.test import SimpleTestCase


class Sample(SimpleTestCase):
    def test_ok(self):
        pass

    def test_fail(self):
        self.assertEqual(1, 2)

    def test_skip(self):
        self.skipTest("gateway: MariaDB cannot")
"""


def test_run_app_end_to_end_with_a_stand_in_runtests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """settings shim -> runtests.py subprocess -> recording runner -> records -> state file."""
    pytest.importorskip("django")
    import sys

    tests_dir = tmp_path / "tests"
    tests_dir.mkdir()
    (tests_dir / "runtests.py").write_text(_FAKE_RUNTESTS)
    (tests_dir / "test_sqlite.py").write_text(
        'DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3"}}\nSECRET_KEY = "k"\nUSE_TZ = False\n'
    )
    (tests_dir / "sample_app").mkdir()
    (tests_dir / "sample_app" / "__init__.py").write_text("")
    (tests_dir / "sample_app" / "tests.py").write_text(_SAMPLE_TESTS)
    monkeypatch.setattr(run, "WORK", tmp_path / "work")
    leg = run.Leg(
        python=sys.executable, django_version="9.9.0", engine="django.db.backends.sqlite3", target="sqlite"
    )
    cfg = run.RunConfig(leg=leg, tests_dir=tests_dir, url=None, target="sqlite", timeout=120)
    res = run.run_app(cfg, "sample_app")
    assert (res.status, res.passed, res.failed, res.errors, res.skipped) == ("done", 1, 1, 0, 1), res.log_tail
    assert res.planned == 3 and res.rc == 1
    assert res.skips_by_kind == {R.GATEWAY: 1}
    assert res.problems[0]["id"] == "sample_app.tests.Sample.test_fail"
    state = run.load_state(leg.dir(), "sample_app")
    assert state is not None and state.passed == 1
    assert (leg.dir() / "records" / "sample_app.jsonl").exists()
    assert not list((leg.dir() / "records" / "raw").iterdir())  # the raw record was moved, not left behind
    assert run._load_sizes(tmp_path / "work" / "sizes-9.9.0.json") == {"sample_app": 3}


def test_backend_snapshot_is_the_committed_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run, "WORK", tmp_path)
    dest = run.backend_snapshot("HEAD")
    assert (dest / "django_singlestore" / "__init__.py").exists()
    assert (dest / ".complete").exists()
    monkeypatch.setattr(run, "_BACKEND_PATH", str(dest))
    assert run.child_env()["PYTHONPATH"] == str(dest)
    assert run.backend_revision().endswith("(committed snapshot)")


def test_all_apps_excludes_gis_postgres_and_runtests_helpers(tmp_path: Path) -> None:
    for name in ("basic", "gis_tests", "postgres_tests", "zoo", "async", "test_runner_apps", "data.d"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("")
    (tmp_path / "nopkg").mkdir()
    apps = run.all_apps(tmp_path)
    assert apps == ["basic", "async", "async_queryset", "zoo"]


def test_settings_add_a_redis_cache_only_when_the_runner_started_one(tmp_path: Path) -> None:
    (tmp_path / "test_sqlite.py").write_text('DATABASES = {}\nSECRET_KEY = "k"\n')
    base = {
        "django_tests_dir": str(tmp_path),
        "engine": "django_singlestore",
        "url": "mysql://u:p@127.0.0.1:4001/s2test",
        "test_name": "t",
        "record_dir": str(tmp_path / "rec"),
    }
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(base))
    assert "CACHES" not in S.load(str(cfg))
    cfg.write_text(json.dumps({**base, "redis_url": "redis://127.0.0.1:6399"}))
    caches = S.load(str(cfg))["CACHES"]
    assert caches["redis"] == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6399",
    }
    assert caches["default"]["BACKEND"].endswith("LocMemCache")


def test_settings_add_memcached_caches_for_the_installed_client_libraries(tmp_path: Path) -> None:
    import importlib.util

    (tmp_path / "test_sqlite.py").write_text('DATABASES = {}\nSECRET_KEY = "k"\n')
    cfg = tmp_path / "config.json"
    cfg.write_text(
        json.dumps(
            {
                "django_tests_dir": str(tmp_path),
                "engine": "django_singlestore",
                "url": "mysql://u:p@127.0.0.1:4001/s2test",
                "test_name": "t",
                "record_dir": str(tmp_path / "rec"),
                "memcached": "127.0.0.1:11999",
            }
        )
    )
    caches = S.load(str(cfg))["CACHES"]
    for name, module in (("PyMemcacheCache", "pymemcache"), ("PyLibMCCache", "pylibmc")):
        entry = caches.get(name.lower())
        if importlib.util.find_spec(module) is None:
            assert entry is None
        else:
            assert entry == {
                "BACKEND": f"django.core.cache.backends.memcached.{name}",
                "LOCATION": "127.0.0.1:11999",
            }


def test_browser_run_outcomes_replace_the_no_browser_skips() -> None:
    """Selenium tests skip with "No browsers specified" in the first run; the `--selenium` run's outcomes
    replace theirs, everything else (planned list, other tests, end marker) is the first run's."""
    first = [
        json.dumps({"event": "planned", "ids": ["a.T.test_x", "a.T.test_sel", "a.T.test_sel2"]}),
        json.dumps({"event": "test", "id": "a.T.test_x", "outcome": "success"}),
        json.dumps({"event": "test", "id": "a.T.test_sel", "outcome": "skip", "reason": run.NO_BROWSER}),
        json.dumps({"event": "test", "id": "a.T.test_sel2", "outcome": "skip", "reason": run.NO_BROWSER}),
        json.dumps({"event": "end"}),
    ]
    browser = [
        json.dumps({"event": "planned", "ids": ["a.T.test_sel", "a.T.test_sel2"]}),
        json.dumps({"event": "test", "id": "a.T.test_sel", "outcome": "success"}),
        json.dumps({"event": "test", "id": "a.T.test_sel2", "outcome": "failure", "exc": "E"}),
        json.dumps({"event": "end"}),
    ]
    merged = R.summarise("a", R.read_records(run.merge_records(first, browser)))
    assert (merged.planned, merged.passed, merged.failed, merged.skipped, merged.not_run) == (3, 2, 1, 0, 0)
    before = R.summarise("a", R.read_records(first))
    assert run.needs_browser(before) and not run.needs_browser(merged)


def test_chromium_wrapper_disables_the_sandbox(tmp_path: Path) -> None:
    wrapper = run.chromium_wrapper(tmp_path)
    if wrapper is None:  # no chromium here: nothing to wrap
        assert not Path(run.CHROMIUM).exists() or not Path(run.CHROMEDRIVER).exists()
        return
    text = wrapper.read_text()
    assert text.startswith("#!/bin/sh\n") and f"exec {run.CHROMIUM} --no-sandbox" in text
    env = run.selenium_env(wrapper)
    assert env["SE_BROWSER_PATH"] == str(wrapper) and env["SE_OFFLINE"] == "true"


def test_listed_skips_reach_apps_outside_installed_apps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Django marks listed skips only while creating a test database (never for a run without one) and
    only in INSTALLED_APPS: the recorder applies the backend's listed skips to the planned tests itself."""
    import sys
    import types

    from tests.dbtools import setup_django
    from tests.django_suite import recorder

    setup_django()  # the project's test settings: djs_fake_app is not installed

    class T(unittest.TestCase):
        def test_a(self) -> None:
            raise AssertionError("listed as skipped")

        def test_b(self) -> None:
            pass

    module = types.ModuleType("djs_fake_app.tests")
    module.T = T  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "djs_fake_app", types.ModuleType("djs_fake_app"))
    monkeypatch.setitem(sys.modules, "djs_fake_app.tests", module)
    recorder._skip_outside_installed_apps(
        {"environment: x": {"djs_fake_app.tests.T.test_a", "other_app.tests.X.test_c"}},
        ["djs_fake_app.tests.T.test_a", "djs_fake_app.tests.T.test_b"],
    )
    result = unittest.TestResult()
    unittest.TestSuite([T("test_a"), T("test_b")]).run(result)
    assert [reason for _, reason in result.skipped] == ["environment: x"]
    assert result.wasSuccessful()  # test_b ran and passed (testsRun counts skips on 3.11 only)
