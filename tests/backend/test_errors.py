"""The shared error mapping (errors.py) and its use by the sync cursor."""

from __future__ import annotations

import MySQLdb
import pytest
from django.db import IntegrityError, NotSupportedError, OperationalError

from django_singlestore.base import CursorWrapper
from django_singlestore.errors import ReferenceTableWriteOnChildAggregator, django_exception_for


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (1706, NotSupportedError),
        (2549, ReferenceTableWriteOnChildAggregator),
        (1062, IntegrityError),
        (1048, IntegrityError),
        (1364, IntegrityError),
    ],
)
def test_codes_map_to_django_exceptions(code, expected):
    mapped = django_exception_for(MySQLdb.OperationalError(code, "text"))
    assert type(mapped) is expected
    assert mapped.args == (code, "text")


def test_child_aggregator_refusal_is_an_operational_error():
    assert issubclass(ReferenceTableWriteOnChildAggregator, OperationalError)


def test_other_codes_are_left_to_djangos_wrapper():
    assert django_exception_for(MySQLdb.ProgrammingError(1064, "syntax")) is None
    assert django_exception_for(ValueError("no code")) is None


class FailingCursor:
    def __init__(self, exc):
        self.exc = exc

    def execute(self, query, args=None):
        raise self.exc

    def executemany(self, query, args):
        raise self.exc


def test_cursor_raises_the_mapped_exception_from_the_driver_error():
    driver_error = MySQLdb.OperationalError(1706, "Feature 'SAVEPOINT' is not supported by SingleStore")
    with pytest.raises(NotSupportedError) as info:
        CursorWrapper(FailingCursor(driver_error)).execute("SAVEPOINT s")
    assert info.value.__cause__ is driver_error
    with pytest.raises(IntegrityError):
        CursorWrapper(FailingCursor(MySQLdb.IntegrityError(1062, "dup"))).executemany("INSERT", [()])
    unmapped = MySQLdb.ProgrammingError(1064, "syntax")
    with pytest.raises(MySQLdb.ProgrammingError):
        CursorWrapper(FailingCursor(unmapped)).execute("x")
