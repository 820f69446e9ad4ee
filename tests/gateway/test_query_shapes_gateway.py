"""Issue 21's query shapes through the gateway with MySQLdb and aiomysql, beyond the one case per error in
``rulecases_shapes.py``: the other spellings of each refused shape, the LIMIT-after-UNION reading, and the
switch for the rules known only from skip texts (``GatewayConfig.assumption_rules``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tests.gateway.engine_harness import EngineHarness, db_name
from tests.gateway.gwclients import DRIVERS, Client, client, db_for, fresh_database
from tests.gateway.rulecases import SETUP
from tests.gateway.rulecases_shapes import ACCEPTED, SHAPE_CASES, VARIANTS
from tests.testbed import Testbed
from tests.testbed.gateway.engine import Forward, GatewayConfig, Reject
from tests.testbed.gateway.errors import ASSUMPTION_RULES, ERRORS
from tests.testbed.mariadb import MariaDB

pytestmark = pytest.mark.gateway_only


def _setup(c: Client) -> None:
    for sql in SETUP:
        c.execute(sql)
    c.execute("INSERT INTO cs (id, name) VALUES (1, 'x'), (2, 'y')")
    c.execute("INSERT INTO rs (id, name) VALUES (1, 'x'), (2, 'y')")
    c.execute("INSERT INTO ref (id, a) VALUES (1, 1), (2, 2)")


@pytest.fixture(params=DRIVERS)
def gw(request: pytest.FixtureRequest, testbed: Testbed) -> Iterator[Client]:
    with (
        fresh_database(testbed, db_for("gw_shapes_", request)) as db,
        client(request.param, testbed.master, db) as c,
    ):
        _setup(c)
        yield c


def test_variants_are_refused_with_singlestores_code_and_text(gw: Client) -> None:
    for error, sql in VARIANTS:
        spec = ERRORS[error]
        code, text = gw.error(sql)
        assert code == spec.code, (sql, code, text)
        if "{" in spec.template:  # near / value: the statement's own text follows
            assert text.startswith(spec.template.split("{")[0]), (sql, text)
        else:
            assert text == spec.template, (sql, text)


def test_neighbouring_forms_are_accepted(gw: Client) -> None:
    for sql in ACCEPTED:
        gw.execute(sql)


def test_limit_after_an_unparenthesised_union_limits_the_last_member(gw: Client) -> None:
    """SingleStore's reading (assumption, skip text "LIMIT with UNION affects only the second part of the
    union"): the gateway runs it so; MariaDB alone would limit the whole union."""
    assert sorted(gw.execute("SELECT 1 UNION SELECT 2 UNION SELECT 3 LIMIT 1")) == [(1,), (2,), (3,)]
    assert sorted(gw.execute("SELECT id FROM cs UNION ALL SELECT id FROM rs LIMIT 1")) == [(1,), (1,), (2,)]
    # the forms that limit the whole union
    assert len(gw.execute("SELECT * FROM (SELECT 1 UNION SELECT 2 UNION SELECT 3) u LIMIT 1")) == 1
    assert len(gw.execute("(SELECT 1) UNION (SELECT 2) UNION (SELECT 3) LIMIT 1")) == 1
    assert gw.execute("SELECT 1 AS n UNION SELECT 2 ORDER BY n DESC LIMIT 1") == [(2,)]


@pytest.fixture
def harness(mariadb: MariaDB, request: pytest.FixtureRequest) -> Iterator[EngineHarness]:
    h = EngineHarness(
        mariadb, db_name("gw_shapes_off_", request.node.name), GatewayConfig(assumption_rules=False)
    )
    for sql in SETUP:
        h.run(sql)
    yield h
    h.close()


def test_assumption_rules_can_be_switched_off(harness: EngineHarness) -> None:
    """``assumption_rules=False``: the shapes known only from skip texts reach MariaDB; the documented rules
    still refuse."""
    assert ASSUMPTION_RULES  # the labelled subset of errors.ERRORS
    for case in SHAPE_CASES:
        decision = harness.decide(case.bad)
        if case.error in ASSUMPTION_RULES:
            assert isinstance(decision, Forward), (case.error, decision)
        else:
            assert isinstance(decision, Reject) and decision.code == ERRORS[case.error].code, case.error
    union = harness.decide("SELECT 1 UNION SELECT 2 LIMIT 1")
    assert union == Forward(b"SELECT 1 UNION SELECT 2 LIMIT 1")


def test_assumption_refusals_are_logged_apart(
    mariadb: MariaDB, request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> None:
    h = EngineHarness(mariadb, db_name("gw_shapes_log_", request.node.name))
    try:
        for sql in SETUP:
            h.run(sql)
        caplog.set_level(logging.INFO, logger="tests.testbed.gateway.query_rules")
        for case in SHAPE_CASES:
            caplog.clear()
            assert isinstance(h.decide(case.bad), Reject), case.error
            logged = [r.getMessage() for r in caplog.records]
            if case.error in ASSUMPTION_RULES:
                assert logged == [f"assumption rule {case.error} refused a statement"]
            else:
                assert logged == []
    finally:
        h.close()
