"""Django's own test suite on SingleStore (issue 7): the tests to skip, grouped by reason.

`DatabaseFeatures.django_test_skips` / `django_test_expected_failures_reasons` read these tables.
Every reason starts with the kind of limit (tests/django_suite/README.md, "Skip reasons"):

* ``SingleStore: ...`` / ``SingleStore's planner refuses ...``: what SingleStore itself does not do.
  The planner entries (``DETECTED_REFUSALS``) are not carried over from the older backend: they are the
  tests whose queries the test bed's gateway refused with one of SingleStore's query-shape errors, as
  the Django-suite runner detected them (tests/django_suite/refusals.py; rerun with
  ``python -m tests.django_suite run --lift-refusal-skips`` and list with ``... refusals``).
* ``gateway: ...``: what the test bed cannot imitate. ``environment: ...``: a missing piece.

A test that fails because of a backend bug does not belong here: fix the bug instead.

Django raises when a listed test does not exist in the running version, so entries that exist in
only some Django versions carry the versions they apply to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

Version = tuple[int, ...]


def _any(version: Version) -> bool:
    return True


def _before_6(version: Version) -> bool:
    return version[:2] < (6, 0)


def _from_6(version: Version) -> bool:
    return version[:2] >= (6, 0)


# --- Reasons ---------------------------------------------------------------------------------------

PLANNER_OUTER_MORE_THAN_ONE_LEVEL = (
    "SingleStore's planner refuses a scalar subselect that references a field of a select more than one "
    "level up ('The query cannot be executed. SingleStore does not support this type of query')"
)
PLANNER_SUBSELECT_IN_GROUP_ORDER = (
    "SingleStore's planner refuses a scalar subselect inside the GROUP BY / ORDER BY of a pushed-down "
    "query (1706)"
)
PLANNER_SUBSELECT_IN_AGGREGATE = (
    "SingleStore's planner refuses a subselect inside an aggregate function (1706)"
)
PLANNER_NESTED_SCALAR_IN_SELECT = "SingleStore's planner refuses nested scalar subselects in the select list"
PLANNER_CORRELATED_IN_ORDER_BY = "SingleStore's planner refuses a correlated subselect in ORDER BY"
PLANNER_CORRELATED_IN_HAVING = "SingleStore's planner refuses a correlated subselect inside HAVING"
PLANNER_CORRELATED_IN_COLUMNSTORE_SELECT = (
    "SingleStore's planner refuses a correlated subselect in the select list of a columnstore query with "
    "ORDER BY, GROUP BY or DISTINCT (1706)"
)
PLANNER_SELECT_IN_VALUES = "SingleStore's planner refuses a subselect inside INSERT ... VALUES (1706)"
PLANNER_COLLATE_IN_ORDER_BY = (
    "SingleStore: no COLLATE clause in ORDER BY (the older backend's skip text; a gateway assumption rule)"
)
LEAF_SUBQUERY_MORE_THAN_ONE_ROW = (
    "SingleStore: the leaves evaluate this correlated subselect per partition and fail with 'Subquery "
    "returns more than 1 row'"
)

FOR_UPDATE_JOIN = (
    "SingleStore: SELECT ... FOR UPDATE with a join or subselect involving a columnstore table is refused "
    "(1706 'FOR UPDATE with subselect or join involving a columnstore table'); update_or_create() on a "
    "related manager or an inherited model locks such a join"
)
NO_SAVEPOINTS = (
    "SingleStore: no SAVEPOINT, so an inner atomic block (or TestCase's per-test block) cannot roll back on "
    "its own; the test goes on using the connection after an error inside a nested atomic block"
)
EXPLICIT_ID_COLLISION = (
    "SingleStore: an explicitly inserted id does not move a sharded table's AUTO_INCREMENT counter "
    "('CREATE TABLE with an AUTO_INCREMENT Column': explicit values may collide with generated ones until "
    "AGGREGATOR SYNC AUTO_INCREMENT, which commits implicitly, so sequence_reset_sql cannot issue it); the "
    "test saves id 1 (a Site's default, or pk=1) and then gets id 1 again from the master aggregator"
)
AUTO_IDS_NOT_SMALL = (
    "SingleStore: on a child aggregator AUTO_INCREMENT values start above 2**50 (the master aggregator's "
    "start at 1: 'AGGREGATOR SYNC AUTO_INCREMENT' docs), and the test stores an auto id in a 32-bit "
    "integer column (a GenericForeignKey's PositiveIntegerField object_id, or an IntegerField primary key)"
)
AUTO_FIELDS_ARE_BIGINT = (
    "SingleStore: an AUTO_INCREMENT column of a sharded table must be BIGINT, so every auto field and every "
    "relation column pointing at one is BIGINT by design; the test expects an INT column"
)
NON_BIGINT_AUTO_INCREMENT_SQL = (
    "SingleStore: the test creates tables with raw MySQL DDL (INT AUTO_INCREMENT, FOREIGN KEY), which "
    "SingleStore refuses on sharded tables (1706 'AUTO_INCREMENT column that is not BIGINT')"
)
NO_FOREIGN_KEYS = "SingleStore: no FOREIGN KEY constraints, so introspection finds no relations"
NO_FOREIGN_KEY_CHECK = (
    "SingleStore: no FOREIGN KEY constraints, so loaddata's constraint check (check_constraints) has no "
    "relation to verify and a dangling reference is loaded"
)
NO_FOREIGN_KEY_DDL = (
    "SingleStore: no FOREIGN KEY constraints, so renaming a table rewrites no constraint of a "
    "self-referencing column (the test expects MySQL's constraint DDL)"
)
EXPRESSION_DEFAULTS = (
    "SingleStore: a column DEFAULT is a literal or CURRENT_TIMESTAMP only (1706 'DEFAULT with an expression')"
)
TABLE_COMMENT_ALTER = (
    "SingleStore: a table comment can only be set in CREATE TABLE (no ALTER TABLE ... COMMENT)"
)
NO_CUME_DIST = "SingleStore: no CUME_DIST window function"
CHAR_NON_ASCII = "SingleStore: CHAR() returns bytes, not the character of a code point above 127"
COLUMNSTORE_ALTER_INDEX = (
    "SingleStore: ALTER TABLE cannot add a unique/primary index, change the PRIMARY index or drop the shard "
    "index of a columnstore table (1105 'ALTER TABLE which ... is not supported on a columnstore table')"
)
MULTIPLE_HASH_INDEXES = "SingleStore: two HASH indexes on the same columns are refused (1706)"
UNIQUE_NEEDS_SHARD_KEY = (
    "SingleStore: a unique key of a sharded table must contain all columns of the shard key; the test "
    "expects a unique key Django's layout cannot have"
)
UPDATE_SHARD_KEY = (
    "SingleStore: UPDATE of a shard-key column is refused (1706 'UPDATE of a shard key column'); the "
    "test changes such a column with an expression"
)

COALESCE_DATETIME_PARAMETER = (
    "SingleStore: COALESCE of a DATETIME column and a datetime parameter (sent as a string literal, as "
    "to MySQL) is a string, so GREATEST/LEAST over it return text (Django skips this test on MySQL too)"
)
JSON_KEYS_ARE_PARAMETERS = (
    "SingleStore: JSON keys are separate arguments of JSON_EXTRACT_* (no '$.\"key\"' path string), so "
    "the test's path-escaping text does not appear in the SQL; the key is a bound parameter"
)
NO_IMPLICIT_ORDER = (
    "SingleStore: without ORDER BY rows come back in no particular order (a distributed scan), and the "
    "test compares an unordered slice with a primary-key-ordered one"
)

DATE_BEFORE_1000 = (
    "SingleStore: DATE and DATETIME values start at 1000-01-01 ('Data Types', time and date); the test "
    "stores year 999, which the backend refuses before the round trip"
)
UPDATE_SHARD_KEY_AS_A_SET = (
    "SingleStore: UPDATE of a shard-key column is refused (1706), so the backend moves such rows as a set "
    "(delete, then insert) and MySQL's row-by-row unique conflict of an ordered UPDATE cannot happen (nor "
    "has SingleStore's UPDATE an ORDER BY)"
)
MYSQL_STORAGE_ENGINE = "SingleStore: no MySQL storage engines (InnoDB, MyISAM); the test reads or mocks one"
MYSQL_NO_FK_CHECKS = (
    "SingleStore: no foreign keys, so flushing tables needs no SET FOREIGN_KEY_CHECKS (the test expects "
    "MySQL's statements)"
)
MYSQL_ISOLATION = (
    "SingleStore: only READ COMMITTED exists, so the backend validates and reports isolation levels "
    "differently from MySQL's backend"
)
MYSQL_SQL_AUTO_IS_NULL = (
    "SingleStore: the backend never reads or sets sql_auto_is_null (a static feature); the test expects "
    "MySQL's server round trip"
)
MYSQL_VERSION_MESSAGE = (
    "SingleStore: the minimum-version check names SingleStore and its version, not MySQL 8.0.11"
)
MYSQL_QUOTE_VALUE = (
    "SingleStore: DDL literals are quoted without a server round trip (bytes as X'...' hex literals); "
    "the test expects MySQL's connection-escaped bytes"
)
MYSQL_SERVER_DATA = (
    "SingleStore: the backend reads @@sql_mode with its own server query (singlestore_server_data); the "
    "test patches MySQL's mysql_server_data and deletes MySQL's cached sql_mode"
)
NO_SAVEPOINTS_TEST_DATA = (
    "SingleStore: no SAVEPOINT, so Django's TestCase runs setUpTestData for every test (no class-level "
    "savepoint to roll back to) and never wraps class data in TestData; the test expects per-test copies"
)
SDIST_TESTS_ONLY = (
    "environment: the runner unpacks only tests/ and docs/_ext of Django's sdist; the test reads the "
    "django package's source files beside them"
)
RUNS_AS_ROOT = "environment: the suite runs as root here, which can write into a read-only directory"
MYSQL_EXPLAIN = (
    "SingleStore: EXPLAIN has no FORMAT=TRADITIONAL and no ANALYZE (PROFILE replaces it); the test "
    "expects MySQL's spellings"
)


_Entry = tuple[str, Iterable[str], Callable[[Version], bool]]

# The skip reason of each refusal rule of the gateway (tests/testbed/gateway/errors.py keys).
REFUSAL_REASONS_BY_RULE: dict[str, str] = {
    "subselect_two_levels_up": PLANNER_OUTER_MORE_THAN_ONE_LEVEL,
    "subselect_group_order_pushed_down": PLANNER_SUBSELECT_IN_GROUP_ORDER,
    "subselect_in_aggregate": PLANNER_SUBSELECT_IN_AGGREGATE,
    "correlated_subselect_order_by": PLANNER_CORRELATED_IN_ORDER_BY,
    "correlated_subselect_having": PLANNER_CORRELATED_IN_HAVING,
    "correlated_subselect_columnstore_project": PLANNER_CORRELATED_IN_COLUMNSTORE_SELECT,
    "nested_scalar_subselects": PLANNER_NESTED_SCALAR_IN_SELECT,
    "select_in_values": PLANNER_SELECT_IN_VALUES,
    "collate_order_by": PLANNER_COLLATE_IN_ORDER_BY,
    "for_update_columnstore_join": FOR_UPDATE_JOIN,
}
REFUSAL_REASONS: frozenset[str] = frozenset(REFUSAL_REASONS_BY_RULE.values())

# Detected by the Django-suite runner (refusal rules on, the default), test -> gateway rule; the
# versions a test exists in follow as a third item where it is not both.
DETECTED_REFUSALS: dict[str, str] = {
    "admin_filters.tests.ListFiltersTests.test_facets_always": "subselect_in_aggregate",
    "admin_filters.tests.ListFiltersTests.test_facets_filter": "subselect_in_aggregate",
    "admin_filters.tests.ListFiltersTests.test_facets_no_filter": "subselect_in_aggregate",
    "expressions_case.tests.CaseExpressionTests.test_annotate_with_in_clause": "subselect_in_aggregate",
    "filtered_relation.tests.FilteredRelationTests.test_select_for_update": "for_update_columnstore_join",
    "aggregation.test_filter_argument.FilteredAggregateTests.test_filtered_aggregate_on_exists": "subselect_in_aggregate",
    "aggregation.tests.AggregateTestCase.test_aggregation_subquery_annotation_related_field": "subselect_group_order_pushed_down",
    "aggregation.tests.AggregateTestCase.test_group_by_exists_annotation": "subselect_group_order_pushed_down",
    "aggregation.tests.AggregateTestCase.test_group_by_subquery_annotation": "subselect_group_order_pushed_down",
    "aggregation_regress.tests.AggregationTests.test_annotate_with_extra": "subselect_group_order_pushed_down",
    "annotations.tests.NonAggregateAnnotationTestCase.test_annotation_exists_aggregate_values_chaining": "subselect_group_order_pushed_down",
    "annotations.tests.NonAggregateAnnotationTestCase.test_annotation_filter_with_subquery": "correlated_subselect_having",
    "async.test_async_related_managers.AsyncRelatedManagersOperationTest.test_aupdate_or_create": "for_update_columnstore_join",
    "db_functions.comparison.test_collate.CollateTests.test_collate_order_by_cs": "collate_order_by",
    "expressions.tests.BasicExpressionsTests.test_annotations_within_subquery": "correlated_subselect_order_by",
    "expressions.tests.BasicExpressionsTests.test_order_by_exists": "correlated_subselect_order_by",
    "get_or_create.tests.UpdateOrCreateTests.test_create_with_many": "for_update_columnstore_join",
    "get_or_create.tests.UpdateOrCreateTests.test_mti_update_non_local_concrete_fields": "for_update_columnstore_join",
    "get_or_create.tests.UpdateOrCreateTests.test_update_with_many": "for_update_columnstore_join",
    "lookup.tests.LookupTests.test_nested_outerref_lhs": "subselect_two_levels_up",
    "m2m_through.tests.M2mThroughTests.test_update_or_create_on_m2m_with_intermediate_model_value_required": "for_update_columnstore_join",
    "m2m_through.tests.M2mThroughTests.test_update_or_create_on_m2m_with_intermediate_model_value_required_fails": "for_update_columnstore_join",
    "ordering.tests.OrderingTests.test_orders_nulls_first_on_filtered_subquery": "correlated_subselect_order_by",
    "queries.test_qs_combinators.QuerySetSetOperationTests.test_intersection_in_nested_subquery": "subselect_two_levels_up",
    "queries.test_qs_combinators.QuerySetSetOperationTests.test_union_in_subquery_related_outerref": "subselect_two_levels_up",
}
#: Tests refused on one Django version only (none today: the admin facets, Case IN and FilteredRelation
#: FOR UPDATE tests, first seen on 6.1, hit the same refusals on 5.2 in the run of 2026-12-05).
DETECTED_ONLY_IN: dict[str, Callable[[Version], bool]] = {}


def _detected() -> list[_Entry]:
    by_reason: dict[tuple[str, Callable[[Version], bool]], list[str]] = {}
    for test, rule in DETECTED_REFUSALS.items():
        key = (REFUSAL_REASONS_BY_RULE[rule], DETECTED_ONLY_IN.get(test, _any))
        by_reason.setdefault(key, []).append(test)
    return [(reason, tuple(tests), applies) for (reason, applies), tests in by_reason.items()]


SKIPS: list[_Entry] = [
    (
        LEAF_SUBQUERY_MORE_THAN_ONE_ROW,
        ("annotations.tests.NonAggregateAnnotationTestCase.test_annotation_subquery_outerref_transform",),
        _any,
    ),
    (
        DATE_BEFORE_1000,
        (
            *(
                f"db_functions.datetime.test_extract_trunc.{cls}.{test}"
                for cls in ("DateFunctionTests", "DateFunctionWithTimeZoneTests")
                for test in ("test_trunc_func", "test_trunc_week_before_1000")
            ),
            "model_regress.tests.ModelTests.test_date_lookup",
            *(
                f"serializers.test_{module}.{cls}SerializerTestCase.test_pre_1000ad_date"
                for module, cls in (("json", "Json"), ("jsonl", "Jsonl"), ("xml", "Xml"), ("yaml", "Yaml"))
            ),
        ),
        _any,
    ),
    (
        UPDATE_SHARD_KEY_AS_A_SET,
        ("update.tests.MySQLUpdateOrderByTest.test_order_by_update_on_parent_unique_constraint",),
        _any,
    ),
    (
        NO_SAVEPOINTS_TEST_DATA,
        ("test_utils.test_testcase.TestDataTests.test_class_attribute_identity",),
        _any,
    ),
    (
        SDIST_TESTS_ONLY,
        (
            "sphinx.test_github_links.GitHubLinkTests.test_module_name_to_file_path_module",
            "sphinx.test_github_links.GitHubLinkTests.test_module_name_to_file_path_package",
        ),
        _any,
    ),
    (MYSQL_SERVER_DATA, ("check_framework.test_database.DatabaseCheckTests.test_mysql_strict_mode",), _any),
    (
        RUNS_AS_ROOT,
        (
            "file_uploads.tests.DirectoryCreationTests.test_readonly_root",
            "i18n.test_compilation.PoFileTests.test_no_write_access",
            "template_tests.test_loaders.FileSystemLoaderTests.test_permissions_error",
        ),
        _any,
    ),
    (
        RUNS_AS_ROOT,
        ("admin_scripts.tests.StartApp.test_custom_app_directory_creation_error_handling",),
        _from_6,
    ),
    (
        NO_FOREIGN_KEY_CHECK,
        (
            "fixtures_regress.tests.TestFixtures.test_loaddata_raises_error_when_fixture_has_invalid_foreign_key",
        ),
        _any,
    ),
    (
        NO_SAVEPOINTS,
        (
            "get_or_create.tests.UpdateOrCreateTests.test_integrity",
            "admin_changelist.tests.ChangeListTests.test_list_editable_atomicity",
            "fixtures_model_package.tests.FixtureTestCase.test_loaddata",
            "force_insert_update.tests.ForceTests.test_force_update",
            "test_utils.tests.CaptureOnCommitCallbacksTests.test_with_rolled_back_savepoint",
            "test_utils.tests.TestBadSetUpTestData.test_failure_in_setUpTestData_should_rollback_transaction",
            "multiple_database.tests.QueryTestCase.test_generic_key_cross_database_protection",
            "multiple_database.tests.QueryTestCase.test_m2m_cross_database_protection",
            "get_or_create.tests.UpdateOrCreateTestsWithManualPKs.test_create_with_duplicate_primary_key",
            "get_or_create.tests.GetOrCreateTestsWithManualPKs.test_create_with_duplicate_primary_key",
            "get_or_create.tests.GetOrCreateTestsWithManualPKs.test_savepoint_rollback",
            "transaction_hooks.tests.TestConnectionOnCommit.test_inner_savepoint_does_not_affect_outer",
            "transaction_hooks.tests.TestConnectionOnCommit.test_discards_hooks_from_rolled_back_savepoint",
            # An error raised inside get_or_create()/update_or_create()'s atomic block, then more
            # queries in the same test.
            "get_or_create.tests.GetOrCreateTests.test_get_or_create_invalid_params",
            "get_or_create.tests.GetOrCreateThroughManyToMany.test_something",
            "get_or_create.tests.UpdateOrCreateTests.test_manual_primary_key_test",
            # get_or_create() inside update_or_create() recovers from the IntegrityError of a racing
            # insert by rolling back its inner atomic block only.
            "get_or_create.tests.UpdateOrCreateTransactionTests.test_creation_in_transaction",
            "transaction_hooks.tests.TestConnectionOnCommit.test_inner_savepoint_rolled_back_with_outer",
            "many_to_many.tests.ManyToManyTests.test_add",
            "many_to_one.tests.ManyToOneTests.test_fk_assignment_and_related_object_cache",
            "model_fields.test_booleanfield.BooleanFieldTests.test_null_default",
            "model_fields.test_floatfield.TestFloatField.test_float_validates_object",
            # The admin's add/change/delete views raise PermissionDenied (or DisallowedModelAdminToField)
            # inside their atomic block; the test then queries again.
            "auth_tests.test_views.ChangelistTests.test_view_user_password_is_readonly",
            "admin_views.tests.AdminViewBasicTest.test_disallowed_to_field",
            "admin_views.tests.AdminViewListEditable.test_forged_post_submission_when_no_add_permission",
            "admin_views.tests.AdminViewPermissionsTest.test_add_view",
            "admin_views.tests.AdminViewPermissionsTest.test_change_view",
            "admin_views.tests.AdminViewPermissionsTest.test_change_view_save_as_new",
            "admin_views.tests.AdminViewPermissionsTest.test_delete_view",
            "fixtures.tests.FixtureLoadingTests.test_loaddata_app_option",
            "fixtures.tests.FixtureLoadingTests.test_unmatched_identifier_loading",
            # The session store's save() fails inside its own atomic block (no row to update); the
            # test then reads the session table in the same transaction.
            "sessions_tests.tests.CacheDBSessionTests.test_session_save_does_not_resurrect_session_logged_out_in_other_context",
            "sessions_tests.tests.CacheDBSessionTests.test_session_asave_does_not_resurrect_session_logged_out_in_other_context",
            "sessions_tests.tests.CacheDBSessionWithTimeZoneTests.test_session_save_does_not_resurrect_session_logged_out_in_other_context",
            "sessions_tests.tests.CacheDBSessionWithTimeZoneTests.test_session_asave_does_not_resurrect_session_logged_out_in_other_context",
            "sessions_tests.tests.CustomDatabaseSessionTests.test_session_save_does_not_resurrect_session_logged_out_in_other_context",
            "sessions_tests.tests.CustomDatabaseSessionTests.test_session_asave_does_not_resurrect_session_logged_out_in_other_context",
            "sessions_tests.tests.DatabaseSessionTests.test_session_save_does_not_resurrect_session_logged_out_in_other_context",
            "sessions_tests.tests.DatabaseSessionTests.test_session_asave_does_not_resurrect_session_logged_out_in_other_context",
            "sessions_tests.tests.DatabaseSessionWithTimeZoneTests.test_session_save_does_not_resurrect_session_logged_out_in_other_context",
            "sessions_tests.tests.DatabaseSessionWithTimeZoneTests.test_session_asave_does_not_resurrect_session_logged_out_in_other_context",
        ),
        _any,
    ),
    (
        EXPLICIT_ID_COLLISION,
        (
            "contenttypes_tests.test_views.ContentTypesViewsSiteRelTests",
            "fixtures_regress.tests.TestFixtures.test_dumpdata_uses_default_manager",
            "fixtures_regress.tests.TestFixtures.test_duplicate_pk",
            "schema.tests.SchemaTests.test_alter_autofield_pk_to_bigautofield_pk",
            "schema.tests.SchemaTests.test_alter_autofield_pk_to_smallautofield_pk",
            # the fixture's Person rows have pk 1 and 2; the live server's view then creates one (HTTP 500)
            "servers.tests.LiveServerDatabase.test_database_writes",
            "servers.tests.LiveServerThreadedTests.test_check_model_instance_from_subview",
        ),
        _any,
    ),
    (
        AUTO_FIELDS_ARE_BIGINT,
        (
            "schema.tests.SchemaTests.test_m2m",
            "schema.tests.SchemaTests.test_m2m_create",
            "schema.tests.SchemaTests.test_m2m_create_custom",
            "schema.tests.SchemaTests.test_m2m_create_inherited",
            "schema.tests.SchemaTests.test_m2m_create_through",
            "schema.tests.SchemaTests.test_m2m_create_through_custom",
            "schema.tests.SchemaTests.test_m2m_create_through_inherited",
            "schema.tests.SchemaTests.test_m2m_custom",
            "schema.tests.SchemaTests.test_m2m_inherited",
            "schema.tests.SchemaTests.test_autofield_to_o2o",
        ),
        _before_6,  # Django 6.0's test models default to BigAutoField and expect BIGINT columns
    ),
    (
        NON_BIGINT_AUTO_INCREMENT_SQL,
        ("backends.mysql.test_introspection.TestCrossDatabaseRelations.test_omit_cross_database_relations",),
        _any,
    ),
    (NO_FOREIGN_KEYS, ("inspectdb.tests.InspectDBTestCase.test_same_relations",), _any),
    (
        NO_FOREIGN_KEY_DDL,
        ("migrations.test_operations.OperationTests.test_rename_model_with_self_referential_fk_collect_sql",),
        _from_6,
    ),
    (
        EXPRESSION_DEFAULTS,
        ("migrations.test_operations.OperationTests.test_add_field_database_default_function",),
        _any,
    ),
    (
        EXPRESSION_DEFAULTS,
        ("migrations.test_operations.OperationTests.test_alter_field_add_database_default_func",),
        _from_6,
    ),
    (
        TABLE_COMMENT_ALTER,
        (
            "schema.tests.SchemaTests.test_db_comment_table",
            "migrations.test_operations.OperationTests.test_alter_model_table_comment",
        ),
        _any,
    ),
    (
        NO_SAVEPOINTS,
        (
            "admin_views.test_actions.AdminDetailActionsTest.test_action_changeform_cannot_target_different_objects",
        ),
        _from_6,
    ),
    (
        NO_IMPLICIT_ORDER,
        (
            "admin_views.test_autocomplete_view.AutocompleteJsonViewTests.test_get_paginator",
            "m2m_recursive.tests.RecursiveSymmetricalM2MThroughTests.test_recursive_m2m_all",
        ),
        _any,
    ),
    (
        COALESCE_DATETIME_PARAMETER,
        (
            "db_functions.comparison.test_greatest.GreatestTests.test_coalesce_workaround",
            "db_functions.comparison.test_least.LeastTests.test_coalesce_workaround",
        ),
        _any,
    ),
    (
        JSON_KEYS_ARE_PARAMETERS,
        ("model_fields.test_jsonfield.TestQuerying.test_key_sql_injection_escape",),
        _any,
    ),
    (NO_CUME_DIST, ("expressions_window.tests.WindowFunctionTests.test_cume_dist",), _any),
    (CHAR_NON_ASCII, ("db_functions.text.test_chr.ChrTests.test_non_ascii",), _any),
    (
        COLUMNSTORE_ALTER_INDEX,
        (
            "schema.tests.SchemaTests.test_add_auto_field",
            "schema.tests.SchemaTests.test_alter_not_unique_field_to_primary_key",
            "schema.tests.SchemaTests.test_remove_constraints_capital_letters",
            "schema.tests.SchemaTests.test_remove_field_unique_does_not_remove_meta_constraints",
            "schema.tests.SchemaTests.test_remove_unique_together_does_not_remove_meta_constraints",
            "migrations.test_operations.OperationTests.test_alter_id_pk_to_uuid_pk",
            "migrations.test_operations.OperationTests.test_composite_pk_operations",
        ),
        _any,
    ),
    (
        MULTIPLE_HASH_INDEXES,
        ("schema.tests.SchemaTests.test_remove_db_index_doesnt_remove_custom_indexes",),
        _any,
    ),
    (UNIQUE_NEEDS_SHARD_KEY, ("schema.tests.SchemaTests.test_unique_and_reverse_m2m",), _any),
    (MYSQL_STORAGE_ENGINE, ("backends.mysql.test_features.TestFeatures.test_supports_transactions",), _any),
    (
        MYSQL_STORAGE_ENGINE,
        ("backends.mysql.test_introspection.StorageEngineTests.test_get_storage_engine",),
        _any,
    ),
    (
        MYSQL_NO_FK_CHECKS,
        (
            "backends.mysql.test_operations.MySQLOperationsTests.test_sql_flush",
            "backends.mysql.test_operations.MySQLOperationsTests.test_sql_flush_sequences",
        ),
        _any,
    ),
    (MYSQL_ISOLATION, ("backends.mysql.tests.IsolationLevelTests.test_isolation_level_validation",), _any),
    (
        MYSQL_SQL_AUTO_IS_NULL,
        ("backends.mysql.tests.IsolationLevelTests.test_auto_is_null_auto_config",),
        _any,
    ),
    (MYSQL_VERSION_MESSAGE, ("backends.mysql.tests.Tests.test_check_database_version_supported",), _any),
    (
        MYSQL_EXPLAIN,
        (
            "queries.test_explain.ExplainTests.test_mysql_text_to_traditional",
            "queries.test_explain.ExplainTests.test_mysql_analyze",
        ),
        _any,
    ),
    (MYSQL_QUOTE_VALUE, ("backends.mysql.test_schema.SchemaEditorTests.test_quote_value",), _any),
]

#: Skipped only when the suite runs on a child aggregator (`@@master_aggregator` is not 'self'): Django's
#: suite normally runs on the master, whose ids are small.
CHILD_AGGREGATOR_SKIPS: list[_Entry] = [
    (
        AUTO_IDS_NOT_SMALL,
        (
            # A class is listed whole when its setUpTestData stores an auto id: without savepoints
            # TestCase runs setUpTestData before every test, and Django leaves the test's atomic block
            # open when it raises, so every later test of the run would fail too.
            "queries.tests.RelatedLookupTypeTests",
            "contenttypes_tests.test_fields.DeferredGenericRelationTests",
            "contenttypes_tests.test_order_with_respect_to.OrderWithRespectToGFKTests",
            "contenttypes_tests.test_fields.GenericForeignKeyTests.test_clear_cached_generic_relation",
            "contenttypes_tests.test_fields.GenericForeignKeyTests.test_clear_cached_generic_relation_explicit_fields",
            "contenttypes_tests.test_fields.GenericForeignKeyTests.test_clear_cached_generic_relation_when_deferred",
            "contenttypes_tests.test_fields.GenericForeignKeyTests.test_get_object_cache_respects_deleted_objects",
            "contenttypes_tests.test_fields.GenericRelationTests.test_value_to_string",
            "contenttypes_tests.test_fields.GetPrefetchQuerySetsTests.test_duplicate_querysets",
            "queries.tests.ValuesSubqueryTests.test_values_in_subquery",
            "model_inheritance.tests.ModelInheritanceTests.test_custompk_m2m",
            "admin_views.tests.TestGenericRelations",
            "aggregation_regress.tests.AggregationTests.test_aggregation_with_generic_reverse_relation",
            "delete.tests.OnDeleteTests.test_restrict_gfk_no_fast_delete",
            "delete_regress.tests.DeleteCascadeTests.test_generic_relation_cascade",
            "prefetch_related.tests.CustomPrefetchTests.test_generic_rel",
            "prefetch_related.tests.CustomPrefetchTests.test_m2m_through_gfk",
            "prefetch_related.tests.GenericRelationTests",
        ),
        _any,
    ),
]

SKIPS += _detected()

EXPECTED_FAILURES: list[_Entry] = []


def _collect(entries: list[_Entry], version: Version) -> dict[str, set[str]]:
    grouped: dict[str, set[str]] = {}
    for reason, tests, applies in entries:
        if applies(version):
            grouped.setdefault(reason, set()).update(tests)
    return grouped


def skips_for(version: Version, aggregator_role: str = "master") -> dict[str, set[str]]:
    """`django_test_skips` for this Django version and aggregator role ('master', 'child' or 'unknown'):
    {reason: {test label, ...}}."""
    entries = SKIPS + CHILD_AGGREGATOR_SKIPS if aggregator_role == "child" else SKIPS
    return _collect(entries, version)


def expected_failures_for(version: Version) -> dict[str, set[str]]:
    """`django_test_expected_failures_reasons` for this Django version."""
    return _collect(EXPECTED_FAILURES, version)
