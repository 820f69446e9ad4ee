"""Per-test databases and aliases, shared by the test packages' conftests.

Tests share one server, so every integration test works on a database of its own (created utf8mb4,
dropped afterwards) and registers its django_singlestore aliases in `django.db.connections` for that
test only. What is here:

- `setup_django()`: Django set up with tests/settings.py unless settings are configured already; a
  conftest whose tests build their own aliases (outside pytest-django's database setup) calls it.
- `alias_settings(endpoint, name=None, *, engine=SYNC_ENGINE, **OPTIONS)`: a complete settings dict
  (`name` defaults to the endpoint's own database).
- `database_name(request, prefix)`: `<prefix>_<test name>`, spelled as a database name.
- `run_admin_sql(endpoint, *statements, database="")`: raw SQL over MySQLdb, outside Django.
- `create_database` / `drop_database`, and `own_database(...)`: both around a `with` block.
- `AliasFactory(endpoint, database)`: `factory(alias, endpoint=None, *, engine=None, **OPTIONS)` registers
  an alias on `database` (through another aggregator with `endpoint`); `factory.close()` removes them all.
- `FreshDatabaseAliases(endpoint, prefix)`: the same, but every alias gets a new database of its own
  unless `same_as=` (an alias made here) names the one to share.
- `db_access_fixture(...)`, `make_alias_fixture(prefix)`: fixture factories for a conftest.

A new test package (tests/alter, say) adopts it in its conftest.py:

    from tests.dbtools import db_access_fixture, make_alias_fixture, setup_django

    setup_django()

    #: `*_it.py` modules open connections: pytest-django's blocker is lifted there only.
    _integration_db_access = db_access_fixture()
    #: make_alias(alias, endpoint=None, **OPTIONS) on this test's own database `gw_alter_<test>`;
    #: `@pytest.mark.parametrize("make_alias", ["utf8mb4_bin"], indirect=True)` picks the collation.
    make_alias = make_alias_fixture("gw_alter")

and its tests take `make_alias` (`conn = make_alias("s2")`, `make_alias("s2child", endpoint=testbed.child)`).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from typing import Any

import MySQLdb
import pytest
from django.db import DatabaseError, connections
from django.db.utils import load_backend

from tests.testbed import Endpoint, Testbed

SYNC_ENGINE = "django_singlestore"
ASYNC_ENGINE = "django_singlestore_async"
#: Every test database: utf8mb4 (the product's charset) in this collation unless a test asks otherwise.
DEFAULT_COLLATION = "utf8mb4_general_ci"


def setup_django() -> None:
    """`django.setup()` with tests/settings.py, unless settings were configured some other way."""
    import django
    from django.conf import settings

    if not settings.configured:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    django.setup()


def alias_settings(
    endpoint: Endpoint, name: str | None = None, *, engine: str = SYNC_ENGINE, **options: Any
) -> dict[str, Any]:
    """A complete settings dict for `engine` at `endpoint`, database `name` (default: the endpoint's)."""
    return {
        "ENGINE": engine,
        "HOST": endpoint.host,
        "PORT": endpoint.port,
        "USER": endpoint.user,
        "PASSWORD": endpoint.password,
        "NAME": endpoint.database if name is None else name,
        "OPTIONS": options,
        "TIME_ZONE": None,
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": False,
        "AUTOCOMMIT": True,
        "ATOMIC_REQUESTS": False,
        "TEST": {"CHARSET": None, "COLLATION": None, "MIGRATE": True, "MIRROR": None, "NAME": None},
    }


def database_name(
    request: pytest.FixtureRequest, prefix: str, *, limit: int = 60, lowercase: bool = False
) -> str:
    """`<prefix>_<test name>` with anything but letters, digits and `_` as `_`, cut at `limit`.
    `lowercase`: lower case, and a run of other characters as one `_` (the async package's names)."""
    raw = f"{prefix}_{request.node.name}"
    if lowercase:
        return re.sub(r"[^a-z0-9_]+", "_", raw.lower())[:limit]
    return re.sub(r"[^A-Za-z0-9_]", "_", raw)[:limit]


def run_admin_sql(endpoint: Endpoint, *statements: str, database: str = "") -> None:
    """Run raw SQL (SingleStore DDL too) at `endpoint` with the driver, outside Django."""
    conn = MySQLdb.connect(**endpoint.mysqldb_kwargs(database=database))
    try:
        cur = conn.cursor()
        for statement in statements:
            cur.execute(statement)
    finally:
        conn.close()


def create_database(endpoint: Endpoint, name: str, *then: str, collation: str = DEFAULT_COLLATION) -> None:
    """(Re)create database `name` (utf8mb4, `collation`), then run `then` on the same connection."""
    run_admin_sql(
        endpoint,
        f"DROP DATABASE IF EXISTS `{name}`",
        f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE {collation}",
        *then,
    )


def drop_database(endpoint: Endpoint, name: str) -> None:
    run_admin_sql(endpoint, f"DROP DATABASE IF EXISTS `{name}`")


@contextlib.contextmanager
def own_database(
    endpoint: Endpoint, name: str, *then: str, collation: str = DEFAULT_COLLATION
) -> Iterator[str]:
    """`create_database(...)` for the `with` block, dropped after it (yields `name`)."""
    create_database(endpoint, name, *then, collation=collation)
    yield name
    drop_database(endpoint, name)


class AliasFactory:
    """`factory(alias, endpoint=None, *, engine=None, **OPTIONS)` registers `alias` in `connections` on
    `database` (None: each endpoint's own database) at `endpoint` (default: the factory's) with `engine`
    (default: the factory's) and returns its wrapper; `close()` closes and removes every one of them."""

    def __init__(
        self,
        endpoint: Endpoint,
        database: str | None = None,
        *,
        engine: str = SYNC_ENGINE,
        broken_connections: bool = False,
    ) -> None:
        self.endpoint = endpoint
        self.database = database
        self.engine = engine
        #: Tests that kill the server leave connections whose close() fails: tolerate that in cleanup.
        self.broken_connections = broken_connections
        self.made: list[tuple[str, Any]] = []

    @property
    def aliases(self) -> list[str]:
        return [alias for alias, _ in self.made]

    def __call__(
        self, alias: str, endpoint: Endpoint | None = None, *, engine: str | None = None, **options: Any
    ) -> Any:
        return self.register(alias, endpoint or self.endpoint, self.database, engine or self.engine, options)

    def register(
        self, alias: str, endpoint: Endpoint, database: str | None, engine: str, options: dict[str, Any]
    ) -> Any:
        from django_singlestore.base import forget_server_data

        settings_dict = alias_settings(endpoint, database, engine=engine, **options)
        connections.settings[alias] = settings_dict
        wrapper = load_backend(engine).DatabaseWrapper(settings_dict, alias)
        connections[alias] = wrapper
        forget_server_data(alias)
        self.made.append((alias, wrapper))
        return wrapper

    def close(self) -> None:
        from django_singlestore.base import forget_server_data

        for alias, wrapper in self.made:
            with contextlib.suppress(*((DatabaseError,) if self.broken_connections else ())):
                wrapper.close()
            # An alias made inside an async test was stored in that task's context, not this one.
            with contextlib.suppress(AttributeError):
                del connections[alias]
            connections.settings.pop(alias, None)
            forget_server_data(alias)


class FreshDatabaseAliases(AliasFactory):
    """`aliases(alias, endpoint=None, *, same_as=None, **OPTIONS)`: every alias on a new database of its
    own (`prefix`, `prefix_1`, ... created at the factory's endpoint), or with `same_as` (an alias made
    here) on that alias's database, e.g. through another aggregator; `close()` also drops them."""

    def __init__(self, endpoint: Endpoint, prefix: str) -> None:
        super().__init__(endpoint)
        self.prefix = prefix
        self.databases: list[str] = []

    def __call__(
        self,
        alias: str,
        endpoint: Endpoint | None = None,
        *,
        engine: str | None = None,
        same_as: Any = None,
        **options: Any,
    ) -> Any:
        if same_as is not None:
            database = same_as.settings_dict["NAME"]
        else:
            database = f"{self.prefix}_{len(self.made)}" if self.made else self.prefix
            create_database(self.endpoint, database)
        self.databases.append(database)
        return self.register(alias, endpoint or self.endpoint, database, engine or self.engine, options)

    def close(self) -> None:
        super().close()
        for database in set(self.databases):
            drop_database(self.endpoint, database)


def db_access_fixture(*, integration_only: bool = True) -> Any:
    """An autouse fixture lifting pytest-django's database blocker: in integration modules (`*_it.py`)
    only, or with `integration_only=False` in every module of the package. Unit modules keep the
    blocker, so any I/O they attempt fails."""

    @pytest.fixture(autouse=True)
    def fixture(request: pytest.FixtureRequest) -> Iterator[None]:
        if integration_only and not request.module.__name__.endswith("_it"):
            yield
            return
        blocker = request.getfixturevalue("django_db_blocker")
        with blocker.unblock():
            yield

    return fixture


def make_alias_fixture(prefix: str, *, broken_connections: bool = False) -> Any:
    """A `make_alias` fixture: an `AliasFactory` on this test's own database `<prefix>_<test>` (utf8mb4,
    collation `request.param` through indirect parametrization, else DEFAULT_COLLATION) at the test bed's
    master; aliases removed, then the database dropped, after the test."""

    @pytest.fixture
    def fixture(request: pytest.FixtureRequest, testbed: Testbed) -> Iterator[Callable[..., Any]]:
        name = database_name(request, prefix)
        collation = getattr(request, "param", None) or DEFAULT_COLLATION
        with own_database(testbed.master, name, collation=collation):
            factory = AliasFactory(testbed.master, name, broken_connections=broken_connections)
            yield factory
            factory.close()

    return fixture
