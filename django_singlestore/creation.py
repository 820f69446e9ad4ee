"""Test databases: MySQL's creation, without the mysqldump-based cloning SingleStore cannot use."""

from __future__ import annotations

from django.db import NotSupportedError
from django.db.backends.mysql.creation import DatabaseCreation as MySQLDatabaseCreation

from django_singlestore.transactions import set_test_flush, test_reset_mode


class DatabaseCreation(MySQLDatabaseCreation):
    def create_test_db(self, *args, **kwargs):
        test_reset_mode(self.connection.alias, self.connection.settings_dict)  # validated before creating
        name = super().create_test_db(*args, **kwargs)
        self._use_test_reset(active=True)
        return name

    def destroy_test_db(self, *args, **kwargs):
        self._use_test_reset(active=False)
        return super().destroy_test_db(*args, **kwargs)

    def _use_test_reset(self, active: bool) -> None:
        """TEST["RESET"] = "flush": supports_transactions is False while the test database is used
        (transactions.py, item 5). The wrapper's cached policy and feature are recomputed."""
        connection = self.connection
        if test_reset_mode(connection.alias, connection.settings_dict) != "flush":
            return
        set_test_flush(connection.alias, active)
        connection.__dict__.pop("transaction_policy", None)
        connection.features.__dict__.pop("supports_transactions", None)

    def sql_table_creation_suffix(self):
        # SingleStore's server default character set is utf8 (3 bytes), so a test database created
        # without one could not store emoji although the connection speaks utf8mb4. TEST CHARSET /
        # COLLATION still win when set.
        test_settings = self.connection.settings_dict["TEST"]
        if not test_settings["CHARSET"] and not test_settings["COLLATION"]:
            return "CHARACTER SET utf8mb4"
        return super().sql_table_creation_suffix()

    def _clone_test_db(self, suffix, verbosity, keepdb=False):
        raise NotSupportedError(
            "SingleStore test databases cannot be cloned (features.can_clone_databases is False); "
            "run the tests without --parallel or give each worker its own database."
        )
