"""Gateway fidelity (issue 16): where the gateway used to be stricter or looser than SingleStore.

Each test names the SingleStore documentation page it follows, or says [assumption] where the docs are
silent. AUTO_INCREMENT ranges and LAST_INSERT_ID are in test_rules_auto_increment.py."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.gateway.engine_harness import EngineHarness, db_name
from tests.gateway.gwclients import DRIVERS, Client, client, db_for, fresh_database
from tests.testbed import Testbed
from tests.testbed.gateway.engine import LocalOK, Reject
from tests.testbed.gateway.errors import ERRORS
from tests.testbed.mariadb import MariaDB

pytestmark = pytest.mark.gateway_only


@pytest.fixture(params=DRIVERS)
def gw(request: pytest.FixtureRequest, testbed: Testbed) -> Iterator[Client]:
    with (
        fresh_database(testbed, db_for("gw_fidelity_", request)) as db,
        client(request.param, testbed.master, db) as c,
    ):
        yield c


def test_limit_inside_an_in_subquery_runs(gw: Client) -> None:
    """[assumption] SingleStore runs ``IN (SELECT ... LIMIT n)`` (no SingleStore page lists MySQL's 1235
    restriction); MariaDB refuses it, so the gateway wraps the subquery in a derived table."""
    gw.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, v INT)")
    gw.execute("INSERT INTO t VALUES (1, 30), (2, 10), (3, 20)")
    rows = gw.execute("SELECT id FROM t WHERE id IN (SELECT id FROM t ORDER BY v LIMIT 2) ORDER BY id")
    assert rows == [(2,), (3,)]
    rows = gw.execute(
        "SELECT id FROM t WHERE id NOT IN (SELECT id FROM t ORDER BY v DESC LIMIT 1) ORDER BY id"
    )
    assert rows == [(2,), (3,)]
    rows = gw.execute("SELECT id FROM t WHERE v > ALL (SELECT v FROM t ORDER BY v LIMIT 2) ORDER BY id")
    assert rows == [(1,)]


def test_show_create_table_prints_json_and_persisted_columns(gw: Client) -> None:
    """[doc] "JSON Type" (a JSON column is ``JSON``, not MariaDB's LONGTEXT + CHECK json_valid) and
    "Persistent Computed Columns" (``AS expr PERSISTED type``, parentheses optional)."""
    gw.execute(
        "CREATE TABLE t (id BIGINT PRIMARY KEY, v INT, d JSON, "
        "twice AS v * 2 PERSISTED BIGINT, plus AS (v + 1) PERSISTED BIGINT)"
    )
    gw.execute("INSERT INTO t (id, v, d) VALUES (1, 5, '{\"a\": 1}')")
    assert gw.execute("SELECT twice, plus FROM t") == [(10, 6)]
    text = gw.execute("SHOW CREATE TABLE t")[0][1]
    assert "`d` JSON" in text and "json_valid" not in text and "longtext" not in text
    assert "`twice` AS `v` * 2 PERSISTED bigint(20)" in text
    assert "`plus` AS `v` + 1 PERSISTED bigint(20)" in text
    assert "GENERATED" not in text and "STORED" not in text


def test_quoted_numeric_keys_index_json_arrays(gw: Client) -> None:
    """[doc] "JSON Keypaths": how a key is treated depends on the structure of the JSON value
    (``ltr_name::posIds::`2`::text`` indexes an array); on an object the same key names a member."""
    gw.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, j JSON)")
    gw.execute(
        'INSERT INTO t VALUES (1, \'{"arr": [10, 20, 30], "obj": {"1": "one"}, '
        '"posIds": [{"text": "alpha"}, {"text": "beta"}, {"text": "gamma"}]}\')'
    )
    rows = gw.execute(
        "SELECT JSON_EXTRACT_JSON(j, 'arr', '1'), JSON_EXTRACT_STRING(j, 'obj', '1'), "
        "j::arr::`2`, j::posIds::`2`::$text, JSON_EXTRACT_BIGINT(j, 'arr', '0'), "
        "JSON_EXTRACT_JSON(j, 'obj', '0') FROM t"
    )
    assert rows == [("20", "one", "30", "gamma", 10, None)]


def test_regexp_format_and_backreferences(gw: Client) -> None:
    """[doc] "Regular Expression Functions" / "RLIKE and REGEXP": the global ``regexp_format`` is
    'extended' (POSIX ERE) by default; backreferences belong to 'advanced' (the error is an assumption)."""
    assert gw.execute("SELECT @@regexp_format, @@global.regexp_format") == [("extended", "extended")]
    assert gw.execute("SELECT 'aa' REGEXP '(a)a', 'dog58' RLIKE '[0-9]'") == [(1, 1)]
    spec = ERRORS["regexp_backreference"]
    assert gw.error("SELECT 'aa' REGEXP '(a)\\\\1'") == (spec.code, spec.template)
    assert gw.error("SELECT REGEXP_REPLACE('aa', '(a)\\\\1', 'b')")[0] == spec.code


@pytest.fixture
def harness(mariadb: MariaDB, request: pytest.FixtureRequest) -> Iterator[EngineHarness]:
    h = EngineHarness(mariadb, db_name("gw_fidelity_", request.node.name))
    yield h
    h.close()


def test_regexp_format_advanced_allows_backreferences(harness: EngineHarness) -> None:
    """``SET GLOBAL regexp_format = 'advanced'`` ([doc] regular-expression-functions) lets backreferences
    through; engine-level (the variable is global, so a live gateway would leak it to other tests)."""
    h = harness
    assert isinstance(h.decide("SELECT 'aa' REGEXP '(a)\\\\1'"), Reject)
    assert isinstance(h.decide("SET GLOBAL regexp_format = 'advanced'"), LocalOK)
    _, rows = h.run("SELECT @@regexp_format, 'aa' REGEXP '(a)\\\\1'")
    assert rows == [("advanced", 1)]
    h.decide("SET GLOBAL regexp_format = 'extended'")
    assert isinstance(h.decide("SELECT 'aa' REGEXP '(a)\\\\1'"), Reject)


def test_int_auto_increment_on_a_sharded_table_is_refused(gw: Client) -> None:
    """Decision: ``CREATE TABLE ct_auto (c1 INT AUTO_INCREMENT PRIMARY KEY)`` stays refused. The
    "CREATE TABLE with an AUTO_INCREMENT Column" page uses it as an example of explicit values colliding,
    but states that on a sharded table AUTO_INCREMENT can only be used on a BIGINT column (v8.9), and
    SingleStore's own EF Core provider changes every INT key to BIGINT for that reason. A reference
    table ("behave normally, like MySQL") accepts INT."""
    code, message = gw.error("CREATE TABLE ct_auto (c1 INT AUTO_INCREMENT PRIMARY KEY)")
    assert (code, message) == (
        ERRORS["auto_increment_not_bigint"].code,
        ERRORS["auto_increment_not_bigint"].template,
    )
    gw.execute("CREATE TABLE ct_big (c1 BIGINT AUTO_INCREMENT PRIMARY KEY)")
    gw.execute("CREATE REFERENCE TABLE ct_ref (c1 INT AUTO_INCREMENT PRIMARY KEY)")


def test_lag_with_a_default_is_not_singlestore_syntax(gw: Client) -> None:
    """[doc] "LAG" / "LEAD": ``LAG(expression [, offset]) OVER (...)``: no default argument, so MariaDB's
    syntax error (1064) matches SingleStore; Django's ``supports_default_in_lead_lag`` stays False."""
    gw.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, v INT)")
    gw.execute("INSERT INTO t VALUES (1, 10), (2, 20)")
    assert gw.execute("SELECT id, LAG(v, 1) OVER (ORDER BY id) FROM t ORDER BY id") == [(1, None), (2, 10)]
    assert gw.error("SELECT LAG(v, 1, 0) OVER (ORDER BY id) FROM t")[0] == 1064


def test_collation_names_as_singlestore_spells_them(gw: Client) -> None:
    """[doc] "Character Sets Supported" (``utf8`` / ``utf8_general_ci``) and "Implicit Collation in Special
    Cases" (SHOW VARIABLES LIKE 'collation%' shows utf8_general_ci): never MariaDB's ``utf8mb3``."""
    values = gw.execute("SELECT @@collation_server, @@character_set_server, @@session.collation_connection")
    assert not any("utf8mb3" in v for v in values[0])
    assert values[0][0].startswith("utf8") and values[0][1].startswith("utf8")
    shown = gw.execute("SHOW VARIABLES LIKE 'c%'")
    assert shown and not any("utf8mb3" in str(v) for _, v in shown)
    gw.execute(
        "CREATE TABLE t (id BIGINT PRIMARY KEY, s VARCHAR(10) CHARACTER SET utf8 COLLATE utf8_general_ci)"
    )
    text = gw.execute("SHOW CREATE TABLE t")[0][1]
    assert "utf8_general_ci" in text and "utf8mb3" not in text


def test_names_longer_than_64_characters_are_a_gateway_limit(gw: Client) -> None:
    """SingleStore accepts longer names than MariaDB's 64 characters [assumption: 256]; the test bed
    cannot, and says so (errors.ERRORS["identifier_gateway_limit"]) instead of MariaDB's bare 1059."""
    name = "t" * 65
    code, message = gw.error(f"CREATE TABLE {name} (id BIGINT PRIMARY KEY)")
    assert code == 1059 and "gateway limit" in message and name in message
    gw.execute(f"CREATE TABLE {'t' * 64} (id BIGINT PRIMARY KEY)")


def test_show_index_in_singlestore_shape(gw: Client) -> None:
    """[doc] "SHOW INDEX, SHOW INDEXES, SHOW KEYS": 13 columns ending in Index_comment, Cardinality /
    Sub_part / Packed NULL, a columnstore table's shard key as ``__SHARDKEY`` with ``METADATA_ONLY``."""
    gw.execute("CREATE TABLE t (id BIGINT, k INT, PRIMARY KEY (id), KEY k_idx (k), SHARD KEY (id))")
    rows = gw.execute("SHOW INDEX FROM t")
    assert [len(r) for r in rows] == [13] * len(rows)
    by_key = {(r[2], r[3]): r for r in rows}
    assert by_key[("PRIMARY", 1)][4] == "id" and by_key[("PRIMARY", 1)][1] == 0
    assert by_key[("k_idx", 1)][4] == "k" and by_key[("k_idx", 1)][9] == "YES"
    shard = by_key[("__SHARDKEY", 1)]
    assert shard[4] == "id" and shard[10] == "METADATA_ONLY"
    assert all(r[6] is None and r[7] is None and r[8] is None and r[11] == "" == r[12] for r in rows)
    assert rows[0][2] == "PRIMARY"
    assert gw.execute("SHOW KEYS IN t WHERE Key_name = 'k_idx'") == [by_key[("k_idx", 1)]]
    assert gw.error("SHOW INDEX FROM no_such_table")[0] == 1146


def test_json_columns_go_out_with_the_json_wire_type(gw: Client) -> None:
    """[doc] "JSON Type": JSON is a column type of its own, and SingleStore's own Python client keeps
    MySQL's ``FIELD_TYPE.JSON = 245`` for it (singlestore-semantics.md: [unverified] on a live server).
    MariaDB sends its JSON (LONGTEXT) as 252; the gateway retypes the columns its catalog knows as JSON,
    aliased or not, while computed JSON values (no column of origin) and other LONGTEXT columns keep
    MariaDB's type (a gateway limit). Both drivers still decode the value as text."""
    gw.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, d JSON, note LONGTEXT)")
    gw.execute("INSERT INTO t VALUES (1, '{\"a\": [1, 2]}', 'x')")
    rows = gw.execute("SELECT id, d, note, d AS renamed, JSON_EXTRACT_JSON(d, 'a') FROM t")
    codes = [c[1] for c in gw.description]
    assert codes[:4] == [8, 245, 252, 245] and codes[4] != 245
    assert rows == [(1, '{"a": [1, 2]}', "x", '{"a": [1, 2]}', "[1, 2]")]
    assert json.loads(rows[0][1]) == {"a": [1, 2]}
    gw.execute("CREATE TABLE plain (id BIGINT PRIMARY KEY, body LONGTEXT)")
    gw.execute("INSERT INTO plain VALUES (1, 'x')")
    gw.execute("SELECT p.body, t.d FROM plain p JOIN t ON t.id = p.id")
    assert [c[1] for c in gw.description] == [252, 245]
    gw.execute("ALTER TABLE plain ADD COLUMN extra JSON")
    gw.execute("SELECT body, extra FROM plain")
    assert [c[1] for c in gw.description] == [252, 245]


def test_json_columns_are_json_in_information_schema_and_show_columns(gw: Client) -> None:
    """[doc] "JSON Type": information_schema.COLUMNS, SHOW [FULL] COLUMNS and DESCRIBE report a JSON
    column as ``json`` (MariaDB: ``longtext``). [assumption] the lower-case spelling (MySQL's, and
    information_schema's DATA_TYPE is lower case for every type)."""
    gw.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, d JSON NULL, note LONGTEXT)")
    rows = gw.execute(
        "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE FROM information_schema.COLUMNS "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 't' ORDER BY ORDINAL_POSITION"
    )
    assert rows == [("id", "bigint", "bigint(20)"), ("d", "json", "json"), ("note", "longtext", "longtext")]
    shown = gw.execute("SHOW COLUMNS FROM t")
    assert [(r[0], r[1]) for r in shown] == [("id", "bigint(20)"), ("d", "json"), ("note", "longtext")]
    assert gw.execute("SHOW FULL COLUMNS FROM t LIKE 'd'")[0][:2] == ("d", "json")
    assert [(r[0], r[1]) for r in gw.execute("DESCRIBE t")] == [(r[0], r[1]) for r in shown]
    assert gw.error("SHOW COLUMNS FROM no_such_table")[0] == 1146


def test_json_nested_32_levels_deep_is_a_test_bed_limit(gw: Client) -> None:
    """MariaDB refuses JSON nested 32 levels deep (its JSON_VALID, hence the JSON column's CHECK,
    fails: 4025, from a depth of 32; 31 is fine); SingleStore's "JSON Type" page states no such depth limit [assumption: none below
    Django's tests' depths]. The gateway cannot lift MariaDB's limit, so it says whose it is."""
    gw.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, d JSON)")
    ok = "[" * 31 + "]" * 31
    gw.execute(f"INSERT INTO t VALUES (1, '{ok}')")
    deep = '{"k": ' * 32 + '"[[{"' + "}" * 32
    code, message = gw.error(f"INSERT INTO t VALUES (2, '{deep}')")
    spec = ERRORS["json_depth_gateway_limit"]
    assert code == spec.code and "gateway limit" in message and "MariaDB" in message
    assert gw.execute("SELECT COUNT(*) FROM t") == [(1,)]
