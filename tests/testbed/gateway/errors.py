"""The one table of every rejection the gateway answers on SingleStore's behalf.

Each entry: name -> ErrorSpec(code, sqlstate, template, source, verified).

* ``source`` says where the text comes from: ``[doc]`` docs.singlestore.com, ``[code]`` public code
  written against real servers (mostly singlestore-labs/django-singlestore ``features.py`` skip keys,
  which are the server texts its authors hit), ``[obs]`` someone's report of a real server's answer,
  ``[assumption]`` nothing public found: the text/code is our best guess.
* ``verified`` is True only when a public source shows the *code* and the *text* together for a real
  server (1706 for "Feature ..." via laravel-driver issue #63 and a Go code comment, 2549 via a JDBC log).
  Everything else is an assumption about the number (and sometimes the text): per
  ``singlestore-semantics.md`` section 2 the default is 1706 for "Feature ..." texts and 1105
  (ER_UNKNOWN_ERROR) otherwise. Pin them with one run on the opt-in real-SingleStore path.

Templates use ``str.format`` fields named in the entry (``{name}``, ``{column}``, ``{index}``, ``{near}``).

Trailing period of the "Feature ..." texts: every quote of a whole server message ends with one ([obs] Go
comment "... is not supported by MemSQL.", laravel-driver #63 "... by SingleStore. Use MODIFY ...",
legend-engine's MemSQL PCT expected failures "Feature 'CUME_DIST window function' is not supported by
SingleStore."), while django-singlestore's skip keys (test-skip reasons, not exact texts) often drop it.
So all "Feature" templates end with a period [unverified for each one].
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ASSUMPTION_RULES", "ERRORS", "ErrorSpec", "GatewayError"]


@dataclass(frozen=True)
class ErrorSpec:
    code: int
    sqlstate: str
    template: str
    source: str
    verified: bool
    #: True for a rule known only from the older backend's skip texts (not from SingleStore's docs):
    #: switched off by ``GatewayConfig.assumption_rules=False`` and listed apart (``ASSUMPTION_RULES``).
    assumption: bool = False

    def format(self, **fields: str) -> str:
        if "near" in fields:  # MySQL's parser error quotes at most 80 characters (ER_PARSE_ERROR %.80s)
            fields = {**fields, "near": fields["near"][:80]}
        return self.template.format(**fields)


class GatewayError(Exception):
    """Raised inside the engine when a rule rejects a statement; becomes a ``Reject``."""

    def __init__(self, error: str, /, **fields: str) -> None:
        spec = ERRORS[error]
        self.error = error
        self.code = spec.code
        self.sqlstate = spec.sqlstate
        self.message = spec.format(**fields)
        super().__init__(f"{self.code} ({self.sqlstate}): {self.message}")


_SEMANTICS = "shared/design/singlestore-semantics.md"
_DJS = "singlestore-labs/django-singlestore django_singlestore/features.py (django_test_skips keys)"

ERRORS: dict[str, ErrorSpec] = {
    # --- transactions -------------------------------------------------------------------------
    "savepoint": ErrorSpec(
        1706,
        "HY000",
        "Feature 'SAVEPOINT' is not supported by SingleStore.",
        "[code] SingleStoreNETConnector ExecuteSavepointAsync text; code 1706 inferred from the "
        "'Feature' family [obs laravel-driver #63]; " + _SEMANTICS + " s2",
        False,
    ),
    "reference_write_child": ErrorSpec(
        2549,
        "HY000",
        "Writing to a reference table in multi-statement transaction is not permitted on child "
        "aggregators. Try the command again on the master aggregator.",
        "[obs] JDBC log 'Error: 2549-HY000: ...'; [code] django-singlestore README",
        True,
    ),
    # --- CREATE TABLE -----------------------------------------------------------------------
    "reference_without_pk": ErrorSpec(
        1706,
        "HY000",
        "Feature 'Reference Table without a Primary Key' is not supported by SingleStore Distributed.",
        "[code] " + _DJS + "; [doc] distributed-sql-surface-area 'Reference tables must have explicit "
        "primary keys'",
        False,
    ),
    "unique_without_shard_key": ErrorSpec(
        1105,
        "HY000",
        "The unique key named: '{name}' cannot be created because unique keys must contain all "
        "columns of the shard key",
        "[code] " + _DJS + "; [obs] pengdows.crud 'confirmed live'; [doc] why-do-i-get-errors-about-"
        "unique-keys. Code not in any public material -> 1105 assumption",
        False,
    ),
    "auto_increment_not_bigint": ErrorSpec(
        1706,
        "HY000",
        "Feature 'AUTO_INCREMENT column that is not BIGINT on a sharded table' is not supported by "
        "SingleStore Distributed.",
        "[doc] distributed-sql-surface-area (v7.6-v9.1): 'An AUTO_INCREMENT column in a distributed "
        "table must be a BIGINT.' No server text found: text and code are an assumption",
        False,
    ),
    "check_constraint": ErrorSpec(
        1706,
        "HY000",
        "Feature 'CHECK constraints' is not supported by SingleStore.",
        "[obs] zmdb docs 'SingleStore 9.0.12 rejects CHECK constraint DDL'; django-singlestore "
        "supports_*_check_constraints=False. Text and code are an assumption",
        False,
    ),
    "foreign_key": ErrorSpec(
        1706,
        "HY000",
        "Feature 'FOREIGN KEY' is not supported by SingleStore.",
        "Only used when GatewayConfig.foreign_keys == 'reject' (default 'ignore', see rules.py). "
        "Text and code are an assumption",
        False,
    ),
    "multiple_unique_columnstore": ErrorSpec(
        1706,
        "HY000",
        "Feature 'multiple UNIQUE indexes with at least one index containing multiple columns on "
        "columnstore table' is not supported by SingleStore.",
        "[code] " + _DJS + "; code inferred from the 'Feature' family",
        False,
    ),
    "duplicate_hash_index": ErrorSpec(
        1706,
        "HY000",
        "Feature 'Multiple HASH indices on the same columns' is not supported by SingleStore.",
        "[code] " + _DJS + "; code inferred from the 'Feature' family",
        False,
    ),
    "datetime_precision": ErrorSpec(
        1706,
        "HY000",
        "Feature '{type} with precision other than 0 or 6' is not supported by SingleStore.",
        "[obs] zmdb docs (9.0.12): only 0 or 6 fractional digits are accepted. Text and code are an "
        "assumption",
        False,
    ),
    "sort_key_rowstore": ErrorSpec(
        1706,
        "HY000",
        "Feature 'SORT KEY on a rowstore table' is not supported by SingleStore.",
        "[obs] zmdb docs (9.0.12): a rowstore table cannot take a SORT KEY. Text and code are an assumption",
        False,
    ),
    "float_primary_key_columnstore": ErrorSpec(
        1706,
        "HY000",
        "Feature 'FLOAT or DOUBLE column in the PRIMARY KEY of a columnstore table' is not supported "
        "by SingleStore.",
        "[code] django-singlestore README / skip 'SingleStore does not support FLOAT/DOUBLE primary "
        "keys on ColumnStore tables'. Server text and code are an assumption",
        False,
    ),
    "index_desc": ErrorSpec(
        1706,
        "HY000",
        "Feature 'DESC in an index column' is not supported by SingleStore.",
        "[code] django-singlestore skip 'SingleStore does not support order in indexes'. Server text "
        "and code are an assumption",
        False,
    ),
    "default_expression": ErrorSpec(
        1706,
        "HY000",
        "Feature 'DEFAULT with an expression' is not supported by SingleStore.",
        "[code] django-singlestore README: only literal defaults and NOW()/CURRENT_TIMESTAMP(); "
        "requires_literal_defaults=True. Text and code are an assumption",
        False,
    ),
    "columnstore_keyword": ErrorSpec(
        1064,
        "42000",
        "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server "
        "version for the right syntax to use near '{near}' at line 1",
        "[doc] CREATE TABLE grammar (7.3-v10) has no COLUMNSTORE keyword ('not in the documented "
        "grammar', " + _SEMANTICS + " s1.1); that the server answers 1064 is an assumption (text shape: "
        "[obs] laravel-driver #63)",
        False,
    ),
    "returning": ErrorSpec(
        1064,
        "42000",
        "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server "
        "version for the right syntax to use near '{near}' at line 1",
        "[doc] INSERT/DELETE/REPLACE grammar has no RETURNING clause; " + _SEMANTICS + " s5 'There is "
        "no RETURNING'. That the server answers 1064 is an assumption (text shape: [obs] laravel-driver #63)",
        False,
    ),
    # --- ALTER TABLE / CREATE INDEX -----------------------------------------------------------
    "alter_columnstore_type": ErrorSpec(
        1105,
        "HY000",
        "ALTER TABLE which modifies type of column {column} is not supported on a columnstore table",
        "[code] " + _DJS,
        False,
    ),
    "alter_columnstore_not_null": ErrorSpec(
        1105,
        "HY000",
        "ALTER TABLE which modifies column {column} from NULL to NOT NULL is not supported on a "
        "columnstore table.",
        "[code] " + _DJS,
        False,
    ),
    "alter_columnstore_add_unique": ErrorSpec(
        1105,
        "HY000",
        "ALTER TABLE which adds unique/primary/foreign index {index} is not supported on a columnstore table",
        "[code] " + _DJS + "; [doc] 'Adding or altering a unique index is not supported on existing "
        "columnstore tables' (specifying-unenforced-unique-constraints)",
        False,
    ),
    "alter_columnstore_change_pk": ErrorSpec(
        1105,
        "HY000",
        "ALTER TABLE which changes index `PRIMARY` is not supported on a columnstore table.",
        "[code] " + _DJS,
        False,
    ),
    "alter_columnstore_drop_shard_index": ErrorSpec(
        1105,
        "HY000",
        "ALTER TABLE which drops shard index {index} on sharded table is not supported on a "
        "columnstore table.",
        "[code] " + _DJS,
        False,
    ),
    "alter_columnstore_auto_increment": ErrorSpec(
        1105,
        "HY000",
        "ALTER TABLE which modifies column {column} by adding or dropping AUTO_INCREMENT is not "
        "supported on a columnstore table",
        "[code] " + _DJS,
        False,
    ),
    "add_primary_key": ErrorSpec(
        1105,
        "HY000",
        "A primary key cannot be added to a table after creation",
        "[code] " + _DJS + " (schema.tests.SchemaTests.test_indexes)",
        False,
    ),
    "alter_auto_increment_sharded": ErrorSpec(
        1706,
        "HY000",
        "Feature 'ALTER TABLE...AUTO_INCREMENT=X for sharded tables' is not supported by SingleStore "
        "Distributed.",
        "[code] " + _SEMANTICS + " s1.6 (django-singlestore)",
        False,
    ),
    "alter_table_comment": ErrorSpec(
        1706,
        "HY000",
        "Feature 'ALTER TABLE COMMENT' is not supported by SingleStore.",
        "[code] django-singlestore expected failure 'changing table comments is not supported' / README "
        "'SingleStore does not support altering a Table comments'. Server text and code are an "
        "assumption",
        False,
    ),
    "change_column_type": ErrorSpec(
        1706,
        "HY000",
        "Feature 'ALTER TABLE CHANGE to modify column type' is not supported by SingleStore. Use MODIFY "
        "to change a column's type.",
        "[obs] laravel-driver issue #63 'SQLSTATE[HY000]: General error: 1706 Feature ...'",
        True,
    ),
    "change_reference_auto_increment_name": ErrorSpec(
        1706,
        "HY000",
        "Feature 'CHANGE which changes the name of a REFERENCE table auto_increment column' is not "
        "supported by SingleStore.",
        "[code] " + _DJS,
        False,
    ),
    "rename_index": ErrorSpec(
        1064,
        "42000",
        "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server "
        "version for the right syntax to use near '{near}' at line 1",
        "[obs] laravel-driver issue #63: 'SQLSTATE[42000]: ... 1064 You have an error in your SQL syntax; "
        "check the manual that corresponds to your MySQL server version for the right syntax to use near "
        "'index `...` to `...' at line 1' (near = from INDEX, 80 characters)",
        True,
    ),
    # --- queries -------------------------------------------------------------------------------
    "for_update_option": ErrorSpec(
        1064,
        "42000",
        "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server "
        "version for the right syntax to use near '{near}' at line 1",
        "[code] django-singlestore has_select_for_update_nowait/skip_locked/of = False; SELECT grammar "
        "[doc] lists only FOR UPDATE. That the server answers 1064 is an assumption (text shape: [obs] "
        "laravel-driver #63)",
        False,
    ),
    "for_update_columnstore_join": ErrorSpec(
        1706,
        "HY000",
        "Feature 'FOR UPDATE with subselect or join involving a columnstore table' is not supported "
        "by SingleStore.",
        "[code] " + _DJS,
        False,
    ),
    "cume_dist": ErrorSpec(
        1706,
        "HY000",
        "Feature 'CUME_DIST window function' is not supported by SingleStore.",
        "[code] finos/legend-engine Test_Relational_MemSQL_RelationFunctions_PCT expected failure (a real "
        "server's message); EF-Core provider skips",
        False,
    ),
    "update_shard_key": ErrorSpec(
        1706,
        "HY000",
        "Feature 'UPDATE of a shard key column' is not supported by SingleStore Distributed.",
        "[doc] distributed-sql-surface-area: 'Sharded tables do not support UPDATE queries that modify "
        "the shard key.' No server text found: text and code are an assumption",
        False,
    ),
    # --- issue 21: query shapes (query_rules.py) ---------------------------------------------------
    "multi_table_reference_target": ErrorSpec(
        1706,
        "HY000",
        "Feature 'Multi-table UPDATE/DELETE with a reference table as target table' is not supported by "
        "SingleStore.",
        "[doc] troubleshooting-reference/query-errors 'ERROR 1706 (HY000): Feature Multi-table "
        "UPDATE/DELETE with a reference table as target table is not supported by MemSQL' (v7.3 to v9.1, "
        "cloud): code and feature name from the page title; 'SingleStore' for 'MemSQL' as in the other "
        "Feature texts [unverified on a current server]",
        True,
    ),
    "update_order_by": ErrorSpec(
        1064,
        "42000",
        "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server "
        "version for the right syntax to use near '{near}' at line 1",
        "[doc] UPDATE grammar (v7.3 to v9.1): 'UPDATE table_references SET ... [WHERE ...] [LIMIT ...]', no "
        "ORDER BY. That the server answers 1064 is an assumption (text shape: [obs] laravel-driver #63)",
        False,
    ),
    "update_limit_sharded": ErrorSpec(
        1706,
        "HY000",
        "Feature 'UPDATE...LIMIT on a sharded table' is not supported by SingleStore Distributed.",
        "[doc] distributed-sql-surface-area: sharded tables do not support UPDATE ... LIMIT. No server "
        "text found: text and code are an assumption",
        False,
    ),
    "select_in_values": ErrorSpec(
        1706,
        "HY000",
        "Feature 'select within values clause' is not supported by SingleStore.",
        "[code] " + _DJS + " ('Feature 'select within values clause' is not supported by SingleStore')",
        False,
        assumption=True,
    ),
    "upsert_shard_key": ErrorSpec(
        1706,
        "HY000",
        "Feature 'UPDATE of a shard key column' is not supported by SingleStore Distributed.",
        "[assumption] the update_shard_key rule ([doc] distributed-sql-surface-area) applied to the update "
        "part of INSERT ... ON DUPLICATE KEY UPDATE; nothing public shows the server's answer",
        False,
        assumption=True,
    ),
    "date_before_1000": ErrorSpec(
        1292,
        "22007",
        "Incorrect datetime value: '{value}'",
        "[doc] data-types time-and-date (v8.0, v8.1, cloud): DATE and DATETIME range from 1000-01-01. "
        "What the server answers for an earlier value is an assumption (MySQL's ER_TRUNCATED_WRONG_VALUE "
        "shape, 1292/22007)",
        False,
    ),
    "recursive_cte_union": ErrorSpec(
        1706,
        "HY000",
        "Feature 'recursive CTE that is not UNION ALL' is not supported by SingleStore.",
        "[doc] with-common-table-expressions: recursive CTE grammar '<base_case> UNION ALL "
        "<recursive_case>'. Text and code are an assumption",
        False,
    ),
    "collate_order_by": ErrorSpec(
        1706,
        "HY000",
        "Feature 'COLLATE in ORDER BY' is not supported by SingleStore.",
        "[code] " + _DJS + " ('SingleStore does not support the COLLATE clause in the ORDER BY "
        "statement'): a test-skip reason, not a server text; text and code are an assumption",
        False,
        assumption=True,
    ),
    "subselect_two_levels_up": ErrorSpec(
        1105,
        "HY000",
        "The query cannot be executed. SingleStore does not support this type of query: scalar subselect "
        "references field belonging to outer select that is more than one level up",
        "[code] " + _DJS + "; code unknown -> 1105 (" + _SEMANTICS + " s2)",
        False,
        assumption=True,
    ),
    "correlated_subselect_order_by": ErrorSpec(
        1105,
        "HY000",
        "The query cannot be executed. SingleStore does not support this type of query: correlated "
        "subselect in ORDER BY",
        "[code] " + _DJS + "; EF-Core provider skips; code unknown -> 1105",
        False,
        assumption=True,
    ),
    "correlated_subselect_having": ErrorSpec(
        1105,
        "HY000",
        "The query cannot be executed. SingleStore does not support this type of query: correlated "
        "subselect inside HAVING",
        "[code] " + _DJS + "; code unknown -> 1105",
        False,
        assumption=True,
    ),
    "subselect_group_order_pushed_down": ErrorSpec(
        1706,
        "HY000",
        "Feature 'scalar subselect inside the GROUP/ORDER BY of a pushed down query' is not supported by "
        "SingleStore Distributed.",
        "[code] " + _DJS + "; code inferred from the 'Feature' family",
        False,
        assumption=True,
    ),
    "subselect_in_aggregate": ErrorSpec(
        1706,
        "HY000",
        "Feature 'Subselect in aggregate functions' is not supported by SingleStore.",
        "[code] " + _DJS + "; code inferred from the 'Feature' family",
        False,
        assumption=True,
    ),
    "correlated_subselect_columnstore_project": ErrorSpec(
        1706,
        "HY000",
        "Feature 'Correlated subselect in the project list of a columnstore query with an ORDER BY, GROUP "
        "BY, or DISTINCT' is not supported by SingleStore.",
        "[code] " + _DJS + "; code inferred from the 'Feature' family",
        False,
        assumption=True,
    ),
    "nested_scalar_subselects": ErrorSpec(
        1105,
        "HY000",
        "The query cannot be executed. SingleStore does not support this type of query: nested scalar "
        "subselects in project list",
        "[code] " + _DJS + "; code unknown -> 1105",
        False,
        assumption=True,
    ),
    "regexp_backreference": ErrorSpec(
        1139,
        "42000",
        "Got error 'backreferences need regexp_format = advanced' from regexp",
        "[doc] regular-expression-functions: backreferences belong to the 'advanced' format (regexp_format "
        "defaults to 'extended', POSIX ERE). No server text found: code (MySQL's ER_REGEXP_ERROR) and text "
        "are an assumption",
        False,
    ),
    # --- VECTOR ([doc] "Vector Type" and "Vector Indexing", v8.5 to v9.1 and cloud) ----------------
    "vector_type": ErrorSpec(
        1706,
        "HY000",
        "Feature 'VECTOR type {type}' is not supported by SingleStore.",
        "[doc] vector-type: VECTOR(<N> [, <elementType>]) with N elements and elementType one of I8, I16, "
        "I32, I64, F16 (9.1), F32, F64. The server's answer to another spelling is not documented: text "
        "and code are an assumption",
        False,
    ),
    "vector_index_rowstore": ErrorSpec(
        1706,
        "HY000",
        "Feature 'VECTOR index on a rowstore table' is not supported by SingleStore.",
        "[doc] vector-indexing: 'Vector indexes can only be built on columnstore tables.' Text and code "
        "are an assumption",
        False,
    ),
    "vector_index_columns": ErrorSpec(
        1706,
        "HY000",
        "Feature 'VECTOR index on {count} columns' is not supported by SingleStore.",
        "[doc] vector-indexing: 'A vector index must be built on a single column.' Text and code are an "
        "assumption",
        False,
    ),
    "vector_index_type": ErrorSpec(
        1706,
        "HY000",
        "Feature 'VECTOR index on column '{column}' of a type other than VECTOR(<N>, F32)' is not "
        "supported by SingleStore.",
        "[doc] vector-indexing: 'Column type is restricted to Vector Type(<N>, [F32])... the only "
        "supported element type is F32.' Text and code are an assumption",
        False,
    ),
    "vector_index_unknown_column": ErrorSpec(
        1072,
        "42000",
        "Key column '{column}' doesn't exist in table",
        "MySQL's ER_KEY_COLUMN_DOES_NOT_EXITS, which MariaDB answers for any other key on a missing "
        "column; the gateway answers it for VECTOR indexes, which MariaDB never sees. SingleStore's own "
        "text for this case is an assumption",
        False,
    ),
    # --- full-text search (fulltext.py) ------------------------------------------------------------
    "fulltext_rowstore": ErrorSpec(
        1706,
        "HY000",
        "Feature 'FULLTEXT index on a rowstore table' is not supported by SingleStore.",
        "[doc] working-with-full-text-search (v7.8 to v9.1, cloud): 'Full-text indexes are only supported "
        "on columnstore tables.' No server text found: text and code are an assumption",
        False,
    ),
    "fulltext_multiple": ErrorSpec(
        1706,
        "HY000",
        "Feature 'more than one FULLTEXT index on a table' is not supported by SingleStore.",
        "[doc] working-with-full-text-search (v8.1 to v9.1, cloud): 'SingleStore supports only one "
        "full-text index per table.' No server text found: text and code are an assumption",
        False,
    ),
    "fulltext_no_index": ErrorSpec(
        1191,
        "HY000",
        "Can't find FULLTEXT index matching the column list",
        "[doc] match: MATCH searches 'columnstore tables created with a FULLTEXT index' (legacy syntax: "
        "over the index's columns; version 2 names them in the query as 'column:term'). SingleStore's "
        "answer for a table without one, or a column outside it, is [unverified]: MySQL's "
        "ER_FT_MATCHING_KEY_NOT_FOUND (1191) is assumed",
        False,
    ),
    "fulltext_version": ErrorSpec(
        1706,
        "HY000",
        "Feature '{construct} on a table without a VERSION 2 FULLTEXT index' is not supported by "
        "SingleStore.",
        "[doc] match / bm-25: 'MATCH (TABLE t)', BM25 and BM25_GLOBAL need 'FULLTEXT USING VERSION 2'. "
        "No server text found: text and code are an assumption",
        False,
    ),
    "fulltext_query_gateway_limit": ErrorSpec(
        1105,
        "HY000",
        "Full-text query syntax {construct} is not emulated (gateway limit: MariaDB's BOOLEAN MODE has no "
        "equivalent; SingleStore may accept it)",
        "A test-bed limit, not a SingleStore rule: gateway/fulltext.py names the emulated subset of version "
        "2's Lucene syntax",
        False,
    ),
    "identifier_gateway_limit": ErrorSpec(
        1059,
        "42000",
        "Identifier name '{name}' is too long (gateway limit: MariaDB names hold at most 64 characters; "
        "SingleStore allows longer ones)",
        "[local] MariaDB 10.11 NAME_CHAR_LEN = 64 (its own 1059); SingleStore's maximum identifier length "
        "is longer [assumption: 256 per issue 16]. A test-bed limit, not a SingleStore rule",
        False,
    ),
    "json_depth_gateway_limit": ErrorSpec(
        4025,
        "23000",
        "JSON value for column '{column}' is nested 32 or more levels deep (gateway limit: the test bed's "
        "MariaDB refuses JSON nested 32 levels deep; SingleStore's JSON type has no such limit)",
        "[local] MariaDB 10.11 JSON_VALID (the CHECK of its JSON columns) fails from a depth of 32 "
        '(its 4025 CONSTRAINT failed). [doc] "JSON Type" states no depth limit [assumption: none at '
        "these depths]. A test-bed limit, not a SingleStore rule",
        False,
    ),
}

#: Rules known only from skip texts: on by default, off with GatewayConfig.assumption_rules=False. The
#: LIMIT-after-UNION reading (query_rules.union_limit_rewrite) is the one assumption that is not an error.
ASSUMPTION_RULES = frozenset(name for name, spec in ERRORS.items() if spec.assumption)
