"""The SingleStore connection: Django's MySQL wrapper on mysqlclient, minus its MySQL guesses.

What differs from `django.db.backends.mysql.base`:

* OPTIONS are validated (`options.parse_options`); only the driver's own connect arguments reach
  mysqlclient. The connection always uses utf8mb4 and CLIENT.FOUND_ROWS.
* Server facts come from the backend's own query, `SELECT @@memsql_version, @@sql_mode,
  @@master_aggregator, @@aggregator_id`, run once per alias (never `VERSION()`, which SingleStore
  answers with its MySQL-protocol version 5.7.32). A MySQL or MariaDB server (1193 unknown
  variable) and an old SingleStore are refused clearly. The rules (fallback query, refusal text,
  cache, version check, child-aggregator warning) live here once, driver-neutral; the async engine
  runs the same queries on its pooled connection and hands the outcome to the same functions.
* Transactions follow `transactions.py` (TransactionPolicyMixin): autocommit by default, atomic()
  without savepoints, skip_autocommit, the child-aggregator warning at connect.
* Nothing is sent at connect beyond what mysqlclient sends: READ COMMITTED is SingleStore's only
  isolation level and there is no `sql_auto_is_null` to reset.
* `vendor` stays "mysql" (see `functions.py` for the decision and the record of every `as_mysql`
  path); `display_name` is "SingleStore".
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, NotSupportedError
from django.db.backends.mysql import base as mysql_base
from django.utils.functional import cached_property
from MySQLdb.constants import CLIENT

from django_singlestore import MINIMUM_SINGLESTORE_VERSION
from django_singlestore.client import DatabaseClient
from django_singlestore.creation import DatabaseCreation
from django_singlestore.errors import (
    TABLES_PRESENT_SQL,
    UNKNOWN_SYSTEM_VARIABLE,
    django_exception_for,
    error_code,
    schema_change_error,
    server_text,
)
from django_singlestore.features import DatabaseFeatures
from django_singlestore.introspection import DatabaseIntrospection
from django_singlestore.operations import DatabaseOperations
from django_singlestore.options import ConnectionOptions, parse_options
from django_singlestore.parameters import (
    check_parameters,
    encoding_error,
    packet_too_large,
    statement_size,
)
from django_singlestore.schema import DatabaseSchemaEditor
from django_singlestore.transactions import TransactionPolicyMixin, aggregator_role, warn_if_child_aggregator
from django_singlestore.validation import DatabaseValidation

Database = mysql_base.Database

#: The MySQL dialect SingleStore speaks on the wire (its handshake reports 5.7.32). Inherited MySQL
#: code that still asks for `mysql_version` gets this, never a server round trip.
MYSQL_PROTOCOL_VERSION = (5, 7, 32)

#: The backend's one server-data query (see `ServerData`), on both engines.
SERVER_DATA_QUERY = "SELECT @@memsql_version, @@sql_mode, @@master_aggregator, @@aggregator_id"
#: The same without the aggregator variables, for a SingleStore that does not know one of them.
SERVER_DATA_QUERY_BASIC = "SELECT @@memsql_version, @@sql_mode"

_version_re = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


@dataclass(frozen=True)
class ServerData:
    """What the backend reads from the server, once per alias."""

    version_string: str
    version: tuple[int, ...]
    sql_mode: frozenset[str]
    #: `@@master_aggregator`: 'self' on the master aggregator, the master's address on a child.
    master_aggregator: str | None = None
    #: `@@aggregator_id` of the aggregator the first connection reached.
    aggregator_id: int | None = None

    @property
    def aggregator_role(self) -> str:
        """'master', 'child' or 'unknown' (see transactions.aggregator_role)."""
        return aggregator_role(self.master_aggregator)

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> ServerData:
        """Build from a row of SERVER_DATA_QUERY (or SERVER_DATA_QUERY_BASIC); any driver."""
        version_string = server_text(row[0])
        master = server_text(row[2]) if len(row) > 2 and row[2] is not None else None
        agg_id = row[3] if len(row) > 3 else None
        try:
            agg_id = None if agg_id is None else int(agg_id)
        except (TypeError, ValueError):
            agg_id = None
        return cls(
            version_string=version_string,
            version=parse_singlestore_version(version_string),
            sql_mode=frozenset(part for part in server_text(row[1] or "").split(",") if part),
            master_aggregator=master,
            aggregator_id=agg_id,
        )


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


# --- Reading the server data, for any driver ----------------------------------------------------------
#
# Both engines run: `query = SERVER_DATA_QUERY`; execute it; on a driver error ask
# `server_data_fallback(query, exc, ...)` for the next query to try (it raises when there is none);
# then `server_data_from_row(row)`. `read_server_data` is that loop for a blocking `execute`; the async
# engine (django_singlestore_async.base) awaits its cursor in the same loop. Errors only need PEP 249's
# `args == (code, message)`, which Django's, mysqlclient's and PyMySQL's exceptions all have.


def not_singlestore_error(alias: str, host: Any, port: Any) -> NotSupportedError:
    """The one refusal of a server without `@@memsql_version` (MySQL, MariaDB), for both engines."""
    return NotSupportedError(
        f"The server at {host or 'localhost'}:{port or 3306} (alias {alias!r}) is not SingleStore: it has "
        f"no @@memsql_version, as MySQL and MariaDB do not. django_singlestore needs SingleStore "
        f"{'.'.join(map(str, MINIMUM_SINGLESTORE_VERSION))} or later; use "
        f"'django.db.backends.mysql' for MySQL or MariaDB."
    )


def server_data_fallback(query: str, exc: BaseException, *, alias: str, host: Any, port: Any) -> str:
    """After `query` failed with `exc`: the query to try next, or raise.

    * SERVER_DATA_QUERY refused with 1193 for an aggregator variable (a SingleStore that lacks one):
      SERVER_DATA_QUERY_BASIC next (the aggregator role stays unknown);
    * 1193 otherwise (no `@@memsql_version`: MySQL or MariaDB): `not_singlestore_error`, from `exc`;
    * anything else: `exc` itself, for the caller's driver to map.
    """
    if error_code(exc) == UNKNOWN_SYSTEM_VARIABLE:
        message = str(exc.args[1] if len(exc.args) > 1 else "").lower()
        if query == SERVER_DATA_QUERY and "memsql_version" not in message:
            return SERVER_DATA_QUERY_BASIC
        raise not_singlestore_error(alias, host, port) from exc
    raise exc


def server_data_from_row(row: Sequence[Any] | None) -> ServerData:
    """`ServerData.from_row`, refusing an answer without a row."""
    if row is None:
        raise DatabaseError("The server answered the server-data query without a row.")
    return ServerData.from_row(row)


def read_server_data(
    execute: Callable[[str], Sequence[Any] | None], *, alias: str, host: Any, port: Any
) -> ServerData:
    """Read the server data with a blocking `execute(sql) -> first row` (any driver)."""
    query = SERVER_DATA_QUERY
    while True:
        try:
            row = execute(query)
            break
        except Exception as exc:
            query = server_data_fallback(query, exc, alias=alias, host=host, port=port)
    return server_data_from_row(row)


#: What a mysqlclient connection made with `conv=django_conversions` has as `encoders`.
_DEFAULT_ENCODERS = {
    kind: encode for kind, encode in mysql_base.django_conversions.items() if isinstance(kind, type)
}


class CursorWrapper(mysql_base.CursorWrapper):
    """Refuses parameters mysqlclient cannot send faithfully (`parameters.py`); maps server errors
    through the shared table in `errors.py`, and an oversized statement to an error naming
    max_allowed_packet; reports each successful statement to `on_statement` when given (the
    transaction policy counts them on skip_autocommit aliases)."""

    #: The driver's error base class (the async engine's greenlet mode wraps PyMySQL's).
    driver_error: type[Exception] = Database.Error

    def __init__(self, cursor, on_statement=None):
        super().__init__(cursor)
        self.on_statement = on_statement

    def _encoders(self) -> Any:
        """The driver connection's encoders (type -> literal), or mysqlclient's with Django's."""
        encoders = getattr(getattr(self.cursor, "connection", None), "encoders", None)
        return encoders if encoders is not None else _DEFAULT_ENCODERS

    def execute(self, query, args=None):
        args = check_parameters(args, self._encoders())
        return self._run(self.cursor.execute, query, args)

    def executemany(self, query, args):
        args = check_parameters(args, self._encoders(), many=True)
        return self._run(self.cursor.executemany, query, args, many=True)

    def _run(self, method, query, args, many=False):
        """Run one driver call; map server errors through the shared table, then note the statement."""
        try:
            result = method(query, args)
        except (UnicodeEncodeError, self.driver_error) as exc:
            self.raise_mapped(exc, query, args, many=many)
        if self.on_statement is not None:
            self.on_statement()
        return result

    def raise_mapped(self, exc: BaseException, query: Any, args: Any, *, many: bool = False) -> NoReturn:
        """Raise what `exc`, raised by the driver for this statement, becomes: a mapped server error,
        or `exc` itself."""
        if isinstance(exc, UnicodeEncodeError):
            raise encoding_error(exc) from exc
        replacement = None
        if isinstance(exc, self.driver_error):
            replacement = (
                django_exception_for(exc)
                or schema_change_error(exc, self._tables_present)
                or packet_too_large(exc, statement_size(query, args, many=many))
            )
        if replacement is None:
            raise exc
        raise replacement from exc

    def _tables_present(self, database, table, fence):
        """Which of `table` and its fence exist (after a 1146: is a schema change in progress?)."""
        try:
            self.cursor.execute(TABLES_PRESENT_SQL, (database, table, fence))
            return {row[0] for row in self.cursor.fetchall()}
        except self.driver_error:
            return set()


class DatabaseWrapper(TransactionPolicyMixin, mysql_base.DatabaseWrapper):
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
        return parse_options(
            self.settings_dict.get("OPTIONS"), allow_pool=self.accepts_pool_option, alias=self.alias
        )

    def get_connection_params(self) -> dict[str, Any]:
        """Django's MySQL parameters, with only the driver's own OPTIONS (validated) passed through."""
        options = self.singlestore_options
        port = self.settings_dict["PORT"]
        if port:
            try:
                int(port)
            except (TypeError, ValueError):
                raise ImproperlyConfigured(f"PORT must be a number, not {port!r}.") from None
        kwargs = super().get_connection_params()
        # Django copies OPTIONS wholesale: drop the backend's own keys, keep the validated driver ones.
        for key in self.settings_dict["OPTIONS"]:
            kwargs.pop(key, None)
        kwargs.update(options.driver_kwargs)
        # utf8mb4 always (SingleStore's server default is 3-byte utf8); matched rows, not changed
        # rows, for UPDATE (Django relies on it).
        kwargs["charset"] = "utf8mb4"
        kwargs["client_flag"] = kwargs.get("client_flag", 0) | CLIENT.FOUND_ROWS
        # One statement per round trip unless OPTIONS["multi_statements"] opts in (mysqlclient's own
        # default is on): a string that smuggles a second statement past quoting is refused by the
        # server instead of run.
        kwargs["multi_statements"] = options.multi_statements
        self.isolation_level = "read committed"
        return kwargs

    def init_connection_state(self) -> None:
        # No SET statements (see docstring): the server-data checks only.
        self.check_server_data()

    def create_cursor(self, name=None):
        on_statement = None if self.transaction_policy.sends_transaction_control else self.note_statement
        return CursorWrapper(self.connection.cursor(), on_statement)

    # --- Server facts ---------------------------------------------------------------------------------

    def _server_data_key(self) -> tuple[str, str, str]:
        return (self.alias, str(self.settings_dict.get("HOST")), str(self.settings_dict.get("PORT")))

    def _server_data_where(self) -> dict[str, Any]:
        """`alias`, `host`, `port` as `server_data_fallback` / `read_server_data` take them."""
        return {
            "alias": self.alias,
            "host": self.settings_dict.get("HOST"),
            "port": self.settings_dict.get("PORT"),
        }

    @property
    def has_server_data(self) -> bool:
        """Whether this alias's server data is cached (reading it would do no I/O)."""
        return self._server_data_key() in _server_data_cache

    @property
    def singlestore_server_data(self) -> ServerData:
        data = _server_data_cache.get(self._server_data_key())
        if data is None:
            data = self.remember_server_data(self._read_server_data())
        return data

    def remember_server_data(self, data: ServerData) -> ServerData:
        """Cache `data` for this alias (host, port); the first reader's answer wins a race."""
        with _server_data_lock:
            return _server_data_cache.setdefault(self._server_data_key(), data)

    def _read_server_data(self) -> ServerData:
        with self.temporary_connection() as cursor:

            def execute(sql: str) -> Any:
                cursor.execute(sql)
                return cursor.fetchone()

            return read_server_data(execute, **self._server_data_where())

    def check_server_data(self) -> None:
        """What every new connection runs once the server data is known (both engines): Django's
        version check (once per alias) and the child-aggregator warning (once per alias, host, port)."""
        # BaseDatabaseWrapper.init_connection_state: the version check, gated per alias by Django.
        super(mysql_base.DatabaseWrapper, self).init_connection_state()
        # The aggregator role comes with the server data (cached per alias: no extra round trip).
        data = self.singlestore_server_data
        warn_if_child_aggregator(
            self.transaction_policy,
            data.aggregator_role,
            host=self.settings_dict.get("HOST"),
            port=self.settings_dict.get("PORT"),
            master=data.master_aggregator,
            aggregator_id=data.aggregator_id,
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
