"""Session fixtures: the private MariaDB and, in front of it, the SingleStore rules gateway.

With `SINGLESTORE_URL` set the suite runs against that real server: the gateway is bypassed and
tests marked `gateway_only` (what only the gateway can check) are skipped with that reason.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.testbed import Testbed, real_server_endpoints
from tests.testbed.mariadb import MARIADBD, MariaDB

REAL_SERVER = real_server_endpoints()


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
