"""System checks for a SingleStore alias."""

from __future__ import annotations

from django.core import checks
from django.db.backends.mysql.validation import DatabaseValidation as MySQLDatabaseValidation


class DatabaseValidation(MySQLDatabaseValidation):
    def _check_sql_mode(self, **kwargs):
        if self.connection.sql_mode & {"STRICT_TRANS_TABLES", "STRICT_ALL_TABLES"}:
            return []
        return [
            checks.Warning(
                f"Strict mode is not set for SingleStore database connection '{self.connection.alias}'.",
                hint=(
                    "SingleStore's default sql_mode is STRICT_ALL_TABLES; without it, out-of-range and "
                    "truncated values are stored silently. Set sql_mode back to STRICT_ALL_TABLES."
                ),
                id="singlestore.W001",
            )
        ]
