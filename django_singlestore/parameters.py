"""Query parameters mysqlclient cannot send faithfully, refused before the round trip.

mysqlclient turns a value of a type it has no encoder for into `str(value)` (an `object()` becomes
`'<object object at 0x...>'`, a memoryview `'<memory at 0x...>'`), writes NaN and infinities as bare
words the server reads as column names, and raises a bare UnicodeEncodeError for a lone surrogate.
Each case gets an error of Django's DatabaseError family naming the parameter and the cause. The
statement-size errors (`packet_too_large`) live here too: what the server says when a statement
exceeds `max_allowed_packet`, with the size that was sent.
"""

from __future__ import annotations

import datetime
import decimal
import ipaddress
import math
import numbers
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import DataError, OperationalError, ProgrammingError
from django.utils.functional import Promise

from django_singlestore.errors import error_code

__all__ = [
    "PACKET_TOO_LARGE",
    "ParameterEncodingError",
    "UnsupportedParameterType",
    "check_parameters",
    "encoding_error",
    "packet_too_large",
    "statement_size",
]

#: 1153 ER_NET_PACKET_TOO_LARGE: "Got a packet bigger than 'max_allowed_packet' bytes".
PACKET_TOO_LARGE = 1153
#: 2006 server gone away, 2013 lost connection: what a client may see instead of 1153 when the server
#: closes the connection on an oversized statement before its answer is read.
_CONNECTION_LOST = (2006, 2013)
#: Below this, a lost connection is not blamed on the statement's size (MySQL's smallest default).
_LARGE_STATEMENT = 1 << 20


class ParameterEncodingError(DataError, ValueError):
    """A statement or parameter whose text cannot be sent as utf8mb4 (e.g. a lone surrogate)."""


class UnsupportedParameterType(ProgrammingError, TypeError):
    """A parameter of a type mysqlclient has no SQL literal for."""


#: Types whose `str()` mysqlclient's fallback turns into the right literal (no encoder of their own):
#: text, times, UUIDs, IP addresses and Django's lazy strings (gettext_lazy). Integers of other
#: libraries (numpy's register as numbers.Integral) are sent as their decimal text, which is right;
#: a Fraction ('1/3') or complex number is not, and is refused.
_STR_LITERAL_TYPES = (
    str,
    bytes,
    bytearray,
    datetime.time,
    uuid.UUID,
    ipaddress.IPv4Address,
    ipaddress.IPv6Address,
    ipaddress.IPv4Network,
    ipaddress.IPv6Network,
    Promise,
)
_SEQUENCE_TYPES = (list, tuple, set, frozenset)
_PLAIN = frozenset({str, int, bool, bytes, type(None)})


def _check_value(value: Any, where: str, encoders: Mapping[Any, Any]) -> None:
    kind = type(value)
    if kind in _PLAIN:
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise DataError(f"{where} is {value!r}: SingleStore has no NaN or infinite numbers.")
        return
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise DataError(f"{where} is {value!r}: SingleStore has no NaN or infinite numbers.")
        return
    if kind in encoders or isinstance(value, numbers.Integral):
        return
    if isinstance(value, _STR_LITERAL_TYPES):
        return
    if isinstance(value, _SEQUENCE_TYPES):
        for index, item in enumerate(value):
            _check_value(item, f"{where}[{index}]", encoders)
        return
    if any(base in encoders for base in kind.__mro__[1:-1]):
        return  # a subclass of an encoded type (an IntEnum, a datetime subclass)
    raise UnsupportedParameterType(
        f"{where} is a {kind.__module__}.{kind.__qualname__}, which mysqlclient cannot send (it would "
        f"send its str(), {str(value)[:40]!r}); pass a str, number, bytes, date/time, Decimal or None."
    )


def check_parameters(args: Any, encoders: Mapping[Any, Any], *, many: bool = False) -> Any:
    """Raise for a parameter mysqlclient cannot send faithfully; return `args` (materialised when
    `many` and given as an iterator, so the driver still sees every row)."""
    if args is None:
        return args
    if many:
        rows = args if isinstance(args, list | tuple) else list(args)
        for number, row in enumerate(rows):
            _check_row(row, encoders, f"row {number}, ")
        return rows
    _check_row(args, encoders, "")
    return args


def _check_row(row: Any, encoders: Mapping[Any, Any], prefix: str) -> None:
    if isinstance(row, Mapping):
        for key, value in row.items():
            _check_value(value, f"{prefix}parameter {key!r}", encoders)
    elif isinstance(row, Iterable) and not isinstance(row, str | bytes):
        for index, value in enumerate(row):
            _check_value(value, f"{prefix}parameter {index}", encoders)


def encoding_error(exc: UnicodeEncodeError) -> ParameterEncodingError:
    """A UnicodeEncodeError from the driver, as Django's DataError naming the character."""
    bad = exc.object[exc.start : exc.end] if isinstance(exc.object, str) else ""
    return ParameterEncodingError(
        f"The statement or one of its parameters holds text that cannot be sent as utf8mb4: {bad!r} "
        f"at position {exc.start} ({exc.reason}; a lone surrogate usually comes from decoding bytes "
        f"with errors='surrogateescape')."
    )


def statement_size(query: str | bytes, args: Any, *, many: bool = False) -> int:
    """About how many bytes a statement takes on the wire (its text plus its text and bytes
    parameters; for executemany, its largest row): enough to say which statement was too large."""
    text = len(query.encode("utf-8", "replace") if isinstance(query, str) else query)
    rows = args if many and args is not None else [args]
    return text + max((_payload(row) for row in rows), default=0)


def _payload(value: Any) -> int:
    if isinstance(value, str):
        return len(value.encode("utf-8", "replace"))
    if isinstance(value, bytes | bytearray):
        return len(value)
    if isinstance(value, Mapping):
        return sum(_payload(item) for item in value.values())
    if isinstance(value, list | tuple | set | frozenset):
        return sum(_payload(item) for item in value)
    return 8


def packet_too_large(exc: BaseException, statement_size: int) -> OperationalError | None:
    """Django's OperationalError naming `max_allowed_packet` when `exc` says the statement was too
    large (1153), or lost the connection right after a large one; None otherwise."""
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    code = error_code(exc)
    message = str(args[1]) if len(args) > 1 else str(exc)
    hint = (
        f" The statement was {statement_size:,} bytes. Raise the server's max_allowed_packet, or send "
        f"less per statement (e.g. bulk_create(batch_size=...))."
    )
    if code == PACKET_TOO_LARGE:
        return OperationalError(
            code, f"{message}: the statement exceeds the server's max_allowed_packet.{hint}"
        )
    if code in _CONNECTION_LOST and statement_size >= _LARGE_STATEMENT:
        return OperationalError(
            code,
            f"{message} (after a large statement: the server closes the connection on one larger "
            f"than its max_allowed_packet).{hint}",
        )
    return None
