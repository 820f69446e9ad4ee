"""Security tests: hostile identifiers and multi-statement strings, through the test bed's master.

Every test gets its own database `gw_sec_<test>` with a `canary` table; an injection that escaped its
quoting would drop it. Aliases on both engines come from `make_alias(alias, engine=..., **OPTIONS)`.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.dbtools import db_access_fixture, make_alias_fixture, setup_django

setup_django()

#: Every module here talks to the server: pytest-django's access blocker is lifted.
_db_access = db_access_fixture(integration_only=False)

make_alias = make_alias_fixture("gw_sec")

CANARY = "CREATE TABLE canary (id BIGINT PRIMARY KEY)"


def tables(connection: Any) -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.table_names(cursor))


@pytest.fixture
def s2(make_alias: Any) -> Any:
    """A sync alias on this test's database, with the canary table in it."""
    connection = make_alias("sec")
    with connection.cursor() as cursor:
        cursor.execute(CANARY)
    return connection
