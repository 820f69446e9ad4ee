"""Every raise site of every gateway rule, through the gateway: a violating statement and its valid form.

rulecases.CASES holds one case per error key; twelve keys are raised from more than one place in
tests/testbed/gateway/rules.py (issue 19: the unique-key-must-contain-the-shard-key rule on `ALTER ...
ADD UNIQUE` and on `ADD COLUMN ... UNIQUE` could be turned off without a failing test). The cases below
are the other raise sites, named by the statement shape that reaches them (not by line numbers, so
they outlive a rewrite of rules.py). Sites that only a non-default gateway configuration reaches
(`foreign_keys = "reject"`) are decided by the engine (ENGINE_SITES). Every key has at least as many
cases as rules.py has raise sites for it (counted from its source).
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

from tests.gateway.engine_harness import EngineHarness, db_name
from tests.gateway.gwclients import client, db_for, fresh_database
from tests.gateway.rulecases import CASES, SETUP, RuleCase
from tests.testbed import Testbed
from tests.testbed.gateway import fulltext, rules
from tests.testbed.gateway.engine import Forward, GatewayConfig, Reject
from tests.testbed.gateway.errors import ERRORS
from tests.testbed.mariadb import MariaDB

pytestmark = pytest.mark.gateway_only

#: Tables some raise sites need besides rulecases.SETUP.
EXTRA_SETUP = (
    "CREATE TABLE hk (a INT NULL, b INT NULL, KEY k1 (a) USING HASH)",
    "CREATE ROWSTORE TABLE rsu (id BIGINT NOT NULL, v INT NULL, PRIMARY KEY (id))",
    "CREATE TABLE vec (id BIGINT NOT NULL PRIMARY KEY, v VECTOR(3) NOT NULL, w VECTOR(3, I8) NOT NULL)",
)


def case(error: str, bad: str, good: str, site: str, **fields: str) -> RuleCase:
    return RuleCase(error, bad, good, fields=dict(fields, _site=site))


SITES: tuple[RuleCase, ...] = (
    # unique_without_shard_key: CREATE TABLE is in CASES; ALTER ADD UNIQUE, ADD COLUMN UNIQUE, CREATE INDEX.
    case(
        "unique_without_shard_key",
        "ALTER TABLE rs ADD UNIQUE KEY un (name)",
        "ALTER TABLE rs ADD UNIQUE KEY un (id, name)",
        "alter-add-unique-key",
        name="un",
    ),
    case(
        "unique_without_shard_key",
        "ALTER TABLE rs ADD COLUMN code INT NULL UNIQUE",
        "ALTER TABLE ref ADD COLUMN code INT NULL UNIQUE",
        "alter-add-column-unique",
        name="code",
    ),
    case(
        "unique_without_shard_key",
        "CREATE UNIQUE INDEX un ON rs (name)",
        "CREATE UNIQUE INDEX un ON rs (name, id)",
        "create-unique-index",
        name="un",
    ),
    # alter_columnstore_add_unique: ADD UNIQUE KEY is in CASES; ADD COLUMN ... UNIQUE on a columnstore.
    case(
        "alter_columnstore_add_unique",
        "ALTER TABLE cs ADD COLUMN code INT NULL UNIQUE",
        "ALTER TABLE cs ADD COLUMN code INT NULL",
        "alter-add-column-unique-columnstore",
        index="code",
    ),
    # alter_columnstore_auto_increment: MODIFY dropping it is in CASES; MODIFY adding it, ADD COLUMN.
    case(
        "alter_columnstore_auto_increment",
        "ALTER TABLE csk MODIFY id BIGINT NOT NULL AUTO_INCREMENT",
        "ALTER TABLE csk MODIFY id BIGINT NOT NULL",
        "alter-modify-adds-auto-increment",
        column="id",
    ),
    case(
        "alter_columnstore_auto_increment",
        "ALTER TABLE csk ADD COLUMN n BIGINT NULL AUTO_INCREMENT",
        "ALTER TABLE csk ADD COLUMN n BIGINT NULL",
        "alter-add-column-auto-increment",
        column="n",
    ),
    # sort_key_rowstore: CREATE is in CASES; ALTER ADD SORT KEY on a rowstore.
    case(
        "sort_key_rowstore",
        "ALTER TABLE rs ADD SORT KEY (name)",
        "ALTER TABLE cs ADD SORT KEY (name)",
        "alter-add-sort-key",
    ),
    # duplicate_hash_index: CREATE is in CASES; ALTER ADD KEY ... USING HASH on the same columns.
    case(
        "duplicate_hash_index",
        "ALTER TABLE hk ADD KEY k2 (a) USING HASH",
        "ALTER TABLE hk ADD KEY k2 (b) USING HASH",
        "alter-add-hash-key",
    ),
    # alter_columnstore_drop_shard_index: DROP INDEX is in CASES; dropping a shard-key column.
    case(
        "alter_columnstore_drop_shard_index",
        "ALTER TABLE cs DROP COLUMN id",
        "ALTER TABLE cs DROP COLUMN name",
        "alter-drop-shard-key-column",
        index="sk",
    ),
    # alter_columnstore_change_pk: DROP PRIMARY KEY is in CASES; adding a primary key to a columnstore
    # that has one (as a key and as a column attribute).
    case(
        "alter_columnstore_change_pk",
        "ALTER TABLE csk ADD PRIMARY KEY (name)",
        "ALTER TABLE csk ADD KEY kn (name)",
        "alter-add-primary-key-columnstore",
    ),
    case(
        "alter_columnstore_change_pk",
        "ALTER TABLE csk ADD COLUMN pk2 BIGINT NOT NULL PRIMARY KEY",
        "ALTER TABLE csk ADD COLUMN pk2 BIGINT NOT NULL",
        "alter-add-column-primary-key-columnstore",
    ),
    # add_primary_key: ADD PRIMARY KEY to a table without one is in CASES; as a column attribute, and
    # dropping and re-adding a rowstore's primary key in one statement.
    case(
        "add_primary_key",
        "ALTER TABLE nopk ADD COLUMN pk BIGINT NOT NULL PRIMARY KEY",
        "ALTER TABLE nopk ADD COLUMN pk BIGINT NOT NULL",
        "alter-add-column-primary-key",
    ),
    case(
        "add_primary_key",
        "ALTER TABLE rsu DROP PRIMARY KEY, ADD PRIMARY KEY (id, v)",
        "ALTER TABLE rsu DROP PRIMARY KEY",
        "alter-drop-and-add-primary-key",
    ),
    # change_reference_auto_increment_name: CHANGE with a definition is in CASES; the bare rename.
    case(
        "change_reference_auto_increment_name",
        "ALTER TABLE ref CHANGE id ident",
        "ALTER TABLE ref CHANGE a b",
        "alter-change-rename-only",
    ),
    # default_expression: CREATE is in CASES; ADD COLUMN, and ALTER COLUMN ... SET DEFAULT.
    case(
        "default_expression",
        "ALTER TABLE rs ADD COLUMN d INT DEFAULT (1 + 1)",
        "ALTER TABLE rs ADD COLUMN d INT DEFAULT 2",
        "alter-add-column-default-expression",
    ),
    case(
        "default_expression",
        "ALTER TABLE rs ALTER COLUMN name SET DEFAULT (CONCAT('a', 'b'))",
        "ALTER TABLE rs ALTER COLUMN name SET DEFAULT 'ab'",
        "alter-set-default-expression",
    ),
    # check_constraint: the column form is in CASES; the table-level CONSTRAINT ... CHECK, and ALTER.
    case(
        "check_constraint",
        "CREATE TABLE ck2 (a INT NULL, CONSTRAINT c1 CHECK (a > 0))",
        "CREATE TABLE ck2 (a INT NULL)",
        "create-table-check-constraint",
    ),
    case(
        "check_constraint",
        "ALTER TABLE rs ADD COLUMN c INT NULL CHECK (c > 0)",
        "ALTER TABLE rs ADD COLUMN c INT NULL",
        "alter-add-column-check",
    ),
    # datetime_precision: CREATE is in CASES; ADD COLUMN.
    case(
        "datetime_precision",
        "ALTER TABLE rs ADD COLUMN at DATETIME(3) NULL",
        "ALTER TABLE rs ADD COLUMN at DATETIME(6) NULL",
        "alter-add-column-datetime-precision",
        type="DATETIME",
    ),
    # index_desc: CREATE is in CASES; ALTER ADD KEY and CREATE INDEX.
    case(
        "index_desc",
        "ALTER TABLE rs ADD KEY kd (name DESC)",
        "ALTER TABLE rs ADD KEY kd (name)",
        "alter-add-key-desc",
    ),
    case(
        "index_desc",
        "CREATE INDEX kd ON rs (name DESC)",
        "CREATE INDEX kd ON rs (name)",
        "create-index-desc",
    ),
    # auto_increment_not_bigint: CREATE is in CASES; ADD COLUMN on a sharded rowstore.
    case(
        "auto_increment_not_bigint",
        "ALTER TABLE rsu ADD COLUMN n INT NOT NULL AUTO_INCREMENT",
        "ALTER TABLE rsu ADD COLUMN n INT NOT NULL",
        "alter-add-column-int-auto-increment",
    ),
    # update_shard_key: the bare column is in CASES; qualified by the table and by an alias.
    case(
        "update_shard_key",
        "UPDATE cs SET cs.id = 5 WHERE cs.id = 1",
        "UPDATE cs SET cs.name = 'x' WHERE cs.id = 1",
        "update-qualified-shard-key",
    ),
    case(
        "update_shard_key",
        "UPDATE cs AS c SET c.id = 5 WHERE c.id = 1",
        "UPDATE cs AS c SET c.name = 'x' WHERE c.id = 1",
        "update-aliased-shard-key",
    ),
    # for_update_option: NOWAIT is in CASES; SKIP LOCKED and OF.
    case(
        "for_update_option",
        "SELECT id FROM rs WHERE id = 1 FOR UPDATE SKIP LOCKED",
        "SELECT id FROM rs WHERE id = 1 FOR UPDATE",
        "for-update-skip-locked",
        near="SKIP LOCKED",
    ),
    # for_update_columnstore_join: JOIN is in CASES; a comma join and a subquery.
    case(
        "for_update_columnstore_join",
        "SELECT cs.id FROM cs, rs WHERE cs.id = rs.id FOR UPDATE",
        "SELECT rs.id FROM rs, rs2 WHERE rs.id = rs2.id FOR UPDATE",
        "for-update-comma-join",
    ),
    # vector rules: CREATE TABLE is in CASES; ALTER TABLE ADD VECTOR INDEX and ADD COLUMN.
    case(
        "vector_index_rowstore",
        "ALTER TABLE rs ADD VECTOR INDEX vi (name)",
        "ALTER TABLE vec ADD VECTOR INDEX vi (v)",
        "alter-add-vector-index-rowstore",
    ),
    case(
        "vector_index_type",
        "ALTER TABLE vec ADD VECTOR INDEX vi (w)",
        'ALTER TABLE vec ADD VECTOR INDEX vi (v) INDEX_OPTIONS \'{"metric_type":"DOT_PRODUCT"}\'',
        "alter-add-vector-index-not-f32",
        column="w",
    ),
    case(
        "vector_index_columns",
        "ALTER TABLE vec ADD VECTOR INDEX vi (v, w)",
        "ALTER TABLE vec ADD VECTOR INDEX vi (v)",
        "alter-add-vector-index-two-columns",
        count="2",
    ),
    case(
        "vector_index_unknown_column",
        "ALTER TABLE vec ADD VECTOR INDEX vi (nope)",
        "ALTER TABLE vec ADD COLUMN nope VECTOR(3) NULL, ADD VECTOR INDEX vi (nope)",
        "alter-add-vector-index-unknown-column",
        column="nope",
    ),
    case(
        "vector_type",
        "ALTER TABLE vec ADD COLUMN z VECTOR(0) NULL",
        "ALTER TABLE vec ADD COLUMN z VECTOR(2) NULL",
        "alter-add-column-vector-zero",
        type="VECTOR(0)",
    ),
    # fulltext_rowstore / fulltext_multiple: CREATE TABLE is in CASES; ALTER TABLE ADD FULLTEXT.
    case(
        "fulltext_rowstore",
        "ALTER TABLE rs ADD FULLTEXT fn (name)",
        "ALTER TABLE cs ADD FULLTEXT fn (name)",
        "alter-add-fulltext-rowstore",
    ),
    case(
        "fulltext_multiple",
        "ALTER TABLE ft ADD FULLTEXT f2 (title)",
        "ALTER TABLE csk ADD FULLTEXT f2 (name)",
        "alter-add-second-fulltext",
    ),
    # fulltext_no_index: MATCH (TABLE t) without an index is in CASES; a column outside the index (in
    # the query, in the legacy column list), a MATCH list that is not columns.
    case(
        "fulltext_no_index",
        "SELECT id FROM ft WHERE MATCH (TABLE ft) AGAINST ('id:1')",
        "SELECT id FROM ft WHERE MATCH (TABLE ft) AGAINST ('title:x')",
        "query-names-a-column-outside-the-index",
    ),
    case(
        "fulltext_no_index",
        "SELECT id FROM ft WHERE MATCH (id) AGAINST ('x')",
        "SELECT id FROM ft WHERE MATCH (body) AGAINST ('x')",
        "legacy-column-outside-the-index",
    ),
    case(
        "fulltext_no_index",
        "SELECT id FROM ft WHERE MATCH ('title') AGAINST ('x')",
        "SELECT id FROM ft WHERE MATCH (title, body) AGAINST ('x')",
        "legacy-list-not-columns",
    ),
    # fulltext_query_gateway_limit: '~' is in CASES; the parser's other refusals and a non-literal query.
    *(
        case(
            "fulltext_query_gateway_limit",
            f"SELECT id FROM ft WHERE MATCH (TABLE ft) AGAINST ({bad})",
            f"SELECT id FROM ft WHERE MATCH (TABLE ft) AGAINST ({good})",
            site,
            construct=construct,
        )
        for bad, good, site, construct in (
            ("'(a b'", "'(a b)'", "query-open-group", "'(' without ')'"),
            ("'a b)'", "'(a b)'", "query-close-group", "')' without '('"),
            ("'AND b'", "'a AND b'", "query-and-first", "'AND' with nothing before it"),
            ("'a OR'", "'a OR b'", "query-or-last", "'OR' with nothing after it"),
            ("'\"a b'", "'\"a b\"'", "query-open-phrase", "an unclosed '\"'"),
            ("'\"!\"'", "'\"a\"'", "query-empty-phrase", "an empty phrase"),
            ("'a^2'", "'a'", "query-boost", "'^' (boost)"),
            ("'*a'", "'a*'", "query-leading-wildcard", "'*' not at the end of a term"),
            ("'e-mail'", "'\"e mail\"'", "query-punctuation-in-term", "'-' inside a term"),
            ("CONCAT('a', 'b')", "'ab'", "query-not-a-literal", "other than one string literal"),
        )
    ),
    # returning: DELETE is in CASES; INSERT and REPLACE.
    case(
        "returning",
        "INSERT INTO rs (id, name) VALUES (7, 'a') RETURNING id",
        "INSERT INTO rs (id, name) VALUES (7, 'a')",
        "insert-returning",
        near="RETURNING id",
    ),
    # json_depth_gateway_limit: arrays only are in CASES; arrays and objects nested in turn (the quick
    # pre-check counts both brackets).
    case(
        "json_depth_gateway_limit",
        "INSERT INTO js VALUES (1, '" + '[{"a":' * 16 + "1" + "}]" * 16 + "')",
        "INSERT INTO js VALUES (1, '" + '[{"a":' * 15 + "[1]" + "}]" * 15 + "')",
        "insert-json-arrays-and-objects",
        column="d",
    ),
)


#: Raise sites only a non-default gateway configuration reaches: decided by the engine (the gateway the
#: tests start runs the default configuration), on the private MariaDB.
ENGINE_SITES: tuple[RuleCase, ...] = (
    RuleCase(
        "foreign_key",
        "CREATE ROWSTORE TABLE fkc (a BIGINT NULL REFERENCES rs (id))",
        "CREATE ROWSTORE TABLE fkc (a BIGINT NULL)",
        config={"foreign_keys": "reject"},
        fields={"_site": "create-column-references"},
    ),
)


def _raise_sites() -> Counter[str]:
    """How many places rules.py and fulltext.py (its full-text rules) raise each error key from
    (`GatewayError("key", ...)`)."""
    counts: Counter[str] = Counter()
    for module in (rules, fulltext):
        tree = ast.parse(Path(module.__file__).read_text())
        counts.update(
            node.args[0].value
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "GatewayError"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        )
    return counts


def test_every_raise_site_has_its_own_case():
    """Counted from rules.py and fulltext.py themselves, so a new raise site without its bad/good pair fails here."""
    cases = Counter(c.error for c in CASES + SITES + ENGINE_SITES)
    short = {key: (n, cases[key]) for key, n in _raise_sites().items() if cases[key] < n}
    assert not short, f"error key: (raise sites in rules.py, cases) {short}"


@pytest.mark.parametrize("c", ENGINE_SITES, ids=lambda c: f"{c.error}-{c.fields['_site']}")
def test_raise_site_on_the_engine(c: RuleCase, mariadb: MariaDB, request: pytest.FixtureRequest) -> None:
    h = EngineHarness(mariadb, db_name("gw_sites_engine_", request.node.name), GatewayConfig(**c.config))
    try:
        for sql in SETUP:
            decision, _ = h.run(sql)
            assert isinstance(decision, Forward), (sql, decision)
        spec = ERRORS[c.error]
        assert h.decide(c.bad) == Reject(spec.code, spec.sqlstate, spec.format(**_expected_fields(c)))
        good, _ = h.run(c.good)
        assert isinstance(good, Forward), good
    finally:
        h.close()


def _expected_fields(c: RuleCase) -> dict[str, str]:
    return {k: v for k, v in c.fields.items() if k != "_site"}


def test_every_error_key_raised_from_several_places_has_more_than_one_case():
    """The keys rules.py raises from more than one site each have cases here beyond CASES."""
    here = {c.error for c in SITES}
    several = {
        "unique_without_shard_key",
        "alter_columnstore_add_unique",
        "alter_columnstore_auto_increment",
        "sort_key_rowstore",
        "duplicate_hash_index",
        "alter_columnstore_drop_shard_index",
        "alter_columnstore_change_pk",
        "add_primary_key",
        "change_reference_auto_increment_name",
        "default_expression",
        "check_constraint",
        "fulltext_rowstore",
        "fulltext_multiple",
        "fulltext_no_index",
        "fulltext_query_gateway_limit",
    }
    assert several <= here
    assert here <= {c.error for c in CASES}, "every key here also has its CASES entry"
    assert len({c.fields["_site"] for c in SITES}) == len(SITES)


@pytest.mark.parametrize("c", SITES, ids=lambda c: f"{c.error}-{c.fields['_site']}")
def test_raise_site_through_gateway(c: RuleCase, testbed: Testbed, request: pytest.FixtureRequest) -> None:
    spec = ERRORS[c.error]
    with (
        fresh_database(testbed, db_for("gw_sites_", request)) as db,
        client("mysqldb", testbed.master, db) as conn,
    ):
        for sql in SETUP + EXTRA_SETUP:
            conn.execute(sql)
        assert conn.error(c.bad) == (spec.code, spec.format(**_expected_fields(c)))
        conn.execute(c.good)


def test_update_shard_key_named_with_its_database(testbed: Testbed, request: pytest.FixtureRequest) -> None:
    """`db`.`t`.`col` in UPDATE ... SET: the column is the third part (the update_shard_key site that reads a
    qualified name past its table)."""
    spec = ERRORS["update_shard_key"]
    with (
        fresh_database(testbed, db_for("gw_sites_", request)) as db,
        client("mysqldb", testbed.master, db) as conn,
    ):
        for sql in SETUP:
            conn.execute(sql)
        conn.execute("INSERT INTO cs (id, name) VALUES (1, 'a')")
        assert conn.error(f"UPDATE cs SET `{db}`.`cs`.`id` = 5 WHERE id = 1") == (spec.code, spec.format())
        conn.execute(f"UPDATE cs SET `{db}`.`cs`.`name` = 'x' WHERE id = 1")
        assert conn.execute("SELECT id, name FROM cs") == [(1, "x")]
