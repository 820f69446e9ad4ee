"""Introspection tests: Django settings without pytest-django's database setup, and per-test aliases.

Integration modules (`*_it.py`) run through the test bed's master aggregator: `make_alias(alias)`
registers a django_singlestore alias on this test's own database `gw_introspection_<test>[_<n>]`
(created, utf8mb4, and dropped by the fixture). Unit modules never touch a server.
The helpers live in tests/dbtools.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.dbtools import FreshDatabaseAliases, database_name, db_access_fixture, setup_django
from tests.testbed import Testbed

setup_django()

#: Integration modules manage their own databases: pytest-django's blocker is lifted there.
_integration_db_access = db_access_fixture()


@pytest.fixture
def make_alias(request: pytest.FixtureRequest, testbed: Testbed) -> Iterator[Callable[..., Any]]:
    """`make_alias(alias, endpoint=None, *, same_as=None, **OPTIONS)`: a new database per alias
    (`FreshDatabaseAliases`); the name leaves room for the `_<n>` of the later ones."""
    factory = FreshDatabaseAliases(testbed.master, database_name(request, "gw_introspection", limit=58))
    yield factory
    factory.close()
