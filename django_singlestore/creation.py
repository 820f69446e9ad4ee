"""Test databases: MySQL's creation, without the mysqldump-based cloning SingleStore cannot use."""

from __future__ import annotations

import inspect
import warnings

from django.db import NotSupportedError
from django.db.backends.mysql.creation import DatabaseCreation as MySQLDatabaseCreation
from django.utils import deprecation

from django_singlestore.transactions import set_test_flush, test_reset_mode

#: Django 6.1 deprecates create_test_db(serialize) (its default became None); 5.2 defaults to True.
_SERIALIZE_DEPRECATED = (
    inspect.signature(MySQLDatabaseCreation.create_test_db).parameters["serialize"].default is None
)
_SERIALIZE_WARNING = (
    "DatabaseCreation.create_test_db(serialize) is deprecated. Call "
    "DatabaseCreation.serialize_test_db() once all test databases are set "
    "up instead if you need fixtures persistence between tests."
)


class DatabaseCreation(MySQLDatabaseCreation):
    def create_test_db(self, verbosity=1, autoclobber=False, serialize=None, keepdb=False):
        test_reset_mode(self.connection.alias, self.connection.settings_dict)  # validated before creating
        if not _SERIALIZE_DEPRECATED:
            serialize = True if serialize is None else serialize
            name = super().create_test_db(verbosity, autoclobber, serialize, keepdb)
        elif serialize is None:
            name = super().create_test_db(verbosity, autoclobber, keepdb=keepdb)
        else:
            # Django 6.1's deprecation warning, raised here so that it names this method's caller (as
            # Django's own create_test_db does), not this module; then what Django did with the argument.
            category = getattr(deprecation, "RemovedInDjango2028Warning", DeprecationWarning)
            warnings.warn(_SERIALIZE_WARNING, category, stacklevel=2)
            name = super().create_test_db(verbosity, autoclobber, keepdb=keepdb)
            if serialize:
                self.connection._test_serialized_contents = self.serialize_db_to_string()
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
