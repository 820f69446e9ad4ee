"""Transaction-policy tests: per-test databases `gw_tx_<test>` and aliases on the master or child port.

`endpoint` runs a test once on the master aggregator and once on the child (skipped with its reason
when there is none). `tx` registers aliases on the test's own database (created on the master,
dropped after); `observer` reads what is committed, from a separate connection to the master.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import MySQLdb
import pytest

from django_singlestore.transactions import forget_child_aggregator_warnings
from tests.conftest import require_child
from tests.dbtools import AliasFactory, database_name, db_access_fixture, own_database, setup_django
from tests.testbed import Endpoint, Testbed

setup_django()

#: The table most tests use: sharded (explicit shard key), so the child aggregator accepts writes to
#: it inside transactions.
ROW_TABLE_DDL = "CREATE TABLE tx_row (id BIGINT PRIMARY KEY, v VARCHAR(50), SHARD KEY (id))"
#: auth.Group's table for TestCase tests, sharded and without the UNIQUE on name (not needed here).
GROUP_TABLE_DDL = "CREATE TABLE auth_group (id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(150) NOT NULL, SHARD KEY (id))"


class TxAliases(AliasFactory):
    """AliasFactory that also resets the once-per-alias child-aggregator warning."""

    def __call__(self, alias: str, endpoint: Endpoint | None = None, **options: Any) -> Any:
        forget_child_aggregator_warnings(alias)
        return super().__call__(alias, endpoint, **options)

    def close(self) -> None:
        for alias in self.aliases:
            forget_child_aggregator_warnings(alias)
        super().close()


class Observer:
    """A separate autocommit connection to the master: sees only what is committed."""

    def __init__(self, endpoint: Endpoint, database: str) -> None:
        self.endpoint = endpoint
        self.database = database

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        conn = MySQLdb.connect(**self.endpoint.mysqldb_kwargs(database=self.database))
        try:
            conn.autocommit(True)
            cur = conn.cursor()
            cur.execute(sql)
            return list(cur.fetchall())
        finally:
            conn.close()

    def ids(self, table: str = "tx_row") -> list[int]:
        return [int(row[0]) for row in self.query(f"SELECT id FROM {table} ORDER BY id")]

    def names(self, table: str = "auth_group") -> list[str]:
        return sorted(str(row[0]) for row in self.query(f"SELECT name FROM {table}"))


@pytest.fixture(params=["master", "child"])
def endpoint(request: pytest.FixtureRequest, testbed: Testbed) -> Endpoint:
    """The aggregator the test's connection talks to."""
    if request.param == "child":
        require_child(testbed)
        assert testbed.child is not None
        return testbed.child
    return testbed.master


@pytest.fixture
def tx_db(request: pytest.FixtureRequest, testbed: Testbed) -> Iterator[str]:
    """This test's own database (utf8mb4) with `tx_row` and `auth_group`, created on the master."""
    name = database_name(request, "gw_tx")
    with own_database(testbed.master, name, f"USE `{name}`", ROW_TABLE_DDL, GROUP_TABLE_DDL):
        yield name


@pytest.fixture
def tx(tx_db: str, endpoint: Endpoint) -> Iterator[Callable[..., Any]]:
    """`tx(alias, endpoint=None, **OPTIONS)`: a django_singlestore alias on the test's database,
    on the parametrized aggregator unless `endpoint` is given."""
    factory = TxAliases(endpoint, tx_db)
    yield factory
    factory.close()


@pytest.fixture
def aliases(tx_db: str, testbed: Testbed) -> Iterator[Callable[..., Any]]:
    """Like `tx`, but on the master unless `endpoint` is given (tests that choose their aggregator)."""
    factory = TxAliases(testbed.master, tx_db)
    yield factory
    factory.close()


@pytest.fixture
def observer(tx_db: str, testbed: Testbed) -> Observer:
    return Observer(testbed.master, tx_db)


#: Integration modules (`*_it.py`) open connections: pytest-django's blocker is lifted there only.
_integration_db_access = db_access_fixture()
