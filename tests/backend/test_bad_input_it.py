"""Bad input on the sync path (issue #14 item 6): parameters mysqlclient cannot send faithfully and
statements larger than max_allowed_packet give errors of Django's DatabaseError family naming the cause.
(A server that is not SingleStore: tests/backend/test_connection_it.py; model shapes: system checks in
tests/backend/test_checks.py.)"""

from __future__ import annotations

import datetime
import decimal
import enum
import fractions
import ipaddress
import uuid
from typing import Any

import pytest
from django.db import DatabaseError, DataError, OperationalError, ProgrammingError
from django.utils.translation import gettext_lazy

from django_singlestore.parameters import ParameterEncodingError, UnsupportedParameterType
from tests.dbtools import run_admin_sql


class Colour(enum.IntEnum):
    RED = 1


def test_a_lone_surrogate_is_a_data_error_naming_the_character(s2: Any) -> None:
    with pytest.raises(ParameterEncodingError) as info, s2.cursor() as cursor:
        cursor.execute("SELECT %s", ["ok \ud800 there"])
    assert isinstance(info.value, DataError)
    assert "'\\ud800'" in str(info.value) and "utf8mb4" in str(info.value)


def test_a_lone_surrogate_in_the_statement_text_is_a_data_error(s2: Any) -> None:
    with pytest.raises(ParameterEncodingError, match="cannot be sent as utf8mb4"), s2.cursor() as cursor:
        cursor.execute("SELECT '\udcff'")


@pytest.mark.parametrize(
    ("value", "named"),
    [
        (object(), "builtins.object"),
        (memoryview(b"abc"), "builtins.memoryview"),
        (1 + 2j, "builtins.complex"),
        (fractions.Fraction(1, 3), "fractions.Fraction"),
        ([1, object()], "parameter 0[1] is a builtins.object"),
    ],
)
def test_an_unsupported_type_is_a_programming_error_naming_it(s2: Any, value: Any, named: str) -> None:
    with pytest.raises(UnsupportedParameterType) as info, s2.cursor() as cursor:
        cursor.execute("SELECT %s", [value])
    assert isinstance(info.value, ProgrammingError)
    assert named in str(info.value) and "mysqlclient cannot send" in str(info.value)


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), decimal.Decimal("-Infinity"), decimal.Decimal("NaN")]
)
def test_nan_and_infinity_are_data_errors(s2: Any, value: Any) -> None:
    with pytest.raises(DataError, match="no NaN or infinite numbers"), s2.cursor() as cursor:
        cursor.execute("SELECT %s", [value])


def test_executemany_checks_every_row_and_accepts_an_iterator(s2: Any) -> None:
    with s2.cursor() as cursor:
        cursor.execute("CREATE TABLE rows_ (id BIGINT PRIMARY KEY, v VARCHAR(20))")
        cursor.executemany("INSERT INTO rows_ VALUES (%s, %s)", ((i, str(i)) for i in range(3)))
        cursor.execute("SELECT COUNT(*) FROM rows_")
        assert cursor.fetchone() == (3,)
        with pytest.raises(UnsupportedParameterType, match=r"row 1, parameter 1 is a builtins\.object"):
            cursor.executemany("INSERT INTO rows_ VALUES (%s, %s)", [(10, "a"), (11, object())])
        cursor.execute("SELECT COUNT(*) FROM rows_")
        assert cursor.fetchone() == (3,)  # nothing of the refused batch was sent


def test_the_types_mysqlclient_sends_faithfully_still_work(s2: Any) -> None:
    values = [
        "text",
        b"bytes",
        7,
        Colour.RED,
        True,
        1.5,
        decimal.Decimal("2.50"),
        None,
        datetime.date(2020, 1, 2),
        datetime.datetime(2020, 1, 2, 3, 4, 5),
        datetime.time(3, 4, 5),
        datetime.timedelta(seconds=5),
        uuid.UUID(int=1),
        gettext_lazy("lazy"),
        ipaddress.ip_address("10.0.0.1"),
    ]
    with s2.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(["%s"] * len(values)), values)
        row = cursor.fetchone()
        cursor.execute("SELECT 2 IN %s", [(1, 2, 3)])
        assert cursor.fetchone() == (1,)
    assert row[0] == "text" and row[2] == 7 and str(row[3]) == "1" and row[7] is None
    assert row[12] == str(uuid.UUID(int=1))
    assert row[13:] == ("lazy", "10.0.0.1")


def test_a_statement_over_max_allowed_packet_names_the_setting(
    s2: Any, make_alias: Any, testbed: Any
) -> None:
    with s2.cursor() as cursor:
        cursor.execute("SELECT @@max_allowed_packet")
        original = int(cursor.fetchone()[0])
        cursor.execute("CREATE TABLE big (id BIGINT PRIMARY KEY, b LONGTEXT)")
    # The session value is read-only; a new connection takes the global one.
    run_admin_sql(testbed.master, "SET GLOBAL max_allowed_packet = 1048576")
    try:
        small = make_alias("small_packets")
        small.ensure_connection()
    finally:
        run_admin_sql(testbed.master, f"SET GLOBAL max_allowed_packet = {original}")
    with pytest.raises(OperationalError) as info, small.cursor() as cursor:
        cursor.execute("INSERT INTO big VALUES (1, %s)", ["x" * (2 << 20)])
    text = str(info.value)
    assert "max_allowed_packet" in text and "2,097,1" in text, text
    assert isinstance(info.value, DatabaseError)
