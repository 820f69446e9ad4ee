"""One case per rejection in errors.ERRORS: the statement that violates it and the valid form.

Shared by the unit tests (test_rules_engine.py, on the engine with a fake MariaDB) and the integration
tests (test_rules_gateway.py, through the gateway with MySQLdb and aiomysql).
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Tables every case starts with, created through the gateway (so the catalog knows them).
SETUP = (
    "CREATE TABLE cs (id BIGINT AUTO_INCREMENT NOT NULL, name VARCHAR(10) NULL, PRIMARY KEY (id), "
    "CONSTRAINT sk SHARD KEY (id))",
    "CREATE ROWSTORE TABLE rs (id BIGINT NOT NULL, name VARCHAR(10) NULL, PRIMARY KEY (id))",
    "CREATE ROWSTORE TABLE rs2 (id BIGINT NOT NULL PRIMARY KEY, v INT NULL)",
    "CREATE ROWSTORE REFERENCE TABLE ref (id BIGINT AUTO_INCREMENT PRIMARY KEY, a INT NULL)",
    "CREATE ROWSTORE TABLE nopk (a INT NOT NULL, b INT NULL)",
    "CREATE TABLE csk (id BIGINT NOT NULL, name VARCHAR(10) NULL, PRIMARY KEY (id), KEY k1 (name))",
    "CREATE TABLE js (id BIGINT NOT NULL PRIMARY KEY, d JSON NULL)",
    "CREATE TABLE ft (id BIGINT NOT NULL, title VARCHAR(100) NULL, body TEXT NULL, PRIMARY KEY (id), "
    "FULLTEXT USING VERSION 2 ftx (title, body))",
    "CREATE TABLE ft1 (id BIGINT NOT NULL, title VARCHAR(100) NULL, PRIMARY KEY (id), FULLTEXT ftx1 (title))",
)


@dataclass(frozen=True)
class RuleCase:
    error: str  # key of errors.ERRORS
    bad: str
    good: str
    role: str = "master"
    in_transaction: bool = False  # run `bad` inside BEGIN ... (the `good` form runs in autocommit)
    fields: dict[str, str] = field(default_factory=dict)  # template fields of the expected message
    config: dict[str, str] = field(default_factory=dict)  # GatewayConfig overrides (unit tests only)

    @property
    def id(self) -> str:
        return self.error


CASES: tuple[RuleCase, ...] = (
    RuleCase("savepoint", "SAVEPOINT s1", "START TRANSACTION"),
    RuleCase(
        "reference_write_child",
        "INSERT INTO ref (a) VALUES (1)",
        "INSERT INTO ref (a) VALUES (2)",
        role="child",
        in_transaction=True,
    ),
    RuleCase(
        "reference_without_pk",
        "CREATE REFERENCE TABLE r2 (a INT)",
        "CREATE REFERENCE TABLE r2 (a INT PRIMARY KEY)",
    ),
    RuleCase(
        "unique_without_shard_key",
        "CREATE TABLE u2 (a BIGINT NOT NULL, b INT NULL, SHARD KEY (a), UNIQUE KEY ub (b))",
        "CREATE TABLE u2 (a BIGINT NOT NULL, b INT NULL, SHARD KEY (a), UNIQUE KEY ub (a, b))",
        fields={"name": "ub"},
    ),
    RuleCase(
        "auto_increment_not_bigint",
        "CREATE TABLE ai (id INT AUTO_INCREMENT PRIMARY KEY)",
        "CREATE TABLE ai (id BIGINT AUTO_INCREMENT PRIMARY KEY)",
    ),
    RuleCase("check_constraint", "CREATE TABLE ck (a INT CHECK (a > 0))", "CREATE TABLE ck (a INT)"),
    RuleCase(
        "foreign_key",
        "CREATE ROWSTORE TABLE fk (a BIGINT, FOREIGN KEY (a) REFERENCES rs (id))",
        "CREATE ROWSTORE TABLE fk (a BIGINT)",
        config={"foreign_keys": "reject"},
    ),
    RuleCase(
        "multiple_unique_columnstore",
        "CREATE TABLE mu (a BIGINT NOT NULL, b BIGINT NOT NULL, PRIMARY KEY (a), UNIQUE KEY (a, b))",
        "CREATE ROWSTORE TABLE mu (a BIGINT NOT NULL, b BIGINT NOT NULL, PRIMARY KEY (a), UNIQUE KEY (a, b))",
    ),
    RuleCase(
        "duplicate_hash_index",
        "CREATE TABLE dh (a INT, KEY k1 (a) USING HASH, KEY k2 (a) USING HASH)",
        "CREATE TABLE dh (a INT, b INT, KEY k1 (a) USING HASH, KEY k2 (b) USING HASH)",
    ),
    RuleCase(
        "datetime_precision",
        "CREATE TABLE dt (a DATETIME(3))",
        "CREATE TABLE dt (a DATETIME(6), b TIME(6), c TIMESTAMP(0) NULL)",
        fields={"type": "DATETIME"},
    ),
    RuleCase(
        "sort_key_rowstore",
        "CREATE ROWSTORE TABLE so (a INT, SORT KEY (a))",
        "CREATE TABLE so (a INT, SORT KEY (a))",
    ),
    RuleCase(
        "float_primary_key_columnstore",
        "CREATE TABLE fp (a DOUBLE NOT NULL PRIMARY KEY)",
        "CREATE ROWSTORE TABLE fp (a DOUBLE NOT NULL PRIMARY KEY)",
    ),
    RuleCase(
        "index_desc", "CREATE TABLE de (a INT, KEY (a DESC))", "CREATE TABLE de (a INT, SORT KEY (a DESC))"
    ),
    RuleCase(
        "default_expression",
        "CREATE TABLE dx (a INT DEFAULT (1 + 1))",
        "CREATE TABLE dx (a INT DEFAULT 2, b DATETIME(6) DEFAULT CURRENT_TIMESTAMP(6))",
    ),
    RuleCase(
        "columnstore_keyword",
        "CREATE COLUMNSTORE TABLE cc (a INT)",
        "CREATE TABLE cc (a INT)",
        fields={"near": "COLUMNSTORE TABLE cc (a INT)"},
    ),
    RuleCase(
        "returning",
        "DELETE FROM rs WHERE id = 1 RETURNING id",
        "DELETE FROM rs WHERE id = 1",
        fields={"near": "RETURNING id"},
    ),
    RuleCase(
        "alter_columnstore_type",
        "ALTER TABLE cs MODIFY name VARCHAR(20) NULL",
        "ALTER TABLE rs MODIFY name VARCHAR(20) NULL",
        fields={"column": "name"},
    ),
    RuleCase(
        "alter_columnstore_not_null",
        "ALTER TABLE cs MODIFY name VARCHAR(10) NOT NULL",
        "ALTER TABLE rs MODIFY name VARCHAR(10) NOT NULL",
        fields={"column": "name"},
    ),
    RuleCase(
        "alter_columnstore_add_unique",
        "ALTER TABLE cs ADD UNIQUE KEY uq (id, name)",
        "ALTER TABLE cs ADD KEY kq (id, name)",
        fields={"index": "uq"},
    ),
    RuleCase(
        "alter_columnstore_change_pk",
        "ALTER TABLE csk DROP PRIMARY KEY",
        "ALTER TABLE rs DROP PRIMARY KEY",
    ),
    RuleCase(
        "alter_columnstore_drop_shard_index",
        "ALTER TABLE cs DROP INDEX sk",
        "ALTER TABLE csk DROP INDEX k1",
        fields={"index": "sk"},
    ),
    RuleCase(
        "alter_columnstore_auto_increment",
        "ALTER TABLE cs MODIFY id BIGINT NOT NULL",
        "ALTER TABLE cs MODIFY id BIGINT NOT NULL AUTO_INCREMENT",
        fields={"column": "id"},
    ),
    RuleCase("add_primary_key", "ALTER TABLE nopk ADD PRIMARY KEY (a)", "ALTER TABLE nopk ADD KEY ka (a)"),
    RuleCase(
        "alter_auto_increment_sharded",
        "ALTER TABLE cs AUTO_INCREMENT = 1000",
        "ALTER TABLE ref AUTO_INCREMENT = 1000",
    ),
    RuleCase(
        "alter_table_comment",
        "ALTER TABLE rs COMMENT = 'hello'",
        "ALTER TABLE rs ADD COLUMN c INT NULL COMMENT 'hello'",
    ),
    RuleCase(
        "change_column_type",
        "ALTER TABLE rs CHANGE name title INT NULL",
        "ALTER TABLE rs CHANGE name title VARCHAR(10) NULL",
    ),
    RuleCase(
        "change_reference_auto_increment_name",
        "ALTER TABLE ref CHANGE id ident BIGINT NOT NULL AUTO_INCREMENT",
        "ALTER TABLE ref CHANGE a b INT NULL",
    ),
    RuleCase(
        "rename_index",
        "ALTER TABLE csk RENAME INDEX k1 TO k2",
        "ALTER TABLE csk RENAME TO csk2",
        fields={"near": "INDEX k1 TO k2"},
    ),
    RuleCase(
        "for_update_option",
        "SELECT id FROM rs WHERE id = 1 FOR UPDATE NOWAIT",
        "SELECT id FROM rs WHERE id = 1 FOR UPDATE",
        fields={"near": "NOWAIT"},
    ),
    RuleCase(
        "for_update_columnstore_join",
        "SELECT cs.id FROM cs JOIN rs ON cs.id = rs.id FOR UPDATE",
        "SELECT rs.id FROM rs JOIN rs2 ON rs.id = rs2.id FOR UPDATE",
    ),
    RuleCase(
        "cume_dist",
        "SELECT CUME_DIST() OVER (ORDER BY id) FROM rs",
        "SELECT RANK() OVER (ORDER BY id) FROM rs",
    ),
    RuleCase(
        "update_shard_key",
        "UPDATE cs SET id = 5 WHERE id = 1",
        "UPDATE cs SET name = 'x' WHERE id = 1",
    ),
    RuleCase(
        "regexp_backreference",
        "SELECT 'aa' REGEXP '(a)\\\\1'",
        "SELECT 'aa' REGEXP '(a)a'",
    ),
    RuleCase(
        "vector_type",
        "CREATE TABLE vt2 (id BIGINT NOT NULL PRIMARY KEY, v VECTOR(3, F8) NOT NULL)",
        "CREATE TABLE vt2 (id BIGINT NOT NULL PRIMARY KEY, v VECTOR(3, F64) NOT NULL)",
        fields={"type": "VECTOR(3, F8)"},
    ),
    RuleCase(
        "vector_index_rowstore",
        "CREATE ROWSTORE TABLE vr (id BIGINT PRIMARY KEY, v VECTOR(3) NOT NULL, VECTOR INDEX vi (v))",
        "CREATE TABLE vr (id BIGINT PRIMARY KEY, v VECTOR(3) NOT NULL, VECTOR INDEX vi (v))",
    ),
    RuleCase(
        "vector_index_columns",
        "CREATE TABLE vc (a VECTOR(3) NOT NULL, b VECTOR(3) NOT NULL, VECTOR INDEX vi (a, b))",
        "CREATE TABLE vc (a VECTOR(3) NOT NULL, b VECTOR(3) NOT NULL, VECTOR INDEX vi (a))",
        fields={"count": "2"},
    ),
    RuleCase(
        "vector_index_type",
        'CREATE TABLE vy (a VECTOR(3, F64) NOT NULL, VECTOR INDEX vi (a) INDEX_OPTIONS \'{"index_type":"AUTO"}\')',
        'CREATE TABLE vy (a VECTOR(3, F32) NOT NULL, VECTOR INDEX vi (a) INDEX_OPTIONS \'{"index_type":"AUTO"}\')',
        fields={"column": "a"},
    ),
    RuleCase(
        "vector_index_unknown_column",
        "CREATE TABLE vu (a VECTOR(3) NOT NULL, VECTOR INDEX vi (b))",
        "CREATE TABLE vu (a VECTOR(3) NOT NULL, VECTOR INDEX vi (a))",
        fields={"column": "b"},
    ),
    RuleCase(
        "fulltext_rowstore",
        "CREATE ROWSTORE TABLE ftr (id BIGINT PRIMARY KEY, t TEXT, FULLTEXT (t))",
        "CREATE TABLE ftr (id BIGINT PRIMARY KEY, t TEXT, FULLTEXT (t))",
    ),
    RuleCase(
        "fulltext_multiple",
        "CREATE TABLE ftm (id BIGINT PRIMARY KEY, a TEXT, b TEXT, FULLTEXT fa (a), FULLTEXT fb (b))",
        "CREATE TABLE ftm (id BIGINT PRIMARY KEY, a TEXT, b TEXT, FULLTEXT fab (a, b))",
    ),
    RuleCase(
        "fulltext_no_index",
        "SELECT id FROM cs WHERE MATCH (TABLE cs) AGAINST ('x')",
        "SELECT id FROM ft WHERE MATCH (TABLE ft) AGAINST ('x')",
    ),
    RuleCase(
        "fulltext_version",
        "SELECT id FROM ft1 WHERE MATCH (TABLE ft1) AGAINST ('x')",
        "SELECT id FROM ft1 WHERE MATCH (title) AGAINST ('x')",
        fields={"construct": "MATCH (TABLE ...)"},
    ),
    RuleCase(
        "fulltext_query_gateway_limit",
        "SELECT id FROM ft WHERE MATCH (TABLE ft) AGAINST ('databse~1')",
        "SELECT id FROM ft WHERE MATCH (TABLE ft) AGAINST ('database')",
        fields={"construct": "'~' (fuzzy or proximity search)"},
    ),
    RuleCase(
        "identifier_gateway_limit",
        "CREATE TABLE " + "t" * 65 + " (id BIGINT PRIMARY KEY)",
        "CREATE TABLE " + "t" * 64 + " (id BIGINT PRIMARY KEY)",
        fields={"name": "t" * 65},
    ),
    RuleCase(
        "json_depth_gateway_limit",
        "INSERT INTO js VALUES (1, '" + "[" * 32 + "]" * 32 + "')",
        "INSERT INTO js VALUES (1, '" + "[" * 31 + '"]]]"' + "]" * 31 + "')",
        fields={"column": "d"},
    ),
)

# Issue 21's query shapes (query_rules.py) live in their own module; imported last (it imports RuleCase).
from tests.gateway.rulecases_shapes import SHAPE_CASES  # noqa: E402

CASES = CASES + SHAPE_CASES
