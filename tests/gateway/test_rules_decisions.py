"""Rule decisions on statement shapes (engine with a fake MariaDB and a hand-made catalog)."""

from __future__ import annotations

import pytest

from tests.gateway.fakes import decide, forwarded_sql, make_engine, session
from tests.testbed.gateway.catalog import TableInfo
from tests.testbed.gateway.engine import Engine, Forward, GatewayConfig, Reject
from tests.testbed.gateway.rules import add_random_order
from tests.testbed.gateway.sqllex import significant


def engine(config: GatewayConfig | None = None) -> Engine:
    e = make_engine(config)
    e.catalog.tables[("db1", "cs")] = TableInfo("db1", "cs", primary_key=["id"], columns=["id", "a"])
    e.catalog.tables[("db1", "rs")] = TableInfo("db1", "rs", storage="ROWSTORE", primary_key=["id"])
    e.catalog.tables[("db1", "ref")] = TableInfo(
        "db1", "ref", storage="ROWSTORE", reference=True, primary_key=["id"]
    )
    e.catalog.tables[("db2", "ref2")] = TableInfo("db2", "ref2", reference=True, primary_key=["id"])
    return e


def code(sql: str, **sess: object) -> int | None:
    dec = decide(engine(), sql, session(**sess))  # type: ignore[arg-type]
    return dec.code if isinstance(dec, Reject) else None


@pytest.mark.parametrize(
    "sql",
    [
        "LOAD DATA LOCAL INFILE '/tmp/x' INTO TABLE ref",
        "REPLACE INTO ref (id) VALUES (1)",
        "DELETE r FROM ref r JOIN rs ON r.id = rs.id",
        "UPDATE rs JOIN ref ON rs.id = ref.id SET ref.id = 2",
        "INSERT INTO db2.ref2 (id) VALUES (1)",
        "DELETE FROM ref",
    ],
)
def test_child_reference_writes_in_a_transaction(sql: str) -> None:
    assert code(sql, role="child", in_transaction=True) == 2549
    assert code(sql, role="child", autocommit=False) == 2549
    assert code(sql, role="child") in (None, 1706)  # autocommit: allowed (1706: shard key rule on rs)
    assert code(sql, role="master", in_transaction=True) in (None, 1706)


def test_reads_of_reference_tables_on_the_child_are_fine() -> None:
    assert code("SELECT * FROM ref", role="child", in_transaction=True) is None
    assert code("INSERT INTO rs (id) SELECT id FROM ref", role="child", in_transaction=True) is None


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM cs WHERE id = 1 FOR UPDATE", None),
        ("SELECT * FROM cs WHERE id IN (SELECT id FROM rs) FOR UPDATE", 1706),
        ("SELECT * FROM rs, cs WHERE rs.id = cs.id FOR UPDATE", 1706),
        ("SELECT * FROM rs LEFT JOIN cs ON rs.id = cs.id FOR UPDATE", 1706),
        ("SELECT * FROM rs WHERE id IN (SELECT id FROM ref) FOR UPDATE", None),
        ("SELECT * FROM rs FOR UPDATE SKIP LOCKED", 1064),
        ("SELECT * FROM rs FOR UPDATE OF rs", 1064),
        ("SELECT * FROM rs FOR UPDATE WAIT 5", 1064),
        ("SELECT x, (SELECT CUME_DIST() OVER (ORDER BY a) FROM cs LIMIT 1) FROM rs", 1706),
        ("INSERT INTO rs (id) SELECT 1 RETURNING id", 1064),
        ("SELECT 'returning' FROM rs", None),
        ("UPDATE cs SET a = a + 1 WHERE id = 1", None),
        ("UPDATE ref SET id = id + 1", None),
    ],
)
def test_statement_rules(sql: str, expected: int | None) -> None:
    assert code(sql) == expected


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT a FROM t", "SELECT a FROM t ORDER BY RAND()"),
        ("SELECT a FROM t WHERE b = 1 LIMIT 5", "SELECT a FROM t WHERE b = 1 ORDER BY RAND() LIMIT 5"),
        ("SELECT a FROM t FOR UPDATE", "SELECT a FROM t ORDER BY RAND() FOR UPDATE"),
        ("SELECT a FROM t GROUP BY a", "SELECT a FROM t GROUP BY a ORDER BY RAND()"),
        ("SELECT a FROM t ORDER BY a", None),
        (
            "SELECT (SELECT b FROM u LIMIT 1) FROM t LIMIT 1",
            "SELECT (SELECT b FROM u LIMIT 1) FROM t ORDER BY RAND() LIMIT 1",
        ),
        ("SELECT 1", None),
    ],
)
def test_no_implicit_order_rewrite(sql: str, expected: str | None) -> None:
    assert add_random_order(sql, significant(sql)) == expected


def test_no_implicit_order_is_off_by_default_and_on_when_configured() -> None:
    sql = b"SELECT a FROM t"
    dec = decide(engine(), sql)
    assert isinstance(dec, Forward) and dec.sql is sql
    assert (
        forwarded_sql(decide(engine(GatewayConfig(no_implicit_order=True)), sql))
        == "SELECT a FROM t ORDER BY RAND()"
    )


def test_show_create_of_an_unknown_table_is_forwarded() -> None:
    sql = b"SHOW CREATE TABLE nothere"
    dec = decide(engine(), sql)
    assert isinstance(dec, Forward) and dec.sql is sql


def test_alter_with_only_a_foreign_key_on_rowstore_is_answered_locally() -> None:
    from tests.testbed.gateway.engine import LocalOK

    assert isinstance(
        decide(engine(), "ALTER TABLE rs ADD CONSTRAINT f FOREIGN KEY (id) REFERENCES ref (id)"), LocalOK
    )
    dec = decide(engine(), "ALTER TABLE cs ADD CONSTRAINT f FOREIGN KEY (id) REFERENCES ref (id)")
    assert isinstance(dec, Reject) and "adds unique/primary/foreign index f" in dec.message


@pytest.mark.parametrize(
    ("declared", "mariadb", "same"),
    [
        ("INTEGER", "int(11)", True),
        ("bigint unsigned", "bigint(20) unsigned", True),
        ("BOOL", "tinyint(1)", True),
        ("DECIMAL(10, 2)", "decimal(10,2)", True),
        ("DECIMAL", "decimal(10,0)", True),
        ("JSON", "longtext", True),
        ("DATETIME(6)", "datetime(6)", True),
        ("VARCHAR(20)", "varchar(10)", False),
        ("BIGINT", "int(11)", False),
        ("DATETIME", "datetime(6)", False),
        ("CHAR", "char(1)", True),
        ("BINARY", "binary(1)", True),
        ("CHAR", "char(2)", False),
        ("DATETIME(0)", "datetime", True),
        ("TIME(0)", "time(6)", False),
    ],
)
def test_type_normalisation_for_alter_rules(declared: str, mariadb: str, same: bool) -> None:
    from tests.testbed.gateway.rules import normalize_type

    assert (normalize_type(declared) == normalize_type(mariadb)) is same
