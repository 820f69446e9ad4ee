"""Session fixtures: the private MariaDB and, in front of it, the SingleStore rules gateway.

With `SINGLESTORE_URL` set the suite runs against that real server: the gateway is bypassed and
tests marked `gateway_only` (what only the gateway can check) are skipped with that reason.
"""

from __future__ import annotations

import ast
import fnmatch
import gc
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.testbed import Testbed, real_server_endpoints
from tests.testbed.mariadb import MARIADBD, MariaDB

REAL_SERVER = real_server_endpoints()
SKIPS_ALLOWED = Path(__file__).with_name("skips_allowed.txt")


def load_skip_allow_list(path: Path = SKIPS_ALLOWED) -> list[tuple[str, str]]:
    """`(test id glob, reason prefix)` pairs from tests/skips_allowed.txt (`glob | prefix  # why`)."""
    entries = []
    for raw in path.read_text().splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        pattern, _, prefix = line.partition("|")
        entries.append((pattern.strip(), prefix.strip()))
    return entries


def skip_is_allowed(nodeid: str, reason: str, entries: list[tuple[str, str]]) -> bool:
    return any(
        fnmatch.fnmatchcase(nodeid, pattern) and reason.startswith(prefix) for pattern, prefix in entries
    )


class SkipAudit:
    """Counts the run's skips and fails the run on one that tests/skips_allowed.txt does not list, so a
    backend bug cannot hide as a skip."""

    def __init__(self) -> None:
        self.entries = load_skip_allow_list()
        self.allowed: list[tuple[str, str]] = []
        self.unlisted: list[tuple[str, str]] = []

    def record(self, report: pytest.TestReport | pytest.CollectReport) -> None:
        if not report.skipped or hasattr(report, "wasxfail"):
            return
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        bucket = self.allowed if skip_is_allowed(report.nodeid, reason, self.entries) else self.unlisted
        bucket.append((report.nodeid, reason))

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.record(report)

    @pytest.hookimpl
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self.record(report)

    @pytest.hookimpl
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        total = len(self.allowed) + len(self.unlisted)
        terminalreporter.write_line(
            f"skips: {total} ({len(self.allowed)} listed in tests/skips_allowed.txt, {len(self.unlisted)} not)"
        )
        for nodeid, reason in self.unlisted:
            terminalreporter.write_line(f"UNLISTED SKIP (fails the run): {nodeid}: {reason}", red=True)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.unlisted and exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(SkipAudit(), "singlestore-skip-audit")


# CPython < 3.11.8 and 3.12.0-3.12.1 keep one interpreter-wide depth counter while turning a parse tree
# into `ast` objects (gh-106905). When the garbage collector runs a finalizer in the middle of that and
# the finalizer parses Python too (an asyncio Task or Future dying with an unretrieved exception logs
# it; 3.11's traceback module calls ast.parse for its carets), the outer parse ends with `SystemError:
# AST constructor recursion depth mismatch`. pytest parses the test's source to report a failure, so a
# failing assertion in tests/async_pool (cyclic garbage: failed tasks, their tracebacks and frames)
# crashed the run as INTERNALERROR instead of naming the test. No collection during a parse, no finalizer.
AST_REENTRANCY_BUG = sys.version_info < (3, 11, 8) or (3, 12) <= sys.version_info < (3, 12, 2)


def _parse_without_collection(*args: Any, **kwargs: Any) -> ast.AST:
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _ast_parse(*args, **kwargs)
    finally:
        if enabled:
            gc.enable()


_ast_parse = ast.parse
if AST_REENTRANCY_BUG:
    ast.parse = _parse_without_collection  # type: ignore[assignment]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if REAL_SERVER is None:
        return
    skip = pytest.mark.skip(reason="gateway only: asserts the test bed's emulation, not the real server")
    for item in items:
        if "gateway_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def testbed_root() -> Iterator[Path]:
    """A scratch directory for this session's servers (data dirs, sockets, logs)."""
    root = Path(tempfile.mkdtemp(prefix="s2testbed-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def mariadb(testbed_root: Path) -> Iterator[MariaDB]:
    """One private MariaDB for the whole session (never the machine's own server)."""
    if shutil.which(MARIADBD) is None:
        pytest.skip("environment: no mariadbd binary (run `make deps`)")
    server = MariaDB(testbed_root / "mariadb")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def testbed(request: pytest.FixtureRequest, testbed_root: Path) -> Iterator[Testbed]:
    """The aggregators the suite talks to: the gateway's master and child ports in front of the private
    MariaDB, or the real server of SINGLESTORE_URL (child only with SINGLESTORE_CHILD_URL)."""
    if REAL_SERVER is not None:
        master, child = REAL_SERVER
        yield Testbed(master=master, child=child)
        return
    server: MariaDB = request.getfixturevalue("mariadb")
    bed = Testbed.embedded(server, testbed_root / "gateway")
    yield bed
    bed.stop_gateway()


def require_child(bed: Testbed) -> None:
    """Skip when the server under test has no child aggregator to talk to."""
    if bed.child is None:
        pytest.skip("environment: no child aggregator (set SINGLESTORE_CHILD_URL; the dev image has none)")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(testbed: Testbed) -> None:
    """pytest-django hook: point every alias of tests/settings.py at the test bed's master aggregator
    before the test databases are created (settings dicts are shared with `connections`, so in place)."""
    from django.conf import settings

    for db in settings.DATABASES.values():
        db.update(
            HOST=testbed.master.host,
            PORT=testbed.master.port,
            USER=testbed.master.user,
            PASSWORD=testbed.master.password,
        )
