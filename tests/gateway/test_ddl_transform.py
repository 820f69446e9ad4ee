"""SingleStore DDL -> MariaDB DDL, and the facts parsed for the catalog."""

from __future__ import annotations

import pytest

from tests.testbed.gateway.catalog import TableInfo
from tests.testbed.gateway.ddl import (
    CreateTable,
    parse_alter_table,
    parse_create_index,
    parse_create_table,
    singlestore_show_create,
)
from tests.testbed.gateway.sqllex import significant


def create(sql: str) -> CreateTable:
    ct = parse_create_table(sql, significant(sql))
    assert ct is not None
    return ct


def test_storage_prefixes_are_recorded_and_stripped() -> None:
    ct = create("CREATE ROWSTORE REFERENCE TABLE IF NOT EXISTS db.`t` (id BIGINT PRIMARY KEY)")
    assert (ct.db, ct.name, ct.storage, ct.reference) == ("db", "t", "ROWSTORE", True)
    assert ct.mariadb_sql.startswith("CREATE TABLE IF NOT EXISTS db.`t` (")


def test_singlestore_keys_are_stripped_and_recorded() -> None:
    ct = create(
        "CREATE TABLE t (id BIGINT AUTO_INCREMENT AS SEQUENCE NOT NULL, a INT SPARSE, b DATETIME(6) SERIES TIMESTAMP,"
        " SHARD KEY USING HASH (id) METADATA_ONLY, SORT KEY (b DESC), KEY (a) USING HASH,"
        " UNIQUE KEY u (id, a) UNENFORCED RELY, COLUMN GROUP cg (*), FULLTEXT USING VERSION 2 ft (a),"
        " KEY cc (b) USING CLUSTERED COLUMNSTORE, PRIMARY KEY (id))"
        " AUTOSTATS_CARDINALITY_MODE=PERIODIC COMPRESSION = SPARSE COMMENT='x'"
    )
    kinds = [(k.kind, k.columns) for k in ct.keys]
    assert ("shard", ["id"]) in kinds and ("sort", ["b"]) in kinds and ("sort", ["b"]) in kinds
    sql = ct.mariadb_sql
    for gone in ("SHARD", "SORT", "METADATA_ONLY", "UNENFORCED", "RELY", "COLUMN GROUP", "SEQUENCE", "SPARSE",
                 "SERIES", "VERSION", "CLUSTERED", "AUTOSTATS", "COMPRESSION"):  # fmt: skip
        assert gone not in sql, (gone, sql)
    assert "KEY `u` (id, a)" in sql and "UNIQUE" not in sql
    assert "KEY (a) USING HASH" in sql
    assert "FULLTEXT ft (a)" in sql
    assert sql.endswith("COMMENT = 'x'")


def test_foreign_keys_are_dropped_in_ignore_mode() -> None:
    ct = create(
        "CREATE TABLE t (a BIGINT REFERENCES u (id) ON DELETE CASCADE, b INT, CONSTRAINT f FOREIGN KEY (b) REFERENCES u (x))"
    )
    assert "REFERENCES" not in ct.mariadb_sql and "FOREIGN" not in ct.mariadb_sql
    assert ct.columns[0].references


def test_create_like_and_as_select() -> None:
    like = create("CREATE TABLE t2 LIKE db.t1")
    assert like.like == ("db", "t1") and like.mariadb_sql == "CREATE TABLE t2 LIKE db.t1"
    ctas = create("CREATE ROWSTORE TABLE t3 AS SELECT * FROM t1")
    assert ctas.as_select and ctas.storage == "ROWSTORE"
    assert ctas.mariadb_sql == "CREATE TABLE t3 AS SELECT * FROM t1"


def test_column_facts() -> None:
    ct = create(
        "CREATE TABLE t (a DATETIME(3) NOT NULL DEFAULT (NOW()), b TIME, c INT DEFAULT CURRENT_TIMESTAMP())"
    )
    a, b, c = ct.columns
    assert (a.type_name, a.fsp, a.not_null, a.default_expression) == ("DATETIME", 3, True, True)
    assert b.fsp is None and not c.default_expression


@pytest.mark.parametrize(
    ("sql", "actions"),
    [
        ("ALTER TABLE t ADD COLUMN c INT NULL, DROP COLUMN d", ["add_column", "drop_column"]),
        ("ALTER TABLE t MODIFY COLUMN c BIGINT NOT NULL", ["modify"]),
        ("ALTER TABLE t CHANGE c d INT", ["change"]),
        ("ALTER TABLE t RENAME COLUMN a TO b", ["rename_column"]),
        ("ALTER TABLE t RENAME INDEX a TO b", ["rename_index"]),
        ("ALTER TABLE t RENAME TO u", ["rename_table"]),
        ("ALTER TABLE t ADD CONSTRAINT uq UNIQUE (a), DROP INDEX k", ["add_key", "drop_index"]),
        ("ALTER TABLE t DROP PRIMARY KEY, ADD PRIMARY KEY (a)", ["drop_primary", "add_key"]),
        (
            "ALTER TABLE t ALTER COLUMN a SET DEFAULT 1, ALTER a DROP DEFAULT",
            ["alter_default", "alter_default"],
        ),
        ("ALTER TABLE t COMMENT = 'x', AUTO_INCREMENT = 5", ["comment", "auto_increment"]),
        ("ALTER TABLE t DROP FOREIGN KEY f, DROP CONSTRAINT c", ["drop_foreign", "drop_constraint"]),
    ],
)
def test_alter_specs(sql: str, actions: list[str]) -> None:
    alter = parse_alter_table(sql, significant(sql))
    assert alter is not None and [s.action for s in alter.specs] == actions


def test_alter_strips_foreign_key_and_unenforced() -> None:
    sql = "ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES u (id), ADD UNIQUE KEY q (a) UNENFORCED"
    alter = parse_alter_table(sql, significant(sql))
    assert alter is not None and alter.mariadb_sql() == "ALTER TABLE t ADD KEY `q` (a)"
    only_fk = "ALTER TABLE t ADD FOREIGN KEY (a) REFERENCES u (id)"
    alter2 = parse_alter_table(only_fk, significant(only_fk))
    assert alter2 is not None and alter2.mariadb_sql() is None


def test_create_index() -> None:
    sql = "CREATE UNIQUE INDEX ix USING HASH ON db.t (a, b DESC) UNENFORCED RELY"
    ci = parse_create_index(sql, significant(sql))
    assert ci is not None
    assert (ci.db, ci.table, ci.key.kind, ci.key.columns, ci.key.desc, ci.key.using_hash, ci.key.unenforced) == (
        "db", "t", "unique", ["a", "b"], True, True, True,
    )  # fmt: skip
    assert ci.mariadb_sql == "CREATE INDEX ix USING HASH ON db.t (a, b DESC)"


@pytest.mark.parametrize(
    ("sql", "name"),
    [
        ("CREATE INDEX kx ON t (a)", "kx"),  # the name right after INDEX, wherever INDEX is
        ("CREATE UNIQUE INDEX ku ON t (a)", "ku"),
        ("CREATE FULLTEXT INDEX kf ON t (a)", "kf"),
        ("CREATE INDEX ON t (a)", None),
    ],
)
def test_create_index_names_its_key(sql: str, name: str | None) -> None:
    ci = parse_create_index(sql, significant(sql))
    assert ci is not None and ci.key.name == name


@pytest.mark.parametrize(
    ("definition", "kind"),
    [("VECTOR KEY vk (v)", "vector"), ("VECTOR INDEX vk (v)", "vector"), ("SPATIAL KEY sk (g)", "other")],
)
def test_keys_of_other_kinds_followed_by_key_are_not_foreign_keys(definition: str, kind: str) -> None:
    """Only FOREIGN KEY is a foreign key (the gateway drops those): VECTOR KEY and SPATIAL KEY are kept."""
    ct = create(f"CREATE TABLE t (id BIGINT NOT NULL, v VECTOR(3) NOT NULL, g GEOGRAPHY, {definition})")
    assert [k.kind for k in ct.keys] == [kind]


@pytest.mark.parametrize(
    ("sql", "names"),
    [
        ("ALTER TABLE t RENAME COLUMN a TO b", ("a", "b", None)),
        ("ALTER TABLE t DROP COLUMN IF EXISTS c", ("c", None, None)),
        ("ALTER TABLE db.t DROP INDEX IF EXISTS k", (None, None, "k")),
        ("ALTER TABLE db.t DROP COLUMN IF EXISTS c", ("c", None, None)),
    ],
)
def test_alter_specs_name_their_column_or_index(sql: str, names: tuple[str | None, ...]) -> None:
    """The names the catalog follows (a renamed column, a dropped one, a dropped index), wherever the
    spec starts in the statement and with IF EXISTS skipped."""
    alter = parse_alter_table(sql, significant(sql))
    assert alter is not None
    spec = alter.specs[-1]
    assert (spec.old_name, spec.new_name, spec.index_name) == names


@pytest.mark.parametrize(
    "key", ["FULLTEXT USING VERSION 2 ft (a)", "FULLTEXT ft USING VERSION 2 (a)", "FULLTEXT ft (a)"]
)
def test_fulltext_version_clause_is_dropped_and_the_key_kept(key: str) -> None:
    ct = create(f"CREATE TABLE t (id BIGINT, a TEXT, {key})")
    assert [(k.kind, k.name, k.columns) for k in ct.keys] == [("fulltext", "ft", ["a"])]
    assert "FULLTEXT ft (a)" in ct.mariadb_sql and "VERSION" not in ct.mariadb_sql


@pytest.mark.parametrize(
    "sql", ["CREATE TABLE t (LIKE s)", "CREATE TABLE db.t (LIKE db.s)", "CREATE TABLE t LIKE s"]
)
def test_create_table_like_names_its_source(sql: str) -> None:
    assert create(sql).like in ((None, "s"), ("db", "s"))


@pytest.mark.parametrize("after", ["", ", KEY k (id)", ", KEY k (id), KEY k2 (id)"])
def test_a_spatial_key_is_passed_on_whole(after: str) -> None:
    """A key kept as written ends at its own last token, wherever it stands in the statement."""
    ct = create(f"CREATE TABLE t (id BIGINT NOT NULL, g GEOGRAPHY, SPATIAL KEY sk (g){after})")
    lines = [line.strip().rstrip(",") for line in ct.mariadb_sql.splitlines()]
    assert "SPATIAL KEY sk (g)" in lines, ct.mariadb_sql


def test_computed_column_without_parentheses() -> None:
    """`col AS expr PERSISTED type`: [doc] "Persistent Computed Columns" makes the parentheses optional."""
    ct = create("CREATE TABLE t (id BIGINT, a INT, b AS a * 2 PERSISTED BIGINT, c INT)")
    assert "b BIGINT AS (a * 2) PERSISTENT" in ct.mariadb_sql
    assert [c.computed for c in ct.columns] == [None, None, "(a * 2)", None]


@pytest.mark.parametrize(("vector", "parsed"), [("VECTOR()", (0, "F32")), ("VECTOR(n, I8)", (0, "I8"))])
def test_a_vector_without_a_numeric_length_is_parsed_as_length_zero(
    vector: str, parsed: tuple[int, str]
) -> None:
    """No crash on a length that is missing or not a number: the statement reaches MariaDB's checks."""
    ct = create(f"CREATE TABLE t (id BIGINT, v {vector} NOT NULL)")
    assert ct.columns[1].vector == parsed


def test_show_create_shape() -> None:
    maria = (
        "CREATE TABLE `t` (\n  `id` bigint(20) NOT NULL,\n  `a` int(11) DEFAULT NULL,\n  PRIMARY KEY (`id`),\n"
        "  KEY `u` (`a`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci COMMENT='c''x'"
    )
    info = TableInfo("db", "t", storage="COLUMNSTORE", shard_key=["id"], unenforced_keys={"u": ["a"]},
                     primary_key=["id"])  # fmt: skip
    out = singlestore_show_create(maria, info)
    assert out.startswith("CREATE TABLE `t` (")
    assert "  UNIQUE KEY `u` (`a`) UNENFORCED RELY" in out
    assert "  SORT KEY `__UNORDERED` ()" in out and "  SHARD KEY `__SHARDKEY` (`id`)" in out
    assert "ENGINE" not in out and out.endswith("COMPRESSION=SPARSE COMMENT='c''x'")
    ref = singlestore_show_create(maria, TableInfo("db", "t", storage="ROWSTORE", reference=True))
    assert (
        ref.startswith("CREATE ROWSTORE REFERENCE TABLE `t`")
        and "SHARD KEY" not in ref
        and "SORT KEY" not in ref
    )
    keyless = singlestore_show_create(maria, TableInfo("db", "t", storage="ROWSTORE"))
    assert "  SHARD KEY ()" in keyless


def test_persisted_computed_column_becomes_mariadb_persistent() -> None:
    ct = create(
        "CREATE TABLE t (a INT, b AS (a * 2) PERSISTED BIGINT COMMENT 'x', "
        "c AS (CONCAT('v', a)) PERSISTED VARCHAR(5) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL)"
    )
    assert "b BIGINT AS (a * 2) PERSISTENT COMMENT 'x'" in ct.mariadb_sql
    assert (
        "c VARCHAR(5) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin AS (CONCAT('v', a)) PERSISTENT NULL"
        in ct.mariadb_sql
    )
    assert ct.columns[1].type_name == "BIGINT"


@pytest.mark.parametrize(
    "sql",
    [
        b"ALTER TABLE t ADD ",
        b"CREATE TABLE x (a INT, b AS (a+1",
        b"SHOW VARIABLES LIKE ",
        b"ALTER TABLE t MODIFY",
        b"ALTER TABLE t ADD COLUMN c INT DEFAULT",
    ],
)
def test_malformed_ddl_reaches_mariadb_unchanged(sql: bytes) -> None:
    from tests.gateway.fakes import decide, make_engine
    from tests.testbed.gateway.engine import Forward

    dec = decide(make_engine(), sql)
    assert isinstance(dec, Forward) and dec.sql is sql
