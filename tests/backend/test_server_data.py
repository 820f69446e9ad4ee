"""The driver-neutral server-data rules both engines use (`read_server_data`, `server_data_fallback`,
`not_singlestore_error`), on scripted answers: no server I/O."""

from __future__ import annotations

from typing import Any

import MySQLdb
import pymysql
import pytest
from django.db import DatabaseError, NotSupportedError, OperationalError

from django_singlestore.base import (
    SERVER_DATA_QUERY,
    SERVER_DATA_QUERY_BASIC,
    not_singlestore_error,
    read_server_data,
    server_data_fallback,
)

WHERE = {"alias": "sd_unit", "host": "db.example", "port": 3307}


class Script:
    """`execute(sql) -> row` answering from a list (a row, or an exception to raise)."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.sent: list[str] = []

    def __call__(self, sql: str) -> Any:
        self.sent.append(sql)
        answer = self.answers[len(self.sent) - 1]
        if isinstance(answer, BaseException):
            raise answer
        return answer


# Each driver's exception class for the same server error: the rules only read args (code, message).
DRIVER_ERRORS = [OperationalError, MySQLdb.OperationalError, pymysql.err.OperationalError]


def test_the_full_query_answers_in_one_round_trip():
    script = Script(("8.9.3", "STRICT_ALL_TABLES,ONLY_FULL_GROUP_BY", "self", 0))
    data = read_server_data(script, **WHERE)
    assert script.sent == [SERVER_DATA_QUERY]
    assert data.version == (8, 9, 3) and data.aggregator_role == "master" and data.aggregator_id == 0
    assert data.sql_mode == {"STRICT_ALL_TABLES", "ONLY_FULL_GROUP_BY"}


@pytest.mark.parametrize("error_class", DRIVER_ERRORS)
@pytest.mark.parametrize("variable", ["master_aggregator", "aggregator_id"])
def test_a_missing_aggregator_variable_falls_back_to_the_basic_query(error_class, variable):
    script = Script(
        error_class(1193, f"Unknown system variable '{variable}'"), ("8.9.3", "STRICT_ALL_TABLES")
    )
    data = read_server_data(script, **WHERE)
    assert script.sent == [SERVER_DATA_QUERY, SERVER_DATA_QUERY_BASIC]
    assert data.version == (8, 9, 3) and data.aggregator_role == "unknown" and data.aggregator_id is None


@pytest.mark.parametrize("error_class", DRIVER_ERRORS)
def test_no_memsql_version_is_the_one_refusal_without_a_fallback(error_class):
    missing = error_class(1193, "Unknown system variable 'memsql_version'")
    script = Script(missing)
    with pytest.raises(NotSupportedError) as info:
        read_server_data(script, **WHERE)
    assert script.sent == [SERVER_DATA_QUERY]
    assert info.value.__cause__ is missing
    assert str(info.value) == str(not_singlestore_error(**WHERE))
    text = str(info.value)
    assert "db.example:3307" in text and "'sd_unit'" in text and "is not SingleStore" in text
    assert "django.db.backends.mysql" in text


def test_the_basic_query_refused_too_is_a_refusal():
    script = Script(
        OperationalError(1193, "Unknown system variable 'aggregator_id'"),
        OperationalError(1193, "Unknown system variable 'sql_mode'"),
    )
    with pytest.raises(NotSupportedError, match="is not SingleStore"):
        read_server_data(script, **WHERE)
    assert script.sent == [SERVER_DATA_QUERY, SERVER_DATA_QUERY_BASIC]


@pytest.mark.parametrize("error_class", DRIVER_ERRORS)
def test_other_errors_reach_the_caller_unchanged(error_class):
    denied = error_class(1227, "Access denied")
    with pytest.raises(error_class) as info:
        read_server_data(Script(denied), **WHERE)
    assert info.value is denied
    with pytest.raises(error_class):
        server_data_fallback(SERVER_DATA_QUERY_BASIC, denied, **WHERE)


def test_no_row_is_an_error_not_a_crash():
    with pytest.raises(DatabaseError, match="without a row"):
        read_server_data(Script(None), **WHERE)


def test_the_refusal_defaults_an_empty_address_like_the_driver():
    assert "localhost:3306" in str(not_singlestore_error("x", "", ""))
