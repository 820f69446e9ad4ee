"""Server error codes -> Django exceptions: the one mapping both drivers use.

The sync backend (mysqlclient) and the async engine (aiomysql/PyMySQL) both hand errors over as
`exc.args == (code, message)`. `django_exception_for(exc)` returns the Django exception to raise
instead, or None when the driver's own classification (mapped by Django's `DatabaseErrorWrapper`)
is right. Codes the design notes mark unverified are listed as assumptions: they only choose an
exception class, and no control flow in the backend depends on them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, NotSupportedError, OperationalError

__all__ = [
    "FEATURE_NOT_SUPPORTED",
    "INTEGRITY_CODES",
    "NO_SUCH_TABLE",
    "REFERENCE_TABLE_WRITE_ON_CHILD_AGGREGATOR",
    "REFERENCE_WRITE_REMEDIES",
    "TABLES_PRESENT_SQL",
    "UNKNOWN_SYSTEM_VARIABLE",
    "ReferenceTableWriteOnChildAggregator",
    "SchemaChangeInProgress",
    "django_exception_for",
    "error_code",
    "schema_change_error",
    "server_text",
]

#: 1706 `Feature '...' is not supported by SingleStore` (singlestore-semantics.md §2, observed codes).
FEATURE_NOT_SUPPORTED = 1706
#: 2549 `Writing to a reference table in multi-statement transaction is not permitted on child
#: aggregators.` (observed JDBC log; singlestore-semantics.md §2, §3).
REFERENCE_TABLE_WRITE_ON_CHILD_AGGREGATOR = 2549
#: 1193 `Unknown system variable '...'`: what MySQL and MariaDB answer to `@@memsql_version`.
UNKNOWN_SYSTEM_VARIABLE = 1193

#: What to do about error 2549; appended to the server's text by errors.ReferenceTableWriteOnChildAggregator.
REFERENCE_WRITE_REMEDIES = (
    "Remedies: keep the table sharded (django_singlestore's automatic layout does, unless the model "
    "or OPTIONS ask for REFERENCE storage); connect this alias to the master aggregator; or set "
    "OPTIONS['skip_autocommit'] = True (or DJANGO_SINGLESTORE_SKIP_AUTOCOMMIT=1) so that writes are "
    "autocommitted and atomic() blocks are not transactions."
)

#: 1146 `Table 'db.t' doesn't exist` (MySQL's code and text).
NO_SUCH_TABLE = 1146
_NO_SUCH_TABLE_TEXT = re.compile(r"Table '(?:([^'.]*)\.)?([^']*)' doesn't exist")
#: Which of two tables exist (the table a statement named, and its fenced twin).
TABLES_PRESENT_SQL = (
    "SELECT TABLE_NAME FROM information_schema.TABLES "
    "WHERE TABLE_SCHEMA = COALESCE(%s, DATABASE()) AND TABLE_NAME IN (%s, %s)"
)

#: Codes that mean "the data broke a constraint". MySQLdb already raises IntegrityError for 1062
#: (duplicate entry), 1169, 1451, 1452, 1557, 1586, 1859; the others arrive as OperationalError
#: (or DataError) and are mapped here, as Django's MySQL backend does. SingleStore reports errors
#: raised on a leaf with the leaf's MySQL code ("Leaf Error (host:port): ..."), so the codes are
#: MySQL's.
INTEGRITY_CODES: dict[int, str] = {
    1048: "Column cannot be null (NOT NULL violation)",
    1062: "Duplicate entry for key (unique violation)",
    1364: "Field doesn't have a default value (NOT NULL column omitted; assumption: SingleStore "
    "reports it with MySQL's code in strict mode)",
    1586: "Duplicate entry for key '...' (unique violation, named key)",
    1690: "BIGINT UNSIGNED value is out of range",
}


class ReferenceTableWriteOnChildAggregator(OperationalError):
    """A child aggregator refused a reference-table write inside a multi-statement transaction (2549).

    `args` stay the server's `(code, message)`; the text (`str()`, tracebacks) adds the remedies
    (`REFERENCE_WRITE_REMEDIES`): keep the table sharded (the automatic layout does),
    connect to the master aggregator, or set the alias's `skip_autocommit` option.
    """

    remedies = REFERENCE_WRITE_REMEDIES

    def __str__(self) -> str:
        message = self.args[1] if len(self.args) > 1 else (self.args[0] if self.args else "")
        code = self.args[0] if len(self.args) > 1 else REFERENCE_TABLE_WRITE_ON_CHILD_AGGREGATOR
        return f"({code}) {message} {self.remedies}"


class SchemaChangeInProgress(OperationalError):
    """A statement named a table whose writes a schema change has fenced off for a moment (the table is
    renamed while the copy is reconciled, django_singlestore.rebuild); running it again succeeds once
    the change is swapped in, or rolled back. `args` stay `(1146, text)`, the text says so."""


def schema_change_error(
    exc: BaseException, tables_present: Callable[[str | None, str, str], set[str]]
) -> Exception | None:
    """SchemaChangeInProgress for a 1146 on a table that is fenced off (its twin `<t>__s2_fence`
    exists) or back already; None otherwise. `tables_present(database, table, fence)` asks the
    server (TABLES_PRESENT_SQL) and returns the names that exist."""
    if error_code(exc) != NO_SUCH_TABLE or len(exc.args) < 2:
        return None
    match = _NO_SUCH_TABLE_TEXT.search(str(exc.args[1]))
    if match is None:
        return None
    from django_singlestore.rebuild import fence_table_name

    database, table = match.group(1), match.group(2)
    if not tables_present(database, table, fence_table_name(table)):
        return None
    return SchemaChangeInProgress(
        NO_SUCH_TABLE,
        f"{exc.args[1]}: a schema change of {table} is in progress (writes are fenced off while it is "
        f"swapped in, usually for well under a second); the statement did not run and can be retried.",
    )


def error_code(exc: BaseException) -> int | None:
    """The server error code a driver exception carries (`args[0]`), if any."""
    args = getattr(exc, "args", ())
    if args and isinstance(args[0], int):
        return args[0]
    return None


def server_text(value: Any) -> str:
    """A value the server sent as text: drivers hand some (variables, messages) over as bytes."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def django_exception_for(exc: BaseException) -> Exception | None:
    """The Django exception that should replace the driver exception `exc`, or None.

    The returned exception carries the driver's args (code, message), so callers and logs see
    SingleStore's own text. Raise it `from exc`.
    """
    code = error_code(exc)
    if code is None:
        return None
    args = tuple(exc.args)
    if code == FEATURE_NOT_SUPPORTED:
        return NotSupportedError(*args)
    if code == REFERENCE_TABLE_WRITE_ON_CHILD_AGGREGATOR:
        return ReferenceTableWriteOnChildAggregator(*args)
    if code in INTEGRITY_CODES:
        return IntegrityError(*args)
    return None
