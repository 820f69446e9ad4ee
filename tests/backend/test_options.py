"""OPTIONS validation and the connect arguments handed to mysqlclient (no server)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from MySQLdb.constants import CLIENT

from django_singlestore.base import DatabaseWrapper
from django_singlestore.options import parse_options
from tests.dbtools import alias_settings
from tests.testbed import Endpoint

ENDPOINT = Endpoint("127.0.0.1", 3307, "u", "p", "db")


def params(**options):
    return DatabaseWrapper(alias_settings(ENDPOINT, "db", **options), "opts").get_connection_params()


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"bogus": 1}, "'bogus'"),
        ({"table_storage_type": "COLUMNSTORE TABLE"}, "'table_storage_type'"),
        ({"table_storage_type": 3}, "'table_storage_type'"),
        ({"app_table_storage_types": {"auth": "HEAP"}}, "app_table_storage_types['auth']"),
        ({"app_table_storage_types": ["auth"]}, "'app_table_storage_types'"),
        ({"skip_autocommit": "yes"}, "'skip_autocommit'"),
        ({"isolation_level": "repeatable read"}, "'isolation_level'"),
        ({"connect_timeout": 0}, "'connect_timeout'"),
        ({"read_timeout": 2.5}, "'read_timeout'"),
        ({"write_timeout": True}, "'write_timeout'"),
        ({"ssl": {"ca": "/x", "verify": True}}, "'ssl'"),
        ({"ssl": "on"}, "'ssl'"),
        ({"ssl_mode": "SOMETIMES"}, "'ssl_mode'"),
        ({"charset": "utf8"}, "'charset'"),
        ({"pool": {"max_size": 4}}, "'pool'"),
        ({"autocommit": False}, "'autocommit'"),
    ],
)
def test_bad_option_raises_improperly_configured_naming_the_key(options, named):
    with pytest.raises(ImproperlyConfigured) as info:
        params(**options)
    assert named in str(info.value)


def test_backend_keys_are_parsed_and_never_reach_the_driver():
    parsed = parse_options(
        {
            "table_storage_type": "rowstore   reference",
            "app_table_storage_types": {"auth": "reference"},
            "skip_autocommit": True,
            "isolation_level": "READ COMMITTED",
        }
    )
    assert parsed.table_storage_type == "ROWSTORE REFERENCE"
    assert parsed.app_table_storage_types == {"auth": "REFERENCE"}
    assert parsed.skip_autocommit is True
    assert parsed.driver_kwargs == {}


def test_pool_is_accepted_by_the_async_engine_and_removed_before_connecting():
    class AsyncLike(DatabaseWrapper):
        accepts_pool_option = True

    wrapper = AsyncLike(alias_settings(ENDPOINT, "db", pool={"max_size": 4, "pre_ping": True}), "a")
    kwargs = wrapper.get_connection_params()
    assert "pool" not in kwargs
    assert wrapper.singlestore_options.pool == {"max_size": 4, "pre_ping": True}
    # What the dict may hold is the async engine's PoolConfig's business (one validator).
    from django_singlestore_async.base import DatabaseWrapper as AsyncWrapper

    for bad in ({"size": 4}, True):
        with pytest.raises(ImproperlyConfigured, match="OPTIONS"):
            AsyncWrapper(alias_settings(ENDPOINT, "db", pool=bad), "b").get_connection_params()


def test_connect_arguments():
    kwargs = params(
        ssl={"ca": "/etc/ca.pem"},
        connect_timeout=5,
        read_timeout=30,
        write_timeout=31,
        init_command="SET @x = 1",
        table_storage_type="ROWSTORE",
    )
    assert kwargs["charset"] == "utf8mb4"
    assert kwargs["client_flag"] & CLIENT.FOUND_ROWS
    assert kwargs["ssl"] == {"ca": "/etc/ca.pem"}
    assert (kwargs["connect_timeout"], kwargs["read_timeout"], kwargs["write_timeout"]) == (5, 30, 31)
    assert kwargs["init_command"] == "SET @x = 1"
    assert (kwargs["host"], kwargs["port"], kwargs["user"], kwargs["password"], kwargs["database"]) == (
        "127.0.0.1",
        3307,
        "u",
        "p",
        "db",
    )
    assert "table_storage_type" not in kwargs


def test_charset_utf8mb4_and_found_rows_even_when_client_flag_is_given():
    kwargs = params(charset="utf8mb4", client_flag=CLIENT.COMPRESS)
    assert kwargs["charset"] == "utf8mb4"
    assert kwargs["client_flag"] & CLIENT.FOUND_ROWS and kwargs["client_flag"] & CLIENT.COMPRESS


def test_unix_socket_host():
    settings_dict = alias_settings(ENDPOINT, "db")
    settings_dict["HOST"] = "/run/s2.sock"
    kwargs = DatabaseWrapper(settings_dict, "sock").get_connection_params()
    assert kwargs["unix_socket"] == "/run/s2.sock" and "host" not in kwargs
