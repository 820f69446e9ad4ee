"""Server error codes -> Django exceptions: the one mapping both drivers use.

The sync backend (mysqlclient) and the async engine (aiomysql/PyMySQL) both hand errors over as
`exc.args == (code, message)`. `django_exception_for(exc)` returns the Django exception to raise
instead, or None when the driver's own classification (mapped by Django's `DatabaseErrorWrapper`)
is right. Codes the design notes mark unverified are listed as assumptions: they only choose an
exception class, and no control flow in the backend depends on them.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, NotSupportedError, OperationalError

__all__ = [
    "FEATURE_NOT_SUPPORTED",
    "INTEGRITY_CODES",
    "REFERENCE_TABLE_WRITE_ON_CHILD_AGGREGATOR",
    "REFERENCE_WRITE_REMEDIES",
    "UNKNOWN_SYSTEM_VARIABLE",
    "ReferenceTableWriteOnChildAggregator",
    "django_exception_for",
    "error_code",
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
