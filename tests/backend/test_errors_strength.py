"""Every code of the error mapping, through both drivers' exception classes (issue 19: 1586 and 1690
were in INTEGRITY_CODES without a test that fails when they go)."""

from __future__ import annotations

import MySQLdb
import pymysql
import pytest
from django.db import IntegrityError, NotSupportedError, OperationalError

from django_singlestore.base import SERVER_DATA_QUERY, server_data_fallback
from django_singlestore.errors import (
    REFERENCE_TABLE_WRITE_ON_CHILD_AGGREGATOR,
    ReferenceTableWriteOnChildAggregator,
    django_exception_for,
    error_code,
)
from django_singlestore.transactions import REFERENCE_WRITE_REMEDIES

DRIVER_ERRORS = [
    MySQLdb.OperationalError,
    MySQLdb.DataError,
    pymysql.err.OperationalError,
    pymysql.err.DataError,
]


@pytest.mark.parametrize("driver_error", DRIVER_ERRORS)
@pytest.mark.parametrize(
    ("code", "text", "expected"),
    [
        (1048, "Column 'v' cannot be null", IntegrityError),
        (1062, "Duplicate entry '1' for key 'PRIMARY'", IntegrityError),
        (1364, "Field 'v' doesn't have a default value", IntegrityError),
        # PyMySQL raises 1586 as OperationalError (it maps only 1062 among the duplicate codes).
        (1586, "Duplicate entry '1' for key 'u'", IntegrityError),
        # MySQLdb raises 1690 as DataError/OperationalError; Django's MySQL backend calls it an integrity error.
        (1690, "BIGINT UNSIGNED value is out of range in '`t`.`v` - 1'", IntegrityError),
        (1706, "Feature 'SAVEPOINT' is not supported by SingleStore", NotSupportedError),
        (
            2549,
            "Writing to a reference table in multi-statement transaction is not permitted",
            ReferenceTableWriteOnChildAggregator,
        ),
    ],
)
def test_every_mapped_code_from_either_driver(driver_error, code, text, expected):
    mapped = django_exception_for(driver_error(code, text))
    assert type(mapped) is expected
    assert mapped.args == (code, text)


@pytest.mark.parametrize(
    "code", [1047, 1049, 1064, 1146, 1193, 1585, 1587, 1689, 1691, 1705, 1707, 2548, 2550]
)
def test_neighbouring_codes_are_not_mapped(code):
    assert django_exception_for(MySQLdb.OperationalError(code, "text")) is None


def test_error_code_reads_an_int_first_argument_only():
    assert error_code(MySQLdb.OperationalError(1062, "dup")) == 1062
    assert error_code(OperationalError("1062 dup")) is None
    assert error_code(OperationalError()) is None
    assert error_code(ValueError("x", 1062)) is None


def test_child_aggregator_refusal_text_keeps_the_servers_code_and_message_and_adds_the_remedies():
    server = (
        "Writing to a reference table in multi-statement transaction is not permitted on child aggregators."
    )
    assert (
        str(ReferenceTableWriteOnChildAggregator(2549, server))
        == f"(2549) {server} {REFERENCE_WRITE_REMEDIES}"
    )
    # Raised by the backend itself with only a message, or with nothing: the code is still 2549.
    assert (
        str(ReferenceTableWriteOnChildAggregator("only text"))
        == f"(2549) only text {REFERENCE_WRITE_REMEDIES}"
    )
    assert str(ReferenceTableWriteOnChildAggregator()) == f"(2549)  {REFERENCE_WRITE_REMEDIES}"
    # The code shown is the one the server sent (a proxy or a future server may send another).
    assert str(ReferenceTableWriteOnChildAggregator(1105, "m")) == f"(1105) m {REFERENCE_WRITE_REMEDIES}"
    assert REFERENCE_TABLE_WRITE_ON_CHILD_AGGREGATOR == 2549
    assert ReferenceTableWriteOnChildAggregator.remedies == REFERENCE_WRITE_REMEDIES


@pytest.mark.parametrize("driver_error", [MySQLdb.OperationalError, pymysql.err.InternalError])
def test_unknown_system_variable_1193_is_what_refuses_a_server_without_memsql_version(driver_error):
    """errors.UNKNOWN_SYSTEM_VARIABLE drives the refusal of MySQL/MariaDB; a neighbouring code does not."""
    where = {"alias": "a", "host": "db.example", "port": 3307}
    missing = driver_error(1193, "Unknown system variable 'memsql_version'")
    with pytest.raises(NotSupportedError) as info:
        server_data_fallback(SERVER_DATA_QUERY, missing, **where)
    # The backend's own text, pinned literally (not re-derived from not_singlestore_error()).
    assert str(info.value) == (
        "The server at db.example:3307 (alias 'a') is not SingleStore: it has no @@memsql_version, as MySQL "
        "and MariaDB do not. django_singlestore needs SingleStore 8.5 or later; use "
        "'django.db.backends.mysql' for MySQL or MariaDB."
    )
    for code in (1192, 1194):
        other = driver_error(code, "Unknown system variable 'memsql_version'")
        with pytest.raises(driver_error) as raised:
            server_data_fallback(SERVER_DATA_QUERY, other, **where)
        assert raised.value is other
