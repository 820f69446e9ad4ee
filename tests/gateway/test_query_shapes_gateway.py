"""Issue 21's query shapes through the gateway with MySQLdb and aiomysql, beyond the one case per error in
``rulecases_shapes.py``: the other spellings of each refused shape, the LIMIT-after-UNION reading, and the
switch for the rules known only from skip texts (``GatewayConfig.assumption_rules``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.gateway.engine_harness import EngineHarness, db_name
from tests.gateway.gwclients import DRIVERS, Client, client, db_for, fresh_database
from tests.gateway.rulecases import SETUP
from tests.gateway.rulecases_shapes import SHAPE_CASES
from tests.testbed import Testbed
from tests.testbed.gateway.engine import Forward, GatewayConfig, Reject
from tests.testbed.gateway.errors import ASSUMPTION_RULES, ERRORS
from tests.testbed.mariadb import MariaDB

pytestmark = pytest.mark.gateway_only

#: (error, statement): more spellings of the refused shapes (whitespace, comments, joins, aliases).
VARIANTS: tuple[tuple[str, str], ...] = (
    ("multi_table_reference_target", "UPDATE ref INNER JOIN cs ON ref.a = cs.id SET ref.a = 1"),
    ("multi_table_reference_target", "UPDATE ref, rs SET ref.a = 1 WHERE ref.a = rs.id"),
    ("multi_table_reference_target", "DELETE r FROM ref AS r JOIN rs ON r.a = rs.id"),
    ("multi_table_reference_target", "DELETE FROM ref USING ref JOIN cs ON ref.a = cs.id"),
    ("update_order_by", "UPDATE cs SET name = 'a' WHERE id > 0 ORDER/* c */BY id LIMIT 2"),
    ("update_limit_sharded", "UPDATE rs SET name = 'a' WHERE id > 0 LIMIT 1"),
    ("select_in_values", "INSERT INTO rs VALUES (3, 'x'), (4, (SELECT 'y' FROM ref LIMIT 1))"),
    ("select_in_values", "REPLACE INTO rs (id, name) VALUE (5, (SELECT MAX(name) FROM cs))"),
    ("upsert_shard_key", "INSERT INTO cs (id, name) VALUES (1, 'a') ON DUPLICATE KEY UPDATE `cs`.`id` = 2"),
    ("date_before_1000", "UPDATE rs SET name = '0999-12-31 23:59:59' WHERE id = 1"),
    (
        "recursive_cte_union",
        "WITH RECURSIVE c AS (SELECT 1 AS n UNION DISTINCT SELECT n + 1 FROM c WHERE n < 2) SELECT n FROM c",
    ),
    ("collate_order_by", "SELECT id, name FROM cs ORDER BY id, LOWER(name) COLLATE utf8mb4_bin DESC"),
    (
        "correlated_subselect_order_by",
        "SELECT cs.id, (SELECT MAX(r.a) FROM ref r WHERE r.id = cs.id) AS m FROM cs ORDER BY m",
    ),
    (
        "correlated_subselect_order_by",
        "SELECT cs.id, (SELECT MAX(r.a) FROM ref r WHERE r.id = cs.id) FROM cs ORDER BY 2 DESC",
    ),
    (
        "correlated_subselect_order_by",
        "SELECT id FROM cs ORDER BY EXISTS (SELECT 1 FROM ref U0 WHERE U0.a = cs.id) DESC",
    ),
    (
        "subselect_in_aggregate",
        "SELECT COUNT(CASE WHEN EXISTS (SELECT 1 FROM ref r WHERE r.a = cs.id) THEN 1 END) FROM cs",
    ),
    ("for_update_columnstore_join", "SELECT cs.id FROM cs JOIN rs ON cs.id = rs.id FOR  UPDATE"),
    ("for_update_columnstore_join", "SELECT cs.id FROM cs JOIN rs ON cs.id = rs.id FOR\nUPDATE"),
    ("for_update_columnstore_join", "SELECT cs.id FROM cs JOIN rs ON cs.id = rs.id FOR/* x */UPDATE"),
    ("for_update_columnstore_join", "SELECT cs.id FROM cs JOIN rs ON cs.id = rs.id for -- c\n update"),
)

#: Statements next to the refused shapes that SingleStore accepts: the gateway must forward them.
ACCEPTED: tuple[str, ...] = (
    "DELETE FROM ref WHERE id IN (SELECT * FROM (SELECT ref.id FROM ref JOIN cs ON ref.a = cs.id) s)",
    "UPDATE ref SET a = 2 WHERE id IN (1, 2)",
    "UPDATE cs INNER JOIN rs ON cs.id = rs.id SET cs.name = 'j'",
    "INSERT INTO rs (id, name) SELECT id + 100, name FROM cs",
    "INSERT INTO rs (id, name) VALUES (7, 'value')",
    "SELECT id FROM cs ORDER BY (SELECT MAX(a) FROM ref)",
    "SELECT cs.id, (SELECT MAX(r.a) FROM ref r WHERE r.id = cs.id) AS m FROM cs ORDER BY cs.id",
    "SELECT cs.id FROM cs WHERE EXISTS (SELECT 1 FROM ref r WHERE r.a = cs.id) ORDER BY cs.id",
    "SELECT name FROM cs WHERE name = 'x' COLLATE utf8mb4_bin ORDER BY name",
    "SELECT id FROM rs FOR UPDATE",
    "SELECT 'for update', 'FOR  UPDATE' FROM rs",
)


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
