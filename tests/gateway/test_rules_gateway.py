"""Every rule through the gateway with MySQLdb and aiomysql: the violating statement fails with the
listed code and text, the valid form succeeds. Codes marked unverified in errors.ERRORS are assumptions
(ids ending in ``-assumed_code``)."""

from __future__ import annotations

import pytest

from tests.gateway.gwclients import DRIVERS, client, db_for, fresh_database
from tests.gateway.rulecases import CASES, SETUP, RuleCase
from tests.testbed import Testbed
from tests.testbed.gateway.errors import ERRORS

pytestmark = pytest.mark.gateway_only


def _case_id(case: RuleCase) -> str:
    return case.error + ("" if ERRORS[case.error].verified else "-assumed_code")


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize("case", [c for c in CASES if not c.config], ids=_case_id)
def test_rule_through_gateway(
    case: RuleCase, driver: str, testbed: Testbed, request: pytest.FixtureRequest
) -> None:
    spec = ERRORS[case.error]
    with fresh_database(testbed, db_for("gw_rules_", request)) as db:
        with client(driver, testbed.master, db) as master:
            for sql in SETUP:
                master.execute(sql)
        endpoint = testbed.child if case.role == "child" else testbed.master
        assert endpoint is not None
        with client(driver, endpoint, db) as c:
            if case.in_transaction:
                c.execute("BEGIN")
            assert c.error(case.bad) == (spec.code, spec.format(**case.fields))
            if case.in_transaction:
                c.execute("ROLLBACK")
            c.execute(case.good)


@pytest.mark.parametrize("driver", DRIVERS)
def test_foreign_keys_are_accepted_and_not_enforced(
    driver: str, testbed: Testbed, request: pytest.FixtureRequest
) -> None:
    """GatewayConfig.foreign_keys='ignore' (the default): SingleStore accepts FOREIGN KEY unenforced."""
    with fresh_database(testbed, db_for("gw_rules_", request)) as db, client(driver, testbed.master, db) as c:
        c.execute("CREATE ROWSTORE REFERENCE TABLE parent (id BIGINT PRIMARY KEY)")
        c.execute(
            "CREATE ROWSTORE TABLE child (id BIGINT PRIMARY KEY, parent_id BIGINT, "
            "CONSTRAINT fk FOREIGN KEY (parent_id) REFERENCES parent (id))"
        )
        c.execute("INSERT INTO child VALUES (1, 999)")  # no parent 999: not enforced
        assert c.execute("SELECT parent_id FROM child") == [(999,)]


@pytest.mark.parametrize("driver", DRIVERS)
def test_reference_write_in_transaction_only_fails_on_the_child(
    driver: str, testbed: Testbed, request: pytest.FixtureRequest
) -> None:
    assert testbed.child is not None
    with fresh_database(testbed, db_for("gw_rules_", request)) as db:
        with client(driver, testbed.master, db) as m:
            m.execute("CREATE REFERENCE TABLE ref (id BIGINT PRIMARY KEY, a INT)")
            m.execute("CREATE TABLE sharded (id BIGINT PRIMARY KEY, a INT)")
            m.execute("BEGIN")
            m.execute("INSERT INTO ref VALUES (1, 1)")
            m.execute("COMMIT")
        spec = ERRORS["reference_write_child"]
        with client(driver, testbed.child, db) as c:
            c.execute("INSERT INTO ref VALUES (2, 2)")  # autocommit: fine on a child
            c.execute("BEGIN")
            c.execute("INSERT INTO sharded VALUES (1, 1)")  # sharded table: fine
            assert c.error("UPDATE ref SET a = 5") == (spec.code, spec.format())
            c.execute("ROLLBACK")
            c.execute("SET autocommit = 0")
            assert c.error("DELETE FROM ref WHERE id = 1") == (spec.code, spec.format())
            c.execute("ROLLBACK")
            c.execute("SET autocommit = 1")
            assert sorted(c.execute("SELECT id FROM ref")) == [(1,), (2,)]
