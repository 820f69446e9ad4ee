"""Fault experiments: schema changes under live traffic (issue 20) and the fault campaign (issue 14).
Each test works on a database of its own, `gw_faults_<test>`, through the test bed's master
aggregator."""

from __future__ import annotations

from tests.dbtools import db_access_fixture, make_alias_fixture, setup_django

setup_django()

_integration_db_access = db_access_fixture()
make_alias = make_alias_fixture("gw_faults")
