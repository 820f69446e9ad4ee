"""The sync backend's mysqlclient parameters, translated for aiomysql (no server needed)."""

from __future__ import annotations

import datetime
import ssl

import pytest
from django.core.exceptions import ImproperlyConfigured
from MySQLdb.constants import CLIENT
from pymysql.constants import FIELD_TYPE

from django_singlestore_async.driver import Connection, aiomysql_params, conversions


def test_names_timeouts_and_flags_are_translated() -> None:
    params = aiomysql_params(
        {
            "conv": object(),
            "host": "h",
            "port": 3307,
            "user": "u",
            "password": "p",
            "database": "d",
            "charset": "utf8mb4",
            "client_flag": CLIENT.FOUND_ROWS,
            "connect_timeout": 3,
            "read_timeout": 7,
            "write_timeout": 2,
            "init_command": "SET @x = 1",
        }
    )
    kw = params.connect_kwargs
    assert kw["db"] == "d" and "database" not in kw and kw["charset"] == "utf8mb4"
    assert kw["client_flag"] & CLIENT.FOUND_ROWS and kw["autocommit"] is True
    assert kw["init_command"] == "SET @x = 1" and kw["connect_timeout"] == 3
    assert "read_timeout" not in kw and "write_timeout" not in kw  # aiomysql has none: the pool enforces them
    assert (params.connect_timeout, params.read_timeout, params.write_timeout) == (3, 7, 2)
    assert kw["conv"][FIELD_TYPE.TIME] is not None and "ssl" not in kw and not params.ssl_required


def test_ssl_dict_becomes_a_context_and_preferred_is_not_required() -> None:
    required = aiomysql_params({"ssl": {}, "ssl_mode": "REQUIRED"})
    assert isinstance(required.connect_kwargs["ssl"], ssl.SSLContext) and required.ssl_required
    preferred = aiomysql_params({"ssl_mode": "PREFERRED"})
    assert isinstance(preferred.connect_kwargs["ssl"], ssl.SSLContext) and not preferred.ssl_required


@pytest.mark.parametrize("key", ["compress", "local_infile_dir"])
def test_options_aiomysql_cannot_honour_are_refused(key: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=key):
        aiomysql_params({key: True if key == "compress" else "/tmp"})


def test_decoders_match_mysqlclient_with_django_conversions() -> None:
    conv = conversions()
    assert conv[FIELD_TYPE.TIME]("13:14:15.000016") == datetime.time(13, 14, 15, 16)
    assert conv[FIELD_TYPE.DATETIME]("2024-01-02 03:04:05.000006") == datetime.datetime(
        2024, 1, 2, 3, 4, 5, 6
    )
    assert conv[FIELD_TYPE.DATETIME]("0000-00-00 00:00:00") is None  # mysqlclient: None, PyMySQL: the text
    assert conv[FIELD_TYPE.DATE]("0000-00-00") is None
    assert conv[FIELD_TYPE.TIMESTAMP]("0000-00-00 00:00:00") is None


def test_bytes_are_escaped_without_an_introducer() -> None:
    conn = Connection.__new__(Connection)  # escape() needs no socket for bytes
    conn._writer = None
    assert conn.escape(b"a'\x00") == "'a\\'\\0'"
    assert conn.escape(memoryview(b"x")) == "'x'"
