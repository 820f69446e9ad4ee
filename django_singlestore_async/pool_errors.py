"""The pool's errors, and the driver error codes the pool and its connections act on.

The errors are Django's `OperationalError`, so `except django.db.OperationalError` sees them.
"""

from __future__ import annotations

from django.db.utils import OperationalError as DjangoOperationalError

__all__ = [
    "CLIENT_ERROR_BASE",
    "CR_CONN_HOST_ERROR",
    "CR_SERVER_LOST",
    "CR_SSL_CONNECTION_ERROR",
    "ER_INVALID_CHARACTER_STRING",
    "ER_NO_SUCH_THREAD",
    "ER_UNKNOWN_SYSTEM_VARIABLE",
    "PoolClosed",
    "PoolError",
    "PoolTimeout",
    "TooManyRequests",
]

#: Client-side error codes (CR_*) start here: after one the protocol state is unknown. Server error
#: packets (below it) leave the connection in sync and usable.
CLIENT_ERROR_BASE = 2000
#: "Can't connect to server": a connect that timed out.
CR_CONN_HOST_ERROR = 2003
#: "Lost connection to server during query": a round trip that timed out.
CR_SERVER_LOST = 2013
#: "SSL connection error": TLS required but not offered.
CR_SSL_CONNECTION_ERROR = 2026
#: "Unknown thread id": the session a KILL names has already ended.
ER_NO_SUCH_THREAD = 1094
#: "Unknown system variable": MySQL/MariaDB have no `@@aggregator_id`.
ER_UNKNOWN_SYSTEM_VARIABLE = 1193
#: "Invalid ... character string": a statement that cannot be encoded in the connection charset.
ER_INVALID_CHARACTER_STRING = 1300


class PoolError(DjangoOperationalError):
    """Base class of the pool's own errors."""


class PoolTimeout(PoolError):
    """No connection became available within `timeout` seconds."""


class TooManyRequests(PoolError):
    """`max_waiting` tasks already wait for a connection."""


class PoolClosed(PoolError):
    """The pool is closed (or closing)."""
