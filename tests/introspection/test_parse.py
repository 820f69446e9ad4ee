"""SHOW CREATE TABLE parsing (no server): the shapes SingleStore's docs and real servers print.

Samples: [doc] docs.singlestore.com …/show-commands/show-create-table (cloud, 9.1): examples 1 and 2;
[obs] SHOW CREATE TABLE output of real servers quoted in public code (columnstore primary keys as
`UNIQUE KEY `PRIMARY` (...) USING HASH`, `JSON COLLATE utf8mb4_bin`, named sort keys, computed columns
as `` `c` as expr PERSISTED type``, keyless sharding as `  , SHARD KEY () ` after the sort key).
"""

from __future__ import annotations

import pytest

from django_singlestore.introspection import DatabaseIntrospection, parse_create_table
from django_singlestore.layout import UniqueKey

DOC_ROWSTORE = """CREATE ROWSTORE TABLE `table_1` (
  `a` int(11) DEFAULT NULL,
  `b` decimal(10,0) DEFAULT NULL
  , SHARD KEY () 
) AUTOSTATS_CARDINALITY_MODE=PERIODIC AUTOSTATS_HISTOGRAM_MODE=CREATE SQL_MODE='STRICT_ALL_TABLES'
  COMPRESSION=SPARSE"""  # noqa: W291 (the docs' trailing space)

DOC_COLUMNSTORE = """CREATE TABLE `table_2` (
  `a` int(11) DEFAULT NULL,
  `b` varbinary(50) DEFAULT NULL,
  KEY `b` (`b`) USING CLUSTERED COLUMNSTORE
  , SHARD KEY () 
) AUTOSTATS_CARDINALITY_MODE=INCREMENTAL AUTOSTATS_HISTOGRAM_MODE=CREATE SQL_MODE='STRICT_ALL_TABLES'"""  # noqa: W291

OBS_COLUMNSTORE_PK = """CREATE TABLE `quotes` (
  `id` bigint(20) NOT NULL,
  `quote` text CHARACTER SET utf8 COLLATE utf8_general_ci,
  `meta` JSON COLLATE utf8mb4_bin,
  `norm` as LOWER(`quote`) PERSISTED text CHARACTER SET utf8 COLLATE utf8_general_ci COMMENT 'x, (y)',
  `tenant` bigint(20) NOT NULL,
  UNIQUE KEY `PRIMARY` (`tenant`,`id`) USING HASH,
  KEY `load_id` (`tenant`) USING HASH,
  SHARD KEY `__SHARDKEY` (`tenant`),
  SORT KEY `by_id` (`id`,`tenant` DESC)
) AUTOSTATS_CARDINALITY_MODE=INCREMENTAL AUTOSTATS_HISTOGRAM_MODE=CREATE AUTOSTATS_SAMPLING=ON SQL_MODE='STRICT_ALL_TABLES' CHARACTER SET=`utf8mb4` COLLATE=`utf8mb4_general_ci`"""

REFERENCE = """CREATE ROWSTORE REFERENCE TABLE `codes` (
  `code` varchar(10) NOT NULL,
  `a` int(11) NOT NULL,
  `b` int(11) NOT NULL,
  PRIMARY KEY (`code`),
  UNIQUE KEY `ab` (`a`,`b`)
) AUTOSTATS_CARDINALITY_MODE=PERIODIC SQL_MODE='STRICT_ALL_TABLES' COMMENT='it''s a \\'table\\''"""

DEMOTED = """CREATE TABLE `members` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `username` varchar(30) NOT NULL,
  `email` varchar(60) DEFAULT NULL,
  UNIQUE KEY `username` (`username`),
  UNIQUE KEY `members_email` (`email`) UNENFORCED RELY,
  KEY `id` (`id`) USING HASH,
  SORT KEY `__UNORDERED` (),
  SHARD KEY `__SHARDKEY` (`username`)
) AUTOSTATS_CARDINALITY_MODE=INCREMENTAL SQL_MODE='STRICT_ALL_TABLES'"""


def test_docs_rowstore_keyless() -> None:
    table = parse_create_table(DOC_ROWSTORE)
    assert (table.name, table.storage) == ("table_1", "ROWSTORE")
    assert [c.name for c in table.columns] == ["a", "b"]
    assert [c.declared_type for c in table.columns] == ["int(11)", "decimal(10,0)"]
    assert table.shard_key == ()  # `, SHARD KEY ()`: keyless
    assert table.sort_key is None
    assert table.primary_key is None


def test_docs_columnstore_legacy_sort_key() -> None:
    table = parse_create_table(DOC_COLUMNSTORE)
    assert table.storage == "COLUMNSTORE"
    sort = table.sort_key
    assert sort is not None and sort.columns == ("b",) and sort.using == "CLUSTERED COLUMNSTORE"
    assert table.keys_of("key") == []  # the legacy spelling is the sort key, not a secondary key
    assert table.shard_key == ()


def test_columnstore_primary_key_printed_as_unique_primary() -> None:
    table = parse_create_table(OBS_COLUMNSTORE_PK)
    primary = table.primary_key
    assert primary is not None and primary.columns == ("tenant", "id") and primary.using == "HASH"
    assert table.keys_of("unique") == []
    assert table.shard_key == ("tenant",)
    sort = table.sort_key
    assert sort is not None and sort.name == "by_id"
    assert sort.columns == ("id", "tenant") and sort.orders == ("ASC", "DESC")
    (key,) = table.keys_of("key")
    assert (key.name, key.columns, key.using) == ("load_id", ("tenant",), "HASH")
    # Every columnstore key is a hash key: Django's ordinary index there; on rowstore, "hash".
    assert key.index_type(columnstore=True) == "idx"
    assert key.index_type(columnstore=False) == "hash"


def test_column_definitions_json_persisted_and_quoted_commas() -> None:
    table = parse_create_table(OBS_COLUMNSTORE_PK)
    assert [c.name for c in table.columns] == ["id", "quote", "meta", "norm", "tenant"]
    meta = table.column("meta")
    assert meta is not None and meta.is_json and meta.declared_type == "JSON"
    norm = table.column("norm")
    assert norm is not None and norm.generated == "LOWER(`quote`)" and norm.declared_type == "text"
    assert "COMMENT 'x, (y)'" in norm.definition  # a comma inside a comment does not split the column
    quote = table.column("quote")
    assert quote is not None and not quote.is_json and quote.generated is None


def test_mysql_family_json_and_generated_spellings() -> None:
    """MariaDB (the test bed's storage) spells JSON as LONGTEXT with a json_valid CHECK and computed
    columns as GENERATED ALWAYS AS (...) STORED; both read as SingleStore's."""
    table = parse_create_table(
        "CREATE TABLE `t` (\n"
        "  `j` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`j`)),\n"
        "  `g` int(11) GENERATED ALWAYS AS (`a` + (`b` * 2)) STORED,\n"
        "  `t` longtext DEFAULT NULL,\n"
        "  SHARD KEY ()\n) X=1"
    )
    j, g, t = table.columns
    assert j.is_json and not t.is_json
    assert g.generated == "`a` + (`b` * 2)" and g.declared_type == "int(11)"


def test_reference_table_and_comment() -> None:
    table = parse_create_table(REFERENCE)
    assert table.storage == "ROWSTORE REFERENCE" and table.reference and table.rowstore
    assert table.shard_key is None  # reference tables are not sharded
    assert table.comment == "it's a 'table'"
    (unique,) = table.keys_of("unique")
    assert unique.columns == ("a", "b") and not unique.unenforced


def test_columnstore_reference_header() -> None:
    table = parse_create_table(
        "CREATE REFERENCE TABLE `r` (\n  `id` int(11) NOT NULL,\n  PRIMARY KEY (`id`)\n)"
    )
    assert table.storage == "REFERENCE" and table.shard_key is None


def test_unprinted_shard_key_follows_the_primary_key() -> None:
    with_pk = parse_create_table(
        "CREATE ROWSTORE TABLE `t` (\n  `id` int(11) NOT NULL,\n  PRIMARY KEY (`id`)\n)"
    )
    assert with_pk.shard_key == ("id",)
    without = parse_create_table("CREATE ROWSTORE TABLE `t` (\n  `id` int(11) NOT NULL\n)")
    assert without.shard_key == ()


def test_demoted_id_and_unenforced_unique_layout() -> None:
    table = parse_create_table(DEMOTED)
    assert table.demoted_key == "id"
    assert table.auto_increment_column == "id"
    layout = DatabaseIntrospection.layout_of(table)
    assert layout.storage == "COLUMNSTORE"
    assert layout.primary_key is None and layout.demoted_key == "id"
    assert layout.shard_key == ("username",)
    assert layout.sort_key is None
    assert layout.unique_keys == (
        UniqueKey("username", ("username",), True),
        UniqueKey("members_email", ("email",), False),
    )
    assert layout.rule == "introspected" and not layout.errors


def test_demoted_needs_the_ids_own_plain_key() -> None:
    # An AUTO_INCREMENT column inside a primary key is not demoted; nor one with no key of its own.
    with_pk = parse_create_table(
        "CREATE TABLE `t` (\n  `id` bigint(20) NOT NULL AUTO_INCREMENT,\n  PRIMARY KEY (`id`)\n)"
    )
    assert with_pk.demoted_key is None
    shared = parse_create_table(
        "CREATE TABLE `t` (\n  `id` bigint(20) NOT NULL AUTO_INCREMENT,\n  `a` int(11),\n"
        "  KEY `ia` (`id`,`a`) USING HASH\n)"
    )
    assert shared.demoted_key is None


def test_storage_type_overrides_the_header_for_rowstore() -> None:
    table = parse_create_table(
        "CREATE REFERENCE TABLE `r` (\n  `id` int(11) NOT NULL,\n  PRIMARY KEY (`id`)\n)"
    )
    assert DatabaseIntrospection.layout_of(table, "INMEMORY_ROWSTORE").storage == "ROWSTORE REFERENCE"
    rowstore = parse_create_table("CREATE ROWSTORE TABLE `t` (\n  `a` int(11)\n)")
    assert DatabaseIntrospection.layout_of(rowstore, "COLUMNSTORE").storage == "COLUMNSTORE"


def test_constraint_prefix_fulltext_and_escaped_names() -> None:
    table = parse_create_table(
        "CREATE TABLE `we``ird, (name)` (\n"
        "  `a``b` int(11) NOT NULL,\n"
        "  `c` text,\n"
        "  CONSTRAINT `pk` PRIMARY KEY (`a``b`),\n"
        "  FULLTEXT USING VERSION 1 KEY `search` (`c`),\n"
        "  SHARD KEY `__SHARDKEY` (`a``b`) METADATA_ONLY\n) X=1"
    )
    assert table.name == "we`ird, (name)"
    assert [c.name for c in table.columns] == ["a`b", "c"]
    primary = table.primary_key
    assert primary is not None and primary.columns == ("a`b",)
    (fulltext,) = table.keys_of("fulltext")
    assert fulltext.name == "search" and fulltext.index_type(columnstore=True) == "fulltext"
    assert table.shard_key == ("a`b",)


@pytest.mark.parametrize("text", ["SELECT 1", "CREATE VIEW `v` AS SELECT 1"])
def test_not_a_table(text: str) -> None:
    with pytest.raises(ValueError):
        parse_create_table(text)
