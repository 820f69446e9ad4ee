"""What a newcomer meets first: `make help`, `make testbed` / `make testbed-stop`, `make demo` (the
example app under a short load).

The make targets run here on a private state dir (`TESTBED_DIR`) with this interpreter's virtualenv
(`TOOL_VENV`), and `-o` keeps make from rebuilding that virtualenv.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import MySQLdb
import pytest

from tests.testbed import Endpoint
from tests.testbed.mariadb import CLIENT, MARIADBD

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.prefix)

needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="environment: no `make` binary")
needs_mariadbd = pytest.mark.skipif(
    shutil.which(MARIADBD) is None, reason="environment: no mariadbd binary (run `make deps`)"
)


def make(target: str, testbed_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    cmd = [
        "make", "--no-print-directory", "-C", str(ROOT), "-o", f"{VENV}/.installed",
        f"TOOL_VENV={VENV}", f"TESTBED_DIR={testbed_dir}", target,
    ]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, **env})


def run_testbed(command: str, state_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.testbed", command, "--state-dir", str(state_dir)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("TESTBED_")}, **env},
    )


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def master_url(stdout: str) -> str:
    [master, _child] = stdout.splitlines()
    return master.split("\t")[1]


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    """A test bed state dir; whatever is still running in it is stopped afterwards."""
    yield tmp_path / "testbed"
    run_testbed("stop", tmp_path / "testbed")


@needs_make
def test_make_help_lists_every_target() -> None:
    makefile = (ROOT / "Makefile").read_text()
    [phony] = re.findall(r"^\.PHONY:(.*)$", makefile, flags=re.M)
    targets = phony.split()
    assert {"venvs", "django-suite", "bench", "faults", "clean"} <= set(targets)
    run = subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), "help"], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    listed = {line.split()[1] for line in run.stdout.splitlines() if line.startswith("make ")}
    assert listed == set(targets) - {"help"}


@needs_mariadbd
def test_testbed_start_prints_two_urls_then_hints_and_honours_fixed_ports(state_dir: Path) -> None:
    master_port, child_port = free_ports(2)
    run = run_testbed(
        "start", state_dir, TESTBED_MASTER_PORT=str(master_port), TESTBED_CHILD_PORT=str(child_port)
    )
    assert run.returncode == 0, run.stderr
    # stdout: exactly the two lines scripts read (interfaces.md).
    lines = run.stdout.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["master", "child"]
    master, child = (Endpoint.from_url(line.split("\t")[1]) for line in lines)
    assert (master.port, child.port) == (master_port, child_port)
    assert run.stdout == f"master\t{master.url}\nchild\t{child.url}\n"
    # stderr: a client command that works as printed, and a DATABASES snippet that is valid Python.
    [client_line] = [line for line in run.stderr.splitlines() if line.strip().startswith("mariadb ")]
    snippet = run.stderr[run.stderr.index("DATABASES = {") :].split("\n\n")[0]
    namespace: dict[str, object] = {}
    exec(snippet, namespace)
    assert namespace["DATABASES"] == {
        "default": {
            "ENGINE": "django_singlestore",
            "HOST": "127.0.0.1",
            "PORT": master_port,
            "USER": master.user,
            "PASSWORD": master.password,
            "NAME": master.database,
        }
    }
    assert "make testbed-stop" in run.stderr
    if shutil.which(CLIENT):
        argv = shlex.split(client_line)
        query = subprocess.run(
            [*argv, "--batch", "--skip-column-names", "-e", "SELECT @@memsql_version"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert query.returncode == 0, query.stderr
        assert re.fullmatch(r"\d+\.\d+\.\d+\n", query.stdout)

    # `start` again is idempotent; asking for other ports then says why they are not used.
    other = run_testbed("start", state_dir, TESTBED_MASTER_PORT=str(free_ports(1)[0]))
    assert other.returncode == 0 and other.stdout == run.stdout
    assert "already running on port" in other.stderr and "TESTBED_MASTER_PORT" in other.stderr

    status = run_testbed("status", state_dir)
    assert status.returncode == 0 and status.stdout == run.stdout

    stop = run_testbed("stop", state_dir)
    assert stop.returncode == 0, stop.stderr
    assert re.search(
        rf"stopped the gateway \(pid \d+, master port {master_port}, child port {child_port}\)", stop.stdout
    )
    assert re.search(r"stopped MariaDB \(pid \d+, port \d+\)", stop.stdout)
    assert run_testbed("status", state_dir).returncode == 3
    again = run_testbed("stop", state_dir)
    assert again.returncode == 0 and "nothing was running" in again.stdout


@pytest.mark.parametrize("value", ["abc", "0", "70000"])
def test_testbed_refuses_a_bad_fixed_port(tmp_path: Path, value: str) -> None:
    run = run_testbed("start", tmp_path / "testbed", TESTBED_CHILD_PORT=value)
    assert run.returncode != 0 and run.stdout == ""
    assert f"TESTBED_CHILD_PORT must be a TCP port number (1-65535), not {value!r}" in run.stderr
    assert not (tmp_path / "testbed").exists()


def tables(url: str) -> set[str]:
    conn = MySQLdb.connect(**Endpoint.from_url(url).mysqldb_kwargs())
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW TABLES")
            return {row[0] for row in cur.fetchall()}
    finally:
        conn.close()


SHOP_TABLES = {"shop_product", "shop_order", "auth_user", "django_session"}
LOAD_SUMMARY = re.compile(
    r"load: (\d+) requests in [\d.]+ s from 4 concurrent clients: ([\d.]+) requests/s,"
    r" latency p50 ([\d.]+) ms, p99 ([\d.]+) ms, 0 errors"
)


def demo_env(**env: str) -> dict[str, str]:
    return {"DEMO_SECONDS": "1", "DEMO_CONCURRENCY": "4", "DEMO_PORT": str(free_ports(1)[0]),
            "DEMO_ADMIN_PASSWORD": "demo-Secret-1", "SINGLESTORE_URL": "", **env}  # fmt: skip


def check_load(stdout: str) -> None:
    [(requests, rps, p50, p99)] = LOAD_SUMMARY.findall(stdout)
    assert int(requests) > 0 and float(rps) > 0 and 0 < float(p50) <= float(p99)
    [pool] = re.findall(r"^pool \(get_stats\(\)\): (.*)$", stdout, flags=re.M)
    stats = dict(item.split("=") for item in pool.split(", "))
    assert stats["pool_max"] == "10" and int(stats["requests_num"]) >= int(requests)
    assert "demo: uvicorn stopped" in stdout or "DEMO_KEEP=1" in stdout


@needs_make
@needs_mariadbd
def test_demo_stops_only_what_it_started_and_keeps_with_demo_keep(state_dir: Path) -> None:
    # DEMO_KEEP=1 on a fresh state dir: the demo starts a test bed, serves the app under a short load
    # and leaves both running, with the data.
    kept = make("demo", state_dir, **demo_env(DEMO_KEEP="1"))
    assert kept.returncode == 0, kept.stdout + kept.stderr
    check_load(kept.stdout)
    [base] = re.findall(
        r"admin:  (http://127\.0\.0\.1:\d+)/admin/  user 'admin', password 'demo-Secret-1'", kept.stdout
    )
    assert "--stop --state-dir" in kept.stdout and "make testbed-stop" in kept.stdout + kept.stderr
    with urllib.request.urlopen(base + "/api/products?limit=1", timeout=30) as answer:
        assert json.load(answer)["count"] == 40  # still serving, with its data
    status = run_testbed("status", state_dir)
    assert status.returncode == 0
    assert tables(master_url(status.stdout)) >= SHOP_TABLES

    # On a test bed it did not start (here: the one left above, as if from `make testbed`), the demo
    # replaces the app it kept, leaves the test bed running on the same processes, and drops its
    # tables at the end (no DEMO_KEEP).
    gateway_pid = (state_dir / "gateway.json").read_text()
    mariadb_pid = (state_dir / "mariadb" / "mariadb.pid").read_text()
    reused = make("demo", state_dir, **demo_env())
    assert reused.returncode == 0, reused.stdout + reused.stderr
    assert "demo: stopped the kept app (pid " in reused.stdout
    check_load(reused.stdout)
    assert "already running (make testbed); left running" in reused.stdout
    after = run_testbed("status", state_dir)
    assert after.returncode == 0 and after.stdout == status.stdout
    assert (state_dir / "gateway.json").read_text() == gateway_pid
    assert (state_dir / "mariadb" / "mariadb.pid").read_text() == mariadb_pid
    assert not SHOP_TABLES & tables(master_url(after.stdout))
    with pytest.raises(OSError):
        urllib.request.urlopen(base + "/api/stats", timeout=5)

    # What it started itself it stops.
    assert "stopped the gateway" in run_testbed("stop", state_dir).stdout
    fresh = make("demo", state_dir, **demo_env())
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    check_load(fresh.stdout)
    assert "testbed: stopped the gateway" in fresh.stdout and "testbed: stopped MariaDB" in fresh.stdout
    assert run_testbed("status", state_dir).returncode == 3


def test_package_metadata_orders_after_the_pypi_5x_line_with_an_spdx_license() -> None:
    """`pip install django-singlestore` finds the older 5.0.1: this project's version must order after
    it, and `license` must be an SPDX string (a TOML table makes setuptools warn on every build)."""
    import tomllib

    from packaging.version import Version

    import django_singlestore
    import django_singlestore_async

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert Version(project["version"]) > Version("5.0.1")
    assert django_singlestore.__version__ == django_singlestore_async.__version__ == project["version"]
    assert project["license"] == "BSD-3-Clause"
    assert not any(c.startswith("License ::") for c in project["classifiers"])  # PEP 639: not both
