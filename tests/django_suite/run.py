"""Django's own test suite against the backend (issue 7): fetch, run app by app, resume, report.

    python -m tests.django_suite run [--python PY ...] [--apps a,b] [--background] [--force] [--quick]
    python -m tests.django_suite status          progress of every leg
    python -m tests.django_suite report          write tests/django_suite/RESULTS.md from the state files
    python -m tests.django_suite stop            stop a background run (by its recorded pid)

Each leg is one interpreter (`.venv/bin/python` = Django 5.2, `.venv-dj61/bin/python` = Django 6.1). For
each, the sdist of the installed Django is fetched with `pip download --no-binary :all: --no-deps` into
tests/django_suite/src/ (git-ignored), its tests/ unpacked, and `runtests.py` run once per app with
Django's own test settings, only DATABASES replaced. No environment variable configures the backend:
DJANGO_SINGLESTORE_* and SINGLESTORE_* are removed from the child's environment.

The server is the embedded test bed (`python -m tests.testbed start --state-dir tests/django_suite/work/
testbed`, the gateway's master port) unless `--url` names one; `--target mariadb` (plain private MariaDB)
and `--target sqlite` exist to develop the runner itself with Django's own backends (`--engine`).

State: tests/django_suite/work/<leg>/state/<app>.json, one per finished app; a run resumes by skipping
apps that have one (`--force` reruns them, `--retry` reruns only the broken ones).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.django_suite import results as R

SUITE_DIR = Path(__file__).resolve().parent
ROOT = SUITE_DIR.parents[1]
SRC = SUITE_DIR / "src"
WORK = SUITE_DIR / "work"
RESULTS_MD = SUITE_DIR / "RESULTS.md"
DEFAULT_ENGINE = "django_singlestore"
DEFAULT_PYTHONS = (ROOT / ".venv" / "bin" / "python", ROOT / ".venv-dj61" / "bin" / "python")

# A small, fast subset for `make test` (see README.md for the measured time).
QUICK_LABELS: tuple[str, ...] = (
    "basic",
    "lookup.tests.LookupTests",
    "null_queries",
    "queries.tests.Queries1Tests",
    "aggregation.tests.AggregateTestCase",
    "transactions",
)

# Variables that would configure the backend from outside: the suite runs with none of them.
_STRIPPED_ENV = re.compile(r"^(DJANGO_SINGLESTORE_|SINGLESTORE_|DJANGO_SETTINGS_MODULE$|PYTHONPATH$)")


def log(msg: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {msg}", flush=True)


# ---------------------------------------------------------------------------------------------- legs


@dataclass(frozen=True)
class Leg:
    python: str
    django_version: str
    engine: str
    target: str = "gateway"

    @property
    def tag(self) -> str:
        """dj52-sync (gateway or a given server), dj61-async, dj52-mysql-mariadb (a dev leg)..."""
        major, minor = self.django_version.split(".")[:2]
        short = {"django_singlestore": "sync", "django_singlestore_async": "async"}.get(
            self.engine, self.engine.rsplit(".", 1)[-1]
        )
        where = "" if self.target in ("gateway", "url", "SINGLESTORE_URL") else f"-{self.target}"
        return f"dj{major}{minor}-{short}{where}"

    def dir(self, quick: bool = False) -> Path:
        return WORK / (self.tag + ("-quick" if quick else ""))


def django_version(python: str) -> str:
    out = subprocess.run(
        [python, "-c", "import django; print(django.get_version())"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return out.stdout.strip()


def ensure_django_tests(python: str, version: str, src: Path = SRC) -> Path:
    """Django's tests/ directory of `version`, from its sdist (downloaded once into the cache)."""
    dest = src / f"django-{version}"
    tests_dir = dest / "tests"
    if (dest / ".complete").exists() and (tests_dir / "runtests.py").exists():
        return tests_dir
    dl = src / "dl"
    dl.mkdir(parents=True, exist_ok=True)
    archive = _find_sdist(dl, version)
    if archive is None:
        log(f"fetching the Django {version} sdist (pip download --no-binary :all: --no-deps)")
        subprocess.run(
            [
                python,
                "-m",
                "pip",
                "download",
                "--no-binary",
                ":all:",
                "--no-deps",
                "--disable-pip-version-check",
                "-q",
                f"django=={version}",
                "-d",
                str(dl),
            ],
            check=True,
            cwd=ROOT,
        )
        archive = _find_sdist(dl, version)
        if archive is None:
            raise SystemExit(f"django-suite: pip download left no sdist for Django {version} in {dl}")
    unpack_tests(archive, dest)
    return tests_dir


def _find_sdist(dl: Path, version: str) -> Path | None:
    for name in (f"django-{version}.tar.gz", f"Django-{version}.tar.gz"):
        if (dl / name).exists():
            return dl / name
    return None


def unpack_tests(archive: Path, dest: Path) -> None:
    """Unpack only `<top>/tests/` of the sdist into dest/tests (safe member filter), and `docs/_ext/`,
    which the `sphinx` app's tests import from beside `tests/`."""
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        members = []
        for m in tar.getmembers():
            parts = Path(m.name).parts
            if len(parts) >= 2 and (parts[1] == "tests" or parts[1:3] == ("docs", "_ext")):
                m.name = str(Path(*parts[1:]))
                members.append(m)
        if not members:
            raise SystemExit(f"django-suite: {archive} has no tests/ directory")
        tar.extractall(tmp, members=members, filter="data")
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    (dest / ".complete").write_text(archive.name + "\n")


# ------------------------------------------------------------------------------------------ targets


def start_testbed(python: str) -> str:
    """The master URL of the embedded test bed (started when not running; idempotent)."""
    state = WORK / "testbed"
    state.mkdir(parents=True, exist_ok=True)
    out = subprocess.run(
        [python, "-m", "tests.testbed", "start", "--state-dir", str(state)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=child_env(),
    )
    if out.returncode != 0:
        raise SystemExit(f"django-suite: the test bed did not start:\n{out.stdout}{out.stderr}")
    return parse_testbed_lines(out.stdout)["master"]


def parse_testbed_lines(text: str) -> dict[str, str]:
    """`master<TAB>URL` / `child<TAB>URL` lines -> {"master": URL, "child": URL}."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        role, sep, url = line.partition("\t")
        if sep and role in ("master", "child") and url.startswith("mysql://"):
            found[role] = url.strip()
    if "master" not in found:
        raise SystemExit(f"django-suite: no master URL in the test bed's output:\n{text}")
    return found


def stop_testbed(python: str) -> None:
    subprocess.run(
        [python, "-m", "tests.testbed", "stop", "--state-dir", str(WORK / "testbed")],
        cwd=ROOT,
        check=False,
    )


def start_plain_mariadb() -> str:
    """A private MariaDB without the gateway (for developing the runner with Django's mysql backend)."""
    from tests.testbed.mariadb import MariaDB

    server = MariaDB(WORK / "mariadb")
    server.start()
    return server.url(server.database)


_REDIS: subprocess.Popen[bytes] | None = None


def start_redis() -> str | None:
    """A private redis-server (no persistence, loopback, free port) for Django's Redis cache tests, when
    the machine has one; its URL goes into the settings' CACHES (alias "redis"). Stopped at exit."""
    global _REDIS
    exe = shutil.which("redis-server")
    if exe is None:
        return None
    from tests.testbed.mariadb import free_port

    port = free_port()
    _REDIS = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    _CHILDREN.add(_REDIS)
    import socket

    for _ in range(50):
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return f"redis://127.0.0.1:{port}"
        time.sleep(0.1)
    return None


_MEMCACHED: subprocess.Popen[bytes] | None = None


def start_memcached() -> str | None:
    """A private memcached (loopback, free port) for Django's memcached cache tests, when the machine has
    one; its address goes into the settings' CACHES. Stopped at exit."""
    global _MEMCACHED
    exe = shutil.which("memcached")
    if exe is None:
        return None
    from tests.testbed.mariadb import free_port

    port = free_port()
    args = [exe, "-l", "127.0.0.1", "-p", str(port), "-U", "0"]
    if os.geteuid() == 0:
        args += ["-u", "root"]  # memcached refuses to run as root without naming the user
    _MEMCACHED = subprocess.Popen(
        args,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    _CHILDREN.add(_MEMCACHED)
    import socket

    for _ in range(50):
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return f"127.0.0.1:{port}"
        time.sleep(0.1)
    return None


def stop_redis() -> None:
    for proc in (_REDIS, _MEMCACHED):
        if proc is not None and proc.poll() is None:
            proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)


_BACKEND_PATH: str | None = None  # set by --backend-rev: a snapshot of the backend packages


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not _STRIPPED_ENV.match(k)}
    if _BACKEND_PATH:
        env["PYTHONPATH"] = _BACKEND_PATH  # the snapshot's django_singlestore* before the editable install
    return env


def backend_snapshot(rev: str) -> Path:
    """django_singlestore/ and django_singlestore_async/ as committed at `rev` (git archive), so a run
    measures committed code even while the working tree is being edited."""
    sha = subprocess.run(
        ["git", "rev-parse", "--short", rev], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout.strip()
    dest = WORK / "backend" / sha
    if not (dest / ".complete").exists():
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "archive", sha, "django_singlestore", "django_singlestore_async"],
            capture_output=True,
            cwd=ROOT,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
        (dest / ".complete").write_text(sha + "\n")
    return dest


# -------------------------------------------------------------------------------------------- state


def state_path(leg_dir: Path, app: str) -> Path:
    return leg_dir / "state" / f"{app}.json"


def write_json_atomic(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    tmp.replace(path)


def load_state(leg_dir: Path, app: str) -> R.AppResult | None:
    try:
        return R.AppResult.from_json(json.loads(state_path(leg_dir, app).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def apps_to_run(leg_dir: Path, apps: Sequence[str], *, force: bool = False, retry: bool = False) -> list[str]:
    """Resume logic: apps without a state file; with `retry` also those that broke; `force`: all."""
    todo = []
    for app in apps:
        st = load_state(leg_dir, app)
        if force or st is None or (retry and (st.status != "done" or st.not_run)):
            todo.append(app)
    return todo


# ---------------------------------------------------------------------------------------------- run


@dataclass
class RunConfig:
    leg: Leg
    tests_dir: Path
    url: str | None
    target: str
    parallel: int = 1
    timeout: float = 2400.0
    quick: bool = False
    verbosity: int = 2
    lift_refusal_skips: bool = False  # run the tests skipped for a detected planner refusal
    redis_url: str | None = None  # a private redis-server for Django's Redis cache tests
    memcached: str | None = None  # host:port of a private memcached for Django's memcached cache tests


def settings_module(cfg: RunConfig, worker: int, runner: str | None = None) -> str:
    """Write the settings shim for (leg, worker) into the unpacked tests dir; return its module name."""
    leg_dir = cfg.leg.dir(cfg.quick)
    tag = re.sub(r"\W", "_", cfg.leg.tag + ("_quick" if cfg.quick else "")) + f"_w{worker}"
    config = {
        "django_tests_dir": str(cfg.tests_dir),
        "engine": cfg.leg.engine,
        "url": cfg.url,
        "test_name": f"test_djs_{tag}",
        "record_dir": str(leg_dir / "records" / "raw"),
        "runner": runner,
        "lift_refusal_skips": cfg.lift_refusal_skips,
        "redis_url": cfg.redis_url,
        "memcached": cfg.memcached,
    }
    config_path = leg_dir / f"config_w{worker}.json"
    write_json_atomic(config_path, config)
    module = f"djs_settings_{tag}"
    shim = (
        "# Generated by tests/django_suite/run.py (django-singlestore): Django's test settings, DATABASES\n"
        "# pointed at the backend under test. Not part of Django.\n"
        "import sys\n\n"
        f"if {str(ROOT)!r} not in sys.path:\n"
        f"    sys.path.append({str(ROOT)!r})\n\n"
        "from tests.django_suite.settings import load\n\n"
        f"globals().update(load({str(config_path)!r}))\n"
    )
    (cfg.tests_dir / f"{module}.py").write_text(shim)
    return module


# Apps never run: GeoDjango needs a spatial backend, postgres_tests is PostgreSQL's own (issue 16).
EXCLUDED_APPS: frozenset[str] = frozenset({"gis_tests", "postgres_tests"})
# What runtests.py itself never discovers as an app (its SUBDIRS_TO_SKIP).
_NOT_APPS: frozenset[str] = frozenset({"import_error_package", "test_runner_apps"})


def all_apps(tests_dir: Path) -> list[str]:
    """Every test app of a Django release (as runtests.py discovers them) but EXCLUDED_APPS: the
    issue's core list first (cheap, database-heavy apps early), then the rest alphabetically."""
    found = (
        {
            d.name
            for d in tests_dir.iterdir()
            if d.is_dir() and "." not in d.name and (d / "__init__.py").exists()
        }
        - EXCLUDED_APPS
        - _NOT_APPS
    )
    first = [a for a in R.APPS if a in found or SPLIT_APPS.get(a, ("", ""))[0] in found]
    return first + sorted(found - set(first))


# The "async_queryset" is Django's async/test_async_queryset.py; "async" is the rest of async/.
SPLIT_APPS: dict[str, tuple[str, str]] = {"async_queryset": ("async", "test_async_queryset")}


def labels_for(app: str, tests_dir: Path) -> list[str]:
    """runtests.py labels for one entry of the app list (an app, or a test label given by the user)."""
    if app in SPLIT_APPS:
        parent, module = SPLIT_APPS[app]
        return [f"{parent}.{module}"]
    carved = sorted(module for parent, module in SPLIT_APPS.values() if parent == app)
    if carved and (tests_dir / app).is_dir():
        modules = sorted(
            p.stem
            for p in (tests_dir / app).glob("*.py")
            if (p.stem == "tests" or p.stem.startswith("test_")) and p.stem not in carved
        )
        return [f"{app}.{m}" for m in modules]
    return [app]


def run_app(
    cfg: RunConfig,
    app: str,
    worker: int = 0,
    labels: Sequence[str] | None = None,
    extra_args: Sequence[str] = (),
    env_extra: dict[str, str] | None = None,
    log_name: str | None = None,
) -> R.AppResult:
    """Run `runtests.py <labels of app>` once; write and return its AppResult. `env_extra` is added to
    the child's environment; `log_name` names the text log (default: the app)."""
    labels_given = bool(labels)
    labels = list(labels) if labels else labels_for(app, cfg.tests_dir)
    leg_dir = cfg.leg.dir(cfg.quick)
    module = settings_module(cfg, worker)
    (leg_dir / "logs").mkdir(parents=True, exist_ok=True)
    (leg_dir / "records" / "raw").mkdir(parents=True, exist_ok=True)
    log_path = leg_dir / "logs" / f"{log_name or app}.log"
    cmd = [
        cfg.leg.python,
        "-u",
        "runtests.py",
        f"--settings={module}",
        "--noinput",
        f"-v{cfg.verbosity}",
        f"--parallel={cfg.parallel}",
        *extra_args,
        *labels,
    ]
    t0 = time.monotonic()
    status = "done"
    with open(log_path, "w") as out:
        out.write(f"$ {' '.join(cmd)}\n(cwd {cfg.tests_dir}; started {datetime.now(UTC).isoformat()})\n")
        out.flush()
        proc = subprocess.Popen(
            cmd,
            cwd=cfg.tests_dir,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**child_env(), **(env_extra or {})},
            start_new_session=True,
        )
        _CHILDREN.add(proc)
        try:
            rc: int | None = proc.wait(timeout=cfg.timeout)
        except subprocess.TimeoutExpired:
            status = "timeout"
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # the group we started (runtests and its workers)
            rc = proc.wait()
        finally:
            _CHILDREN.discard(proc)
    seconds = time.monotonic() - t0
    raw = leg_dir / "records" / "raw" / f"{proc.pid}.jsonl"
    record = leg_dir / "records" / f"{app}.jsonl"
    if raw.exists():
        raw.replace(record)
    elif record.exists():
        record.unlink()
    lines = record.read_text().splitlines() if record.exists() else []
    text = log_path.read_text(errors="replace")
    if status == "done" and rc not in (0, 1):
        status = "crashed"
    sizes_path = WORK / f"sizes-{cfg.leg.django_version}.json"
    result = R.summarise(
        app,
        R.read_records(lines),
        status=status,
        seconds=seconds,
        rc=rc,
        log_text=text[-200_000:],
        size_hint=_load_sizes(sizes_path).get(app),
    )
    if result.planned and not labels_given:
        _store_size(sizes_path, app, result.planned)
    data = result.to_json()
    data["meta"] = {
        "labels": labels,
        "django": cfg.leg.django_version,
        "engine": cfg.leg.engine,
        "target": cfg.target,
        "parallel": cfg.parallel,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    write_json_atomic(state_path(leg_dir, app), data)
    return result


_CHILDREN: set[subprocess.Popen[bytes]] = set()
_SIZES_LOCK = threading.Lock()

# -- Selenium: Django's browser tests skip ("No browsers specified") unless runtests gets --selenium --------
NO_BROWSER = "No browsers specified"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SELENIUM_ARGS = ("--selenium=chrome", "--headless")


def chromium_wrapper(work: Path = WORK) -> Path | None:
    """A script that starts Debian's Chromium with --no-sandbox (its sandbox refuses to run as root, as
    the suite does here) and no /dev/shm use; None when chromium or chromedriver is missing (`make deps`)."""
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        return None
    path = work / "chromium-no-sandbox"
    work.mkdir(parents=True, exist_ok=True)
    path.write_text(f'#!/bin/sh\nexec {CHROMIUM} --no-sandbox --disable-dev-shm-usage --disable-gpu "$@"\n')
    path.chmod(0o755)
    return path


def selenium_env(wrapper: Path) -> dict[str, str]:
    """Selenium Manager's settings (SE_* environment): the wrapper as the browser, offline, so it takes
    chromedriver from PATH instead of downloading one."""
    return {
        "SE_BROWSER_PATH": str(wrapper),
        "SE_OFFLINE": "true",
        "PATH": f"{Path(CHROMEDRIVER).parent}:{os.environ.get('PATH', '')}",
    }


def needs_browser(res: R.AppResult) -> bool:
    return any(NO_BROWSER in reason for reason in res.skip_reasons)


def merge_records(first: Sequence[str], browser: Sequence[str]) -> list[str]:
    """The first run's record lines with the outcomes of every test the browser run reported replaced by
    the browser run's (its planned list and end marker are the first run's)."""
    rerun: list[str] = []
    ids: set[str] = set()
    for rec, line in zip(R.read_records(browser), browser, strict=False):
        if rec.get("event") == "test":
            ids.add(str(rec.get("id", "?")))
            rerun.append(line)
    kept = [
        line
        for rec, line in zip(R.read_records(first), first, strict=False)
        if not (rec.get("event") == "test" and str(rec.get("id", "?")) in ids)
    ]
    return kept + rerun


def rerun_with_browser(cfg: RunConfig, app: str, worker: int, first: R.AppResult) -> R.AppResult | None:
    """Run an app's Selenium tests (`--selenium=chrome --headless`, one process) after a run where they
    skipped for want of a browser, and merge their outcomes into the app's records and state. None (the
    first run's results kept) when there is no browser or the browser run broke."""
    wrapper = chromium_wrapper()
    if wrapper is None:
        return None
    leg_dir = cfg.leg.dir(cfg.quick)
    record = leg_dir / "records" / f"{app}.jsonl"
    state = state_path(leg_dir, app)
    first_lines = record.read_text().splitlines() if record.exists() else []
    first_state = json.loads(state.read_text())
    first_log = (leg_dir / "logs" / f"{app}.log").read_text(errors="replace")
    res = run_app(
        dataclasses.replace(cfg, parallel=1),
        app,
        worker,
        labels=labels_for(app, cfg.tests_dir),
        extra_args=SELENIUM_ARGS,
        env_extra=selenium_env(wrapper),
        log_name=f"{app}.selenium",
    )  # fmt: skip (labels given: the browser run's test count is not stored as the app's size)
    browser_lines = record.read_text().splitlines() if record.exists() else []
    if res.status != "done" or not any(r.get("event") == "test" for r in R.read_records(browser_lines)):
        record.write_text("".join(line + "\n" for line in first_lines))
        write_json_atomic(state, first_state)
        return None
    merged = merge_records(first_lines, browser_lines)
    record.write_text("".join(line + "\n" for line in merged))
    result = R.summarise(
        app,
        R.read_records(merged),
        status=first.status,
        seconds=first.seconds + res.seconds,
        rc=first.rc,
        log_text=first_log[-200_000:],
    )
    data = result.to_json()
    data["meta"] = {**first_state.get("meta", {}), "selenium": " ".join(SELENIUM_ARGS)}
    write_json_atomic(state, data)
    return result


def _load_sizes(path: Path) -> dict[str, int]:
    """{app: number of tests} of one Django version, learnt from runs that got as far as planning."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): int(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _store_size(path: Path, app: str, planned: int) -> None:
    with _SIZES_LOCK:
        sizes = _load_sizes(path)
        if sizes.get(app) != planned:
            sizes[app] = planned
            write_json_atomic(path, sizes)


def backend_revision() -> str:
    """The commit the backend was run at, "+ uncommitted changes" when its files differ from it."""
    if _BACKEND_PATH:
        return Path(_BACKEND_PATH).name + " (committed snapshot)"
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "django_singlestore", "django_singlestore_async"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" + uncommitted backend changes" if dirty else "")


def run_leg(cfg: RunConfig, apps: Sequence[str], jobs: int = 1) -> list[R.AppResult]:
    leg_dir = cfg.leg.dir(cfg.quick)
    write_json_atomic(
        leg_dir / "leg.json",
        {
            "python": cfg.leg.python,
            "django": cfg.leg.django_version,
            "engine": cfg.leg.engine,
            "target": cfg.target,
            "parallel": cfg.parallel,
            "jobs": jobs,
            "updated": datetime.now(UTC).isoformat(timespec="seconds"),
            "backend": backend_revision(),
        },
    )
    free = list(range(max(1, jobs)))
    lock = threading.Lock()

    stop = threading.Event()

    def one(app: str) -> R.AppResult | None:
        if stop.is_set():
            return None
        with lock:
            worker = free.pop(0)
        try:
            log(f"{cfg.leg.tag}: {app} ...")
            res = run_app(cfg, app, worker)
            if res.status == "done" and needs_browser(res) and cfg.target != "sqlite":
                log(f"{cfg.leg.tag}: {app}: Selenium tests again with {' '.join(SELENIUM_ARGS)} ...")
                res = rerun_with_browser(cfg, app, worker, res) or res
            rate = R.fmt_rate(R.pass_rate(res))
            log(
                f"{cfg.leg.tag}: {app}: {res.status} passed={res.passed} failed={res.failed} "
                f"errors={res.errors} skipped={res.skipped} xfail={res.expected_failures} "
                f"rate={rate} ({res.seconds:.0f}s)"
            )
            if server_unreachable(res):
                # The server is gone (crashed or stopped): this app's result says nothing about the
                # backend. Forget it (a rerun resumes here) and stop the leg.
                state_path(leg_dir, app).unlink(missing_ok=True)
                stop.set()
                log(f"{cfg.leg.tag}: server unreachable ({res.setup_error}); stopping this leg")
                return None
            return res
        finally:
            with lock:
                free.append(worker)

    if jobs <= 1:
        maybe = [one(app) for app in apps]
    else:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            maybe = list(pool.map(one, apps))
    out = [r for r in maybe if r is not None]
    if stop.is_set():
        raise ServerGone(f"{cfg.leg.tag}: the server became unreachable; see {leg_dir / 'logs'}")
    return out


class ServerGone(RuntimeError):
    """The database server stopped answering during a leg."""


_UNREACHABLE = re.compile(r"\((2002|2003|2006|2013), ")


def server_unreachable(res: R.AppResult) -> bool:
    """An app that could not even connect (server crashed or stopped), as opposed to a backend failure."""
    return res.status == "setup_failed" and bool(_UNREACHABLE.search(res.setup_error))


def run_quick(
    url: str,
    *,
    python: str = sys.executable,
    engine: str = DEFAULT_ENGINE,
    labels: Sequence[str] = QUICK_LABELS,
    timeout: float = 400.0,
) -> R.AppResult:
    """The quick subset against `url` (e.g. the `testbed` fixture's master URL) in one runtests.py run;
    for `make test`. Reruns every time (no resume); results under work/<leg>-quick/. The returned
    AppResult has the counts, `pass_rate(result)` and `problems` (failing tests with their exception)."""
    version = django_version(python)
    leg = Leg(python=python, django_version=version, engine=engine)
    cfg = RunConfig(
        leg=leg,
        tests_dir=ensure_django_tests(python, version),
        url=url,
        target="url",
        timeout=timeout,
        quick=True,
    )
    return run_app(cfg, "quick", labels=labels)


def cmd_census(args: argparse.Namespace) -> int:
    """Every model of the app list created one by one on the server (see census.py)."""
    from tests.django_suite import census

    python = os.path.abspath(args.python[0] if args.python else str(DEFAULT_PYTHONS[0]))
    version = django_version(python)
    engine = args.engine or DEFAULT_ENGINE
    url, target = resolve_url(args, python)
    leg = Leg(python=python, django_version=version, engine=engine, target=target)
    cfg = RunConfig(leg=leg, tests_dir=ensure_django_tests(python, version), url=url, target=target)
    module = settings_module(cfg, 9, runner="tests.django_suite.census.CensusRunner")
    leg_dir = leg.dir()
    labels = sorted({SPLIT_APPS.get(a, (a, ""))[0] for a in R.APPS})
    log_path = leg_dir / "logs" / "census.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as out:
        rc = subprocess.call(
            [
                python,
                "-u",
                "runtests.py",
                f"--settings={module}",
                "--noinput",
                "-v1",
                "--parallel=1",
                *labels,
            ],
            cwd=cfg.tests_dir,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=child_env(),
        )
    records = leg_dir / "records" / "raw" / "census.jsonl"
    if not records.exists():
        print(log_path.read_text()[-3000:])
        return rc or 1
    summary = census.summarise(records.read_text().splitlines())
    (leg_dir / "census.md").write_text(summary)
    records.replace(leg_dir / "census.jsonl")
    print(summary)
    print(f"(records: {leg_dir / 'census.jsonl'})")
    return 0


def cmd_preview(args: argparse.Namespace) -> int:
    """Diagnostic: apps run on test databases pre-created with a stand-in layout (census.py); legs
    `<tag>-preview`, never in RESULTS.md."""
    python = os.path.abspath(args.python[0] if args.python else str(DEFAULT_PYTHONS[0]))
    version = django_version(python)
    engine = args.engine or DEFAULT_ENGINE
    url, _target = resolve_url(args, python)
    leg = Leg(python=python, django_version=version, engine=engine, target="preview")
    cfg = RunConfig(leg=leg, tests_dir=ensure_django_tests(python, version), url=url, target="preview")
    leg_dir = leg.dir()
    write_json_atomic(
        leg_dir / "leg.json",
        {"python": python, "django": version, "engine": engine, "target": "preview (stand-in layout)"},
    )
    apps = _parse_apps(args.apps) if args.apps else list(R.APPS)
    for app in apps:
        labels = labels_for(app, cfg.tests_dir)
        module = settings_module(cfg, 0, runner="tests.django_suite.census.PreviewSetupRunner")
        (leg_dir / "logs").mkdir(parents=True, exist_ok=True)
        with open(leg_dir / "logs" / f"{app}.setup.log", "w") as out:
            subprocess.call(
                [python, "-u", "runtests.py", f"--settings={module}", "--noinput", "-v1", *labels],
                cwd=cfg.tests_dir,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=child_env(),
            )
        setup = leg_dir / "records" / "raw" / "preview-setup.jsonl"
        if setup.exists():
            setup.replace(leg_dir / "records" / f"{app}.setup.jsonl")
        settings_module(cfg, 0)  # back to the recording runner for the tests themselves
        res = run_app(cfg, app, 0, extra_args=["--keepdb"])
        log(
            f"{leg.tag}: {app}: {res.status} passed={res.passed} failed={res.failed} errors={res.errors} "
            f"skipped={res.skipped} rate={R.fmt_rate(R.pass_rate(res))} ({res.seconds:.0f}s)"
        )
    return 0


# ------------------------------------------------------------------------------------------- report


def load_leg_results(leg_dir: Path, apps: Sequence[str] | None = None) -> list[R.AppResult]:
    """The finished apps of a leg: `apps` in that order, or every app with a state file (core list first)."""
    if apps is None:
        have = {p.stem for p in (leg_dir / "state").glob("*.json")}
        apps = [a for a in R.APPS if a in have] + sorted(have - set(R.APPS))
    return [r for r in (load_state(leg_dir, a) for a in apps) if r is not None]


def leg_dirs(quick: bool = False, *, product_only: bool = False) -> list[Path]:
    """Leg directories under work/; `product_only`: only legs of django_singlestore* (what RESULTS.md
    reports; legs on Django's own backends exist to develop the runner)."""
    if not WORK.exists():
        return []
    out = []
    for d in sorted(WORK.iterdir()):
        if not (d / "leg.json").exists() or d.name.endswith("-quick") != quick or not d.name.startswith("dj"):
            continue
        if product_only and (len(d.name.split("-")) != 2 or d.name.split("-")[1] not in ("sync", "async")):
            continue
        out.append(d)
    return out


def status_text(quick: bool = False) -> str:
    lines = []
    pid = running_pid()
    lines.append(
        f"background run: {'pid ' + str(pid) if pid else 'not running'} (log: {WORK / 'runner.log'})"
    )
    for d in leg_dirs(quick):
        meta = json.loads((d / "leg.json").read_text())
        res = load_leg_results(d)
        t = R.totals(res)
        lines.append(
            f"{d.name}: Django {meta['django']} {meta['engine']} on {meta['target']}: {len(res)} "
            f"apps, passed={t.passed} failed={t.failed} errors={t.errors} skipped={t.skipped} "
            f"xfail={t.expected_failures} rate={R.fmt_rate(t.rate)}"
        )
    return "\n".join(lines)


def render_results(dirs: Iterable[Path]) -> str:
    from tests.django_suite import report

    return report.render(dirs)


# -------------------------------------------------------------------------------------- background


def running_pid() -> int | None:
    try:
        pid = int((WORK / "runner.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    # a recycled pid is not ours: check the command line names this module
    with contextlib.suppress(OSError):
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        if b"tests.django_suite" not in cmdline:
            return None
    return pid


def background(argv: list[str]) -> int:
    pid = running_pid()
    if pid:
        print(f"django-suite: already running (pid {pid}); follow {WORK / 'runner.log'}")
        return 0
    WORK.mkdir(parents=True, exist_ok=True)
    args = [a for a in argv if a != "--background"]
    with open(WORK / "runner.log", "a") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.django_suite", *args],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    print(f"django-suite: running in the background, pid {proc.pid}")
    print(f"  progress: tail -f {WORK / 'runner.log'}   or   python -m tests.django_suite status")
    print(f"  results:  {RESULTS_MD} (rewritten after each leg); resumes by app when started again")
    return 0


def stop_background() -> int:
    pid = running_pid()
    if not pid:
        print("django-suite: no background run")
        return 0
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)  # its own session: the runner and the runtests it started
    print(f"django-suite: stopped pid {pid}")
    return 0


# --------------------------------------------------------------------------------------------- main


def _on_term(signum: int, _frame: Any) -> None:
    for proc in list(_CHILDREN):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    raise SystemExit(128 + signum)


def resolve_url(args: argparse.Namespace, python: str) -> tuple[str | None, str]:
    if args.url:
        return args.url, "url"
    if args.target == "sqlite":
        return None, "sqlite"
    if args.target == "mariadb":
        return start_plain_mariadb(), "mariadb"
    if os.environ.get("SINGLESTORE_URL"):
        return os.environ["SINGLESTORE_URL"], "SINGLESTORE_URL"
    if getattr(args, "restart_testbed", False):
        # A test bed left running from an earlier run keeps the gateway code it started with.
        stop_testbed(python)
        args.restart_testbed = False  # once per invocation, not per leg
    return start_testbed(python), "gateway"


def cmd_run(args: argparse.Namespace, argv: list[str]) -> int:
    if args.background:
        return background(argv)
    signal.signal(signal.SIGTERM, _on_term)
    global _BACKEND_PATH
    if args.backend_rev:
        _BACKEND_PATH = str(backend_snapshot(args.backend_rev))
    own_pid_file = False
    if not args.quick:
        pid = running_pid()
        if pid and pid != os.getpid():
            print(
                f"django-suite: another run is active (pid {pid}); `python -m tests.django_suite stop` first"
            )
            return 1
        WORK.mkdir(parents=True, exist_ok=True)
        (WORK / "runner.pid").write_text(f"{os.getpid()}\n")
        own_pid_file = True
    try:
        pythons = args.python or [str(p) for p in DEFAULT_PYTHONS if p.exists()]
        default_engine = "django.db.backends.sqlite3" if args.target == "sqlite" else DEFAULT_ENGINE
        engines = args.engine or [default_engine]
        chosen = _parse_apps(args.apps) if args.apps else (list(QUICK_LABELS) if args.quick else None)
        redis_url = None if args.quick else start_redis()
        memcached = None if args.quick else start_memcached()
        worst = 0
        for python, engine in [(p, e) for p in pythons for e in engines]:
            python = os.path.abspath(python)  # not resolve(): a venv's python is a symlink
            version = django_version(python)
            tests_dir = ensure_django_tests(python, version)
            url, target = resolve_url(args, python)
            leg = Leg(python=python, django_version=version, engine=engine, target=target)
            cfg = RunConfig(
                leg=leg,
                tests_dir=tests_dir,
                url=url,
                target=target,
                parallel=args.parallel,
                timeout=args.timeout,
                quick=args.quick,
                lift_refusal_skips=args.lift_refusal_skips,
                redis_url=redis_url,
                memcached=memcached,
            )
            leg_dir = leg.dir(args.quick)
            apps = chosen if chosen is not None else (list(R.APPS) if args.core else all_apps(tests_dir))
            todo = apps if args.quick else apps_to_run(leg_dir, apps, force=args.force, retry=args.retry)
            log(
                f"{leg.tag}: Django {version} ({python}), {engine} on {target}: "
                f"{len(todo)} of {len(apps)} apps to run"
            )
            try:
                if args.quick:
                    res = [run_app(cfg, "quick", labels=apps)]
                else:
                    res = run_leg(cfg, todo, jobs=args.jobs)
            except ServerGone as exc:
                log(str(exc))
                return 3
            if args.quick:
                t = R.totals(res)
                print(R.app_table(res))
                print(f"quick: {leg.tag}: pass rate {R.fmt_rate(t.rate)} in {t.seconds:.0f}s")
                if t.failed or t.errors or t.unexpected_successes:
                    worst = 1
            else:
                if leg.engine.startswith(DEFAULT_ENGINE):
                    RESULTS_MD.write_text(render_results(leg_dirs(product_only=True)))
                log(f"{leg.tag}: done")
        if args.stop_testbed and not args.url and args.target == "gateway":
            stop_testbed(pythons[0])
        return worst
    finally:
        stop_redis()
        if own_pid_file:
            with contextlib.suppress(OSError):
                if (WORK / "runner.pid").read_text().split()[0] == str(os.getpid()):
                    (WORK / "runner.pid").unlink()


def _parse_apps(text: str) -> list[str]:
    return [a for a in re.split(r"[,\s]+", text) if a]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tests.django_suite", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the suite (resumes by app)")
    run.add_argument(
        "--python", action="append", help="interpreter of a leg (repeatable); default both venvs"
    )
    run.add_argument(
        "--apps",
        help="comma-separated apps or test labels (default: every app but gis_tests, postgres_tests)",
    )
    run.add_argument("--core", action="store_true", help="only the core list of 44 apps (results.APPS)")
    run.add_argument(
        "--lift-refusal-skips",
        action="store_true",
        help="run the tests skipped for a detected planner refusal (re-detects the list; issue 21)",
    )
    run.add_argument(
        "--engine",
        action="append",
        help=f"ENGINE of a leg (repeatable; default {DEFAULT_ENGINE}), e.g. django_singlestore_async",
    )
    run.add_argument("--target", choices=["gateway", "mariadb", "sqlite"], default="gateway")
    run.add_argument("--url", help="mysql://USER:PASSWORD@HOST:PORT/NAME of a server to use instead")
    run.add_argument("--parallel", type=int, default=1, help="runtests --parallel (needs DB cloning)")
    run.add_argument("--jobs", type=int, default=1, help="apps run side by side (separate test DBs)")
    run.add_argument("--timeout", type=float, default=2400.0, help="seconds per app before it is killed")
    run.add_argument("--force", action="store_true", help="rerun apps that have a state file")
    run.add_argument(
        "--retry", action="store_true", help="rerun apps that crashed, timed out or failed setup"
    )
    run.add_argument("--quick", action="store_true", help=f"the quick subset {QUICK_LABELS}, no resume")
    run.add_argument("--background", action="store_true", help="detach; log to work/runner.log")
    run.add_argument("--stop-testbed", action="store_true", help="stop the test bed at the end")
    run.add_argument(
        "--backend-rev",
        help="run the backend as committed at this git revision (e.g. HEAD) instead of the working tree",
    )
    run.add_argument(
        "--restart-testbed", action="store_true", help="restart the test bed first (picks up gateway changes)"
    )
    cen = sub.add_parser("census", help="create every model of the app list one by one; list refusals")
    cen.add_argument("--python", action="append")
    cen.add_argument("--engine")
    cen.add_argument("--target", choices=["gateway", "mariadb", "sqlite"], default="gateway")
    cen.add_argument("--url")
    pre = sub.add_parser("preview", help="diagnostic: apps on test DBs made with a stand-in layout")
    pre.add_argument("--python", action="append")
    pre.add_argument("--engine")
    pre.add_argument("--apps")
    pre.add_argument("--target", choices=["gateway"], default="gateway")
    pre.add_argument("--url")
    sub.add_parser("status", help="progress per leg")
    rep = sub.add_parser("report", help=f"write {RESULTS_MD.name} from the state files")
    rep.add_argument("--all", action="store_true", help="print a report of every leg (dev legs too)")
    sub.add_parser("stop", help="stop the background run")
    sub.add_parser("refusals", help="print the detected refusals of every leg (test -> gateway rule)")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    if args.command == "run":
        return cmd_run(args, argv)
    if args.command == "preview":
        return cmd_preview(args)
    if args.command == "census":
        return cmd_census(args)
    if args.command == "status":
        print(status_text())
        return 0
    if args.command == "report":
        if args.all:
            print(render_results(leg_dirs()))  # every leg, Django's own backends too: to stdout
            return 0
        RESULTS_MD.write_text(render_results(leg_dirs(product_only=True)))
        print(f"wrote {RESULTS_MD}")
        return 0
    if args.command == "stop":
        return stop_background()
    if args.command == "refusals":
        from tests.django_suite import refusals

        for d in leg_dirs(product_only=True):
            hits = {t: h for r in load_leg_results(d) for t, h in refusals.detected(r.problems).items()}
            print(f"# {d.name}: {len(hits)} tests")
            for tid, hit in sorted(hits.items()):
                print(f"    {tid!r}: {hit.rule!r},")
        return 0
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
