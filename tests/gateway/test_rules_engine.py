"""Every rule of errors.ERRORS, decided by the engine (exact code, SQLSTATE and text of the Reject),
with the catalog built from real DDL on the private MariaDB; the valid form is forwarded and succeeds."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.gateway.engine_harness import EngineHarness, db_name
from tests.gateway.rulecases import CASES, SETUP, RuleCase
from tests.testbed.gateway.engine import Forward, GatewayConfig, LocalOK, Reject
from tests.testbed.gateway.errors import ERRORS
from tests.testbed.mariadb import MariaDB

pytestmark = pytest.mark.gateway_only


def _case_id(case: RuleCase) -> str:
    return case.error + ("" if ERRORS[case.error].verified else "-assumed_code")


def test_every_error_has_a_case() -> None:
    assert {c.error for c in CASES} == set(ERRORS)


@pytest.fixture
def harness_factory(
    mariadb: MariaDB, request: pytest.FixtureRequest
) -> Iterator[Callable[[RuleCase], EngineHarness]]:
    made: list[EngineHarness] = []

    def make(case: RuleCase) -> EngineHarness:
        config = GatewayConfig(**case.config)  # type: ignore[arg-type]
        h = EngineHarness(mariadb, db_name("gw_rules_engine_", request.node.name), config, case.role)
        made.append(h)
        return h

    yield make
    for h in made:
        h.close()


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_rule_rejects_violation_and_accepts_valid_form(
    case: RuleCase, harness_factory: Callable[[RuleCase], EngineHarness]
) -> None:
    h = harness_factory(case)
    for sql in SETUP:
        decision, _ = h.run(sql)
        assert isinstance(decision, Forward), (sql, decision)
    spec = ERRORS[case.error]
    if case.in_transaction:
        h.session.in_transaction = True
    bad = h.decide(case.bad)
    assert bad == Reject(spec.code, spec.sqlstate, spec.format(**case.fields))
    h.session.in_transaction = False
    good, _ = h.run(case.good)
    assert isinstance(good, (Forward, LocalOK)), good


def test_reference_write_allowed_on_master_in_transaction(mariadb: MariaDB) -> None:
    h = EngineHarness(mariadb, "gw_rules_engine_ref_master")
    try:
        for sql in SETUP:
            h.run(sql)
        h.session.in_transaction = True
        assert isinstance(h.decide("INSERT INTO ref (a) VALUES (1)"), Forward)
        h.session.in_transaction = False
        h.session.autocommit = False
        h.session.role = "child"
        assert isinstance(h.decide("UPDATE ref SET a = 2"), Reject)
        assert isinstance(h.decide("UPDATE rs SET name = 'x'"), Forward)
    finally:
        h.close()


@pytest.mark.parametrize(
    ("sql", "rejected"),
    [
        ("UPDATE cs c SET c.id = 2 WHERE c.id = 1", True),
        ("UPDATE cs AS c JOIN rs r ON c.id = r.id SET r.name = 'y', c.name = 'x'", False),
        ("UPDATE rs r JOIN cs c ON c.id = r.id SET c.id = 7", True),
        ("UPDATE `cs` SET `cs`.`id` = 2", True),
        ("UPDATE ref SET id = 3", False),  # reference tables have no shard key
    ],
)
def test_update_of_shard_key_resolves_aliases(mariadb: MariaDB, sql: str, rejected: bool) -> None:
    h = EngineHarness(mariadb, "gw_rules_engine_update_alias")
    try:
        for setup in SETUP:
            h.run(setup)
        decision = h.decide(sql)
        assert isinstance(decision, Reject) == rejected, decision
    finally:
        h.close()
