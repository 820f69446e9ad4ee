"""The SingleStore connection: Django's MySQL wrapper on mysqlclient, minus its MySQL guesses.

What differs from `django.db.backends.mysql.base`:

* OPTIONS are validated (`options.parse_options`); only the driver's own connect arguments reach
  mysqlclient. The connection always uses utf8mb4 and CLIENT.FOUND_ROWS.
* Server facts come from the backend's own query, `SELECT @@memsql_version, @@sql_mode`, run once
  per alias (never `VERSION()`, which SingleStore answers with its MySQL-protocol version 5.7.32).
  A MySQL or MariaDB server (1193 unknown variable) and an old SingleStore are refused clearly.
* Nothing is sent at connect beyond what mysqlclient sends: READ COMMITTED is SingleStore's only
  isolation level and there is no `sql_auto_is_null` to reset.
* `vendor` stays "mysql" (see `functions.py` for the decision and the record of every `as_mysql`
  path); `display_name` is "SingleStore".
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, NotSupportedError
from django.db.backends.mysql import base as mysql_base
from django.utils.functional import cached_property
from MySQLdb.constants import CLIENT

from django_singlestore import MINIMUM_SINGLESTORE_VERSION
from django_singlestore.client import DatabaseClient
from django_singlestore.creation import DatabaseCreation
from django_singlestore.errors import UNKNOWN_SYSTEM_VARIABLE, django_exception_for
from django_singlestore.features import DatabaseFeatures
from django_singlestore.introspection import DatabaseIntrospection
from django_singlestore.operations import DatabaseOperations
from django_singlestore.options import ConnectionOptions, parse_options
from django_singlestore.schema import DatabaseSchemaEditor
from django_singlestore.validation import DatabaseValidation

Database = mysql_base.Database

#: The MySQL dialect SingleStore speaks on the wire (its handshake reports 5.7.32). Inherited MySQL
#: code that still asks for `mysql_version` gets this, never a server round trip.
MYSQL_PROTOCOL_VERSION = (5, 7, 32)

#: The backend's one server-data query (see `ServerData`).
SERVER_DATA_QUERY = "SELECT @@memsql_version, @@sql_mode"

_version_re = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


@dataclass(frozen=True)
class ServerData:
    """What the backend reads from the server, once per alias."""

    version_string: str
    version: tuple[int, ...]
    sql_mode: frozenset[str]


_server_data_cache: dict[tuple[str, str, str], ServerData] = {}
_server_data_lock = threading.Lock()


def forget_server_data(alias: str | None = None) -> None:
    """Drop cached server data (all aliases, or one): for tests that repoint an alias."""
    with _server_data_lock:
        for key in [k for k in _server_data_cache if alias is None or k[0] == alias]:
            del _server_data_cache[key]


def parse_singlestore_version(value: str) -> tuple[int, ...]:
    match = _version_re.match(value or "")
    if not match:
        raise DatabaseError(f"Unable to read a SingleStore version from @@memsql_version = {value!r}.")
    return tuple(int(part) for part in match.groups() if part is not None)


class CursorWrapper(mysql_base.CursorWrapper):
    """Maps server errors through the shared table in `errors.py`."""

    def execute(self, query, args=None):
        try:
            return self.cursor.execute(query, args)
        except Database.Error as exc:
            replacement = django_exception_for(exc)
            if replacement is None:
                raise
            raise replacement from exc

    def executemany(self, query, args):
        try:
            return self.cursor.executemany(query, args)
        except Database.Error as exc:
            replacement = django_exception_for(exc)
            if replacement is None:
                raise
            raise replacement from exc


class DatabaseWrapper(mysql_base.DatabaseWrapper):
    display_name = "SingleStore"
    # vendor = "mysql" (inherited, deliberately: see django_singlestore.functions).

    # Static answers to what Django's MySQL code asks the server; see the module docstring.
    mysql_is_mariadb = False
    mysql_version = MYSQL_PROTOCOL_VERSION

    #: Only the async engine accepts OPTIONS["pool"].
    accepts_pool_option = False

    _data_types = {
        **mysql_base.DatabaseWrapper._data_types,
        # AUTO_INCREMENT must be BIGINT on sharded tables; all auto fields are BIGINT.
        "AutoField": "bigint AUTO_INCREMENT",
        "SmallAutoField": "bigint AUTO_INCREMENT",
        "BigAutoField": "bigint AUTO_INCREMENT",
    }

    # Case-insensitive lookups lower-case both sides, so they stay case-insensitive under a binary
    # collation (utf8mb4_bin is SingleStore 9's default). The left side gets LOWER() from
    # DatabaseOperations.lookup_cast.
    operators = {
        **mysql_base.DatabaseWrapper.operators,
        "iexact": "LIKE LOWER(%s)",
        "icontains": "LIKE LOWER(%s)",
        "istartswith": "LIKE LOWER(%s)",
        "iendswith": "LIKE LOWER(%s)",
    }
    pattern_ops = {
        **mysql_base.DatabaseWrapper.pattern_ops,
        "icontains": "LIKE LOWER(CONCAT('%%', {}, '%%'))",
        "istartswith": "LIKE LOWER(CONCAT({}, '%%'))",
        "iendswith": "LIKE LOWER(CONCAT('%%', {}))",
    }
    isolation_levels = {"read committed"}

    SchemaEditorClass = DatabaseSchemaEditor
    client_class = DatabaseClient
    creation_class = DatabaseCreation
    features_class = DatabaseFeatures
    introspection_class = DatabaseIntrospection
    ops_class = DatabaseOperations
    validation_class = DatabaseValidation

    # --- Settings -----------------------------------------------------------------------------------

    @cached_property
    def singlestore_options(self) -> ConnectionOptions:
        """This alias's OPTIONS, validated (ImproperlyConfigured names a bad key)."""
        return parse_options(self.settings_dict.get("OPTIONS"), allow_pool=self.accepts_pool_option)

    def get_connection_params(self) -> dict[str, Any]:
        options = self.singlestore_options
        settings_dict = self.settings_dict
        kwargs: dict[str, Any] = {"conv": mysql_base.django_conversions}
        if settings_dict["USER"]:
            kwargs["user"] = settings_dict["USER"]
        if settings_dict["NAME"]:
            kwargs["database"] = settings_dict["NAME"]
        if settings_dict["PASSWORD"]:
            kwargs["password"] = settings_dict["PASSWORD"]
        host = settings_dict["HOST"]
        if host.startswith("/"):
            kwargs["unix_socket"] = host
        elif host:
            kwargs["host"] = host
        if settings_dict["PORT"]:
            try:
                kwargs["port"] = int(settings_dict["PORT"])
            except (TypeError, ValueError):
                raise ImproperlyConfigured(f"PORT must be a number, not {settings_dict['PORT']!r}.") from None
        kwargs.update(options.driver_kwargs)
        # utf8mb4 always (SingleStore's server default is 3-byte utf8); matched rows, not changed
        # rows, for UPDATE (Django relies on it).
        kwargs["charset"] = "utf8mb4"
        kwargs["client_flag"] = kwargs.get("client_flag", 0) | CLIENT.FOUND_ROWS
        self.isolation_level = "read committed"
        return kwargs

    def init_connection_state(self) -> None:
        # Base behaviour only: the version check once per alias. No SET statements (see docstring).
        super(mysql_base.DatabaseWrapper, self).init_connection_state()

    def create_cursor(self, name=None):
        return CursorWrapper(self.connection.cursor())

    # --- Server facts ---------------------------------------------------------------------------------

    @property
    def singlestore_server_data(self) -> ServerData:
        key = (self.alias, str(self.settings_dict.get("HOST")), str(self.settings_dict.get("PORT")))
        data = _server_data_cache.get(key)
        if data is None:
            data = self._read_server_data()
            with _server_data_lock:
                _server_data_cache[key] = data
        return data

    def _read_server_data(self) -> ServerData:
        try:
            with self.temporary_connection() as cursor:
                cursor.execute(SERVER_DATA_QUERY)
                row = cursor.fetchone()
        except DatabaseError as exc:
            code = exc.args[0] if exc.args else None
            if code == UNKNOWN_SYSTEM_VARIABLE:
                where = f"{self.settings_dict.get('HOST') or 'localhost'}:{self.settings_dict.get('PORT') or 3306}"
                raise NotSupportedError(
                    f"The server at {where} (alias {self.alias!r}) is not SingleStore: it has no "
                    f"@@memsql_version, as MySQL and MariaDB do not. django_singlestore needs SingleStore "
                    f"{'.'.join(map(str, MINIMUM_SINGLESTORE_VERSION))} or later; use "
                    f"'django.db.backends.mysql' for MySQL or MariaDB."
                ) from exc
            raise
        version_string = str(row[0])
        sql_mode = row[1] or ""
        return ServerData(
            version_string=version_string,
            version=parse_singlestore_version(version_string),
            sql_mode=frozenset(part for part in str(sql_mode).split(",") if part),
        )

    def get_database_version(self) -> tuple[int, ...]:
        return self.singlestore_server_data.version

    @cached_property
    def mysql_server_data(self):
        raise NotSupportedError(
            "django_singlestore does not read MySQL's server data (VERSION(), storage engine); "
            "use connection.singlestore_server_data."
        )

    @property
    def sql_mode(self) -> set[str]:
        return set(self.singlestore_server_data.sql_mode)

    # --- No foreign keys, so nothing to disable or check ------------------------------------------------

    def disable_constraint_checking(self) -> bool:
        return False

    def enable_constraint_checking(self) -> None:
        return None

    def check_constraints(self, table_names=None) -> None:
        return None
