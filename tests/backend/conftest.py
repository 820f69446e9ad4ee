"""Backend tests: Django settings without pytest-django, and per-test SingleStore aliases.

Unit tests compile SQL with the `default` alias of `tests/settings.py`, whose placeholder address
(port 0) is never reachable, so any server I/O while compiling fails loudly. Integration tests take
`s2` (or build their own alias with `make_alias`): a fresh database `gw_backend_<test>` on the test
bed's master aggregator, created and dropped by the test. The helpers live in tests/dbtools.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections

from tests.dbtools import alias_settings, db_access_fixture, make_alias_fixture, setup_django
from tests.testbed import Endpoint

setup_django()

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


#: Integration modules (`*_it.py`) manage their own databases: pytest-django's blocker is lifted there.
#: Unit modules keep it, so any I/O they attempt fails twice over (blocker, unreachable address).
_integration_db_access = db_access_fixture()

#: `make_alias(alias, endpoint=None, **OPTIONS)` on this test's own database `gw_backend_<test>` (utf8mb4).
make_alias = make_alias_fixture("gw_backend")


@pytest.fixture
def unit() -> Any:
    """The `unit` alias (see `register_unit_alias`)."""
    return register_unit_alias()


@pytest.fixture
def s2(make_alias: Callable[..., Any]) -> Any:
    """A django_singlestore connection (alias 's2') to this test's own database on the master."""
    return make_alias("s2")
