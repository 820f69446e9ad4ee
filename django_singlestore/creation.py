"""Test databases: MySQL's creation, without the mysqldump-based cloning SingleStore cannot use."""

from __future__ import annotations

from django.db import NotSupportedError
from django.db.backends.mysql.creation import DatabaseCreation as MySQLDatabaseCreation


class DatabaseCreation(MySQLDatabaseCreation):
    def _clone_test_db(self, suffix, verbosity, keepdb=False):
        raise NotSupportedError(
            "SingleStore test databases cannot be cloned (features.can_clone_databases is False); "
            "run the tests without --parallel or give each worker its own database."
        )
