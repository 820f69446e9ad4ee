"""Full-text search tests: per-test databases on the test bed (committed data: InnoDB's MATCH behind the
gateway does not see a transaction's own uncommitted rows, and SingleStore searches flushed segments)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.backend.conftest import register_unit_alias, unit  # noqa: F401  (the `unit` fixture)
from tests.dbtools import (
    FreshDatabaseAliases,
    database_name,
    db_access_fixture,
    make_alias_fixture,
    setup_django,
)
from tests.testbed import Testbed

setup_django()

_integration_db_access = db_access_fixture()

#: `make_alias(alias, endpoint=None, **OPTIONS)` on this test's own database `gw_search_<test>`.
make_alias = make_alias_fixture("gw_search")


@pytest.fixture
def fresh_alias(request: pytest.FixtureRequest, testbed: Testbed) -> Iterator[Callable[..., Any]]:
    """`fresh_alias(alias)`: an alias on a new database of its own (for round trips)."""
    factory = FreshDatabaseAliases(testbed.master, database_name(request, "gw_search_fresh", limit=58))
    yield factory
    factory.close()


__all__ = ["register_unit_alias"]
