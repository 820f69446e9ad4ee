"""SingleStore's feature flags: static facts, never read from the server.

Django's MySQL features compute many flags from the server's version, `sql_mode` and storage
engine (server I/O on first use). Here every such flag is a class attribute, so the features are
the same for every alias and compiling a query never touches the network. The one per-alias flag,
`supports_transactions`, comes from the alias's settings (`transactions.TransactionPolicy`), also
without I/O. Sources: the design note `singlestore-semantics.md` (SingleStore docs, cited there)
unless a comment says otherwise.
"""

from __future__ import annotations

import django
from django.db.backends.mysql.features import DatabaseFeatures as MySQLDatabaseFeatures
from django.utils.functional import cached_property

from django_singlestore import MINIMUM_SINGLESTORE_VERSION


class DatabaseFeatures(MySQLDatabaseFeatures):
    minimum_database_version = MINIMUM_SINGLESTORE_VERSION

    # --- Transactions (policy: django_singlestore.transactions) -----------------------------------
    # Multi-statement transactions work; SAVEPOINT does not exist (1706).
    @cached_property
    def supports_transactions(self) -> bool:
        # Per alias and without I/O: False when the alias has skip_autocommit (settings and env only).
        # A cached_property (per features instance, i.e. per wrapper) so tests can still patch it.
        return self.connection.transaction_policy.supports_transactions

    uses_savepoints = False
    can_release_savepoints = False
    atomic_transactions = False
    can_rollback_ddl = False  # most DDL commits implicitly

    # --- Constraints: none of these exist on SingleStore ---------------------------------------
    supports_foreign_keys = False
    can_create_inline_fk = False
    can_introspect_foreign_keys = False
    supports_column_check_constraints = False
    supports_table_check_constraints = False
    can_introspect_check_constraints = False
    supports_deferrable_unique_constraints = False
    can_defer_constraint_checks = False
    supports_expression_indexes = False
    supports_index_column_ordering = False  # "SingleStore does not support order in indexes"
    supports_partial_indexes = False
    supports_covering_indexes = False
    can_rename_index = False  # ALTER TABLE ... RENAME INDEX is a syntax error (1064)
    supports_sequence_reset = False  # ALTER TABLE ... AUTO_INCREMENT = is refused on sharded tables
    collate_as_index_expression = False

    # --- INSERT / RETURNING --------------------------------------------------------------------
    can_return_columns_from_insert = False  # no RETURNING
    can_return_rows_from_bulk_insert = False
    supports_ignore_conflicts = True  # INSERT IGNORE
    supports_update_conflicts = True  # ON DUPLICATE KEY UPDATE
    supports_update_conflicts_with_target = False
    # AUTO_INCREMENT: inserting 0 (like NULL or DEFAULT) generates a value.
    allows_auto_pk_0 = False

    # --- SELECT ... FOR UPDATE ------------------------------------------------------------------
    has_select_for_update = True
    has_select_for_update_nowait = False
    has_select_for_update_skip_locked = False
    has_select_for_update_of = False
    has_select_for_no_key_update = False
    supports_select_for_update_with_limit = True

    # --- Query shapes -----------------------------------------------------------------------------
    supports_select_intersection = True
    # EXCEPT / MINUS: docs.singlestore.com/db/v8.1/reference/sql-reference/data-manipulation-language-dml/except-and-minus/
    supports_select_difference = True
    # "LIMIT with UNION affects only the second part" (older backend's skip list).
    supports_slicing_ordering_in_compound = False
    requires_compound_order_by_subquery = True
    allows_group_by_selected_pks = False
    update_can_self_select = True
    # A LIMIT inside an IN (...) subquery runs on SingleStore (MySQL and MariaDB refuse it, 1235); no
    # SingleStore page lists the restriction. The test bed's gateway wraps such subqueries for MariaDB.
    allow_sliced_subqueries_with_in = True
    supports_logical_xor = False
    # lhs - rhs of two dates / datetimes / times: TIMESTAMPDIFF(MICROSECOND, rhs, lhs) ([doc] "TIMESTAMPDIFF";
    # operations.subtract_temporals).
    supports_temporal_subtraction = True
    supports_any_value = False  # Django 6.1 flag; not relied on
    # [doc] "LAG" / "LEAD": LAG(expression [, offset]) OVER (...), no default argument
    # (tests/gateway/test_fidelity.py test_lag_with_a_default_is_not_singlestore_syntax).
    supports_default_in_lead_lag = False

    # --- Window functions: supported except CUME_DIST and RANGE with offsets -----------------------
    supports_over_clause = True
    supports_frame_range_fixed_distance = False
    supports_frame_exclusion = False

    # --- JSON ---------------------------------------------------------------------------------------
    has_native_json_field = False  # Django then builds SQL we control in functions.py
    supports_json_field_contains = False  # no JSON_CONTAINS for objects
    can_introspect_json_field = True
    supports_json_negative_indexing = False

    # --- Types, defaults, generated columns, comments -----------------------------------------------
    has_native_uuid_field = False
    supports_uuid4_function = False
    supports_uuid4_function_in_default = False
    supports_uuid7_function = False
    supports_uuid7_function_in_default = False
    # Literals and NOW()/CURRENT_TIMESTAMP(6) (emitted without parentheses). Decision (issue 16): stays True
    # although SingleStore refuses other expression DEFAULTs (1706 'DEFAULT with an expression', e.g.
    # Django's field_defaults app's `db_default=Pi()`, whose test database therefore cannot be created):
    # False would make Django's check reject every `db_default=Now()` (fields.E011), which works here.
    supports_expression_defaults = True
    supports_stored_generated_columns = True  # `col AS expr PERSISTED type`
    supports_virtual_generated_columns = False
    supports_comments = True
    supports_comments_inline = True
    # db_index on a TEXT/BLOB/JSON column creates no index (schema._field_should_be_indexed, as MySQL's).
    supports_index_on_text_field = False
    # No FOREIGN KEY constraints, so no ON DELETE actions in the database (Django 6.1's db_on_delete).
    supports_on_delete_db_cascade = False
    supports_on_delete_db_null = False
    supports_on_delete_db_default = False

    # --- Time zones: `SET time_zone` is a no-op; CONVERT_TZ knows IANA names built in -----------------
    supports_timezones = False
    has_zoneinfo_database = True

    # --- Server session facts (MySQL reads these from the server) ------------------------------------
    _mysql_storage_engine = None  # no MySQL storage engines (InnoDB, MyISAM) on SingleStore
    is_sql_auto_is_null_enabled = False
    ignores_table_name_case = False  # table_name_case_sensitivity = 1 by default
    supports_explain_analyze = False  # EXPLAIN [EXTENDED | JSON | ...]; no ANALYZE
    supported_explain_formats = {"JSON", "TEXT"}
    can_clone_databases = False
    supports_regex_backreferencing = False  # needs regexp_format = 'advanced' (a global)

    # SingleStore's procedural language differs from MySQL's; Django's test procedures do not apply.
    create_test_procedure_without_params_sql = None
    create_test_procedure_with_int_param_sql = None

    test_collations = {
        "ci": "utf8mb4_general_ci",
        "cs": "utf8mb4_bin",
        "non_default": "utf8mb4_unicode_ci",
        "swedish_ci": None,
        "virtual": None,
    }

    # Every AUTO_INCREMENT column is BIGINT (SingleStore refuses a narrower one on sharded tables), so
    # introspection reads every auto field back as BigAutoField.
    @cached_property
    def introspected_field_types(self) -> dict[str, str]:
        return {
            **super().introspected_field_types,
            "AutoField": "BigAutoField",
            "SmallAutoField": "BigAutoField",
        }

    # Django's own test suite (issue 7): skips and expected failures grouped by reason, from
    # django_singlestore.test_skips. Static data, so reading them does no I/O.
    @cached_property
    def django_test_skips(self) -> dict[str, set[str]]:
        """Some skips apply only on a child aggregator (its AUTO_INCREMENT ids start above 2**50); the
        role comes from the server data when it is already cached (no I/O otherwise: master)."""
        from django_singlestore.test_skips import skips_for
        from django_singlestore.transactions import aggregator_role

        role = "master"
        if getattr(self.connection, "has_server_data", False):
            role = aggregator_role(self.connection.singlestore_server_data.master_aggregator)
        return skips_for(django.VERSION, role)

    @cached_property
    def django_test_expected_failures_reasons(self) -> dict[str, set[str]]:
        from django_singlestore.test_skips import expected_failures_for

        return expected_failures_for(django.VERSION)

    @cached_property
    def django_test_expected_failures(self) -> set[str]:
        return set().union(*self.django_test_expected_failures_reasons.values())
