"""Test databases: MySQL's creation, without the mysqldump-based cloning SingleStore cannot use."""

from __future__ import annotations

from django.db import NotSupportedError
from django.db.backends.mysql.creation import DatabaseCreation as MySQLDatabaseCreation


class DatabaseCreation(MySQLDatabaseCreation):
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
