"""Backend tests: Django settings without pytest-django, and per-test SingleStore aliases.

Unit tests compile SQL with the `default` alias of `tests/settings.py`, whose placeholder address
(port 0) is never reachable, so any server I/O while compiling fails loudly. Integration tests take
`s2` (or build their own alias with `make_alias`): a fresh database `gw_backend_<test>` on the test
bed's master aggregator, created and dropped by the test.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from typing import Any

import django
import pytest
from django.conf import settings

if not settings.configured:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
django.setup()

import MySQLdb  # noqa: E402
from django.db import connections  # noqa: E402

from django_singlestore.base import forget_server_data  # noqa: E402
from tests.testbed import Endpoint, Testbed  # noqa: E402


def alias_settings(endpoint: Endpoint, name: str, **options: Any) -> dict[str, Any]:
    """A complete settings dict for ENGINE django_singlestore at `endpoint`, database `name`."""
    return {
        "ENGINE": "django_singlestore",
        "HOST": endpoint.host,
        "PORT": endpoint.port,
        "USER": endpoint.user,
        "PASSWORD": endpoint.password,
        "NAME": name,
        "OPTIONS": options,
        "TIME_ZONE": None,
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": False,
        "AUTOCOMMIT": True,
        "ATOMIC_REQUESTS": False,
        "TEST": {"CHARSET": None, "COLLATION": None, "MIGRATE": True, "MIRROR": None, "NAME": None},
    }


def database_name(request: pytest.FixtureRequest) -> str:
    raw = f"gw_backend_{request.node.name}"
    return re.sub(r"[^A-Za-z0-9_]", "_", raw)[:60]


class AliasFactory:
    """Registers aliases in `connections` for one test and removes them (and their databases) after."""

    def __init__(self, endpoint: Endpoint, database: str) -> None:
        self.endpoint = endpoint
        self.database = database
        self.aliases: list[str] = []

    def __call__(self, alias: str, endpoint: Endpoint | None = None, **options: Any) -> Any:
        from django_singlestore.base import DatabaseWrapper

        endpoint = endpoint or self.endpoint
        settings_dict = alias_settings(endpoint, self.database, **options)
        connections.settings[alias] = settings_dict
        wrapper = DatabaseWrapper(settings_dict, alias)
        connections[alias] = wrapper
        self.aliases.append(alias)
        forget_server_data(alias)
        return wrapper

    def close(self) -> None:
        for alias in self.aliases:
            connections[alias].close()
            del connections[alias]
            connections.settings.pop(alias, None)
            forget_server_data(alias)


#: A closed local port (TCP "discard"): any connection attempt by a unit test fails at once. Never 0,
#: which mysqlclient would turn into 3306, the machine's own server.
UNREACHABLE = Endpoint("127.0.0.1", 9, "nobody", "nothing", "s2_unit")
UNIT = "unit"


def register_unit_alias() -> Any:
    """The alias unit tests compile with: ENGINE django_singlestore at an address nothing listens on."""
    if UNIT not in connections.settings:
        settings_dict = alias_settings(UNREACHABLE, UNREACHABLE.database)
        connections.settings[UNIT] = settings_dict
    return connections[UNIT]


def run_admin_sql(endpoint: Endpoint, *statements: str) -> None:
    conn = MySQLdb.connect(**endpoint.mysqldb_kwargs(database=""))
    try:
        cur = conn.cursor()
        for statement in statements:
            cur.execute(statement)
    finally:
        conn.close()


@pytest.fixture(autouse=True)
def _integration_db_access(request: pytest.FixtureRequest) -> Iterator[None]:
    """Integration modules (`*_it.py`) manage their own databases: lift pytest-django's blocker there.
    Unit modules keep it, so any I/O they attempt fails twice over (blocker, unreachable address)."""
    if not request.module.__name__.endswith("_it"):
        yield
        return
    blocker = request.getfixturevalue("django_db_blocker")
    with blocker.unblock():
        yield


@pytest.fixture
def make_alias(request: pytest.FixtureRequest, testbed: Testbed) -> Iterator[Callable[..., Any]]:
    """`make_alias(alias, endpoint=None, **OPTIONS)` on this test's own database (utf8mb4)."""
    name = database_name(request)
    collation = getattr(request, "param", None) or "utf8mb4_general_ci"
    run_admin_sql(
        testbed.master,
        f"DROP DATABASE IF EXISTS `{name}`",
        f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE {collation}",
    )
    factory = AliasFactory(testbed.master, name)
    yield factory
    factory.close()
    run_admin_sql(testbed.master, f"DROP DATABASE IF EXISTS `{name}`")


@pytest.fixture
def unit() -> Any:
    """The `unit` alias (see `register_unit_alias`)."""
    return register_unit_alias()


@pytest.fixture
def s2(make_alias: Callable[..., Any]) -> Any:
    """A django_singlestore connection (alias 's2') to this test's own database on the master."""
    return make_alias("s2")
