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


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize("key", ["connect_timeout", "read_timeout", "write_timeout"])
def test_nan_and_infinite_timeouts_are_refused_naming_the_key(key, bad):
    with pytest.raises(ImproperlyConfigured, match=rf"OPTIONS\['{key}'\]"):
        params(**{key: bad})


@pytest.mark.parametrize("engine", ["django_singlestore", "django_singlestore_async"])
@pytest.mark.parametrize("options", [["ssl"], "ssl=1", 3, [("a", 1, 2)]])
def test_options_that_is_not_a_mapping_names_the_alias(engine, options):
    from django.db.utils import load_backend

    settings_dict = alias_settings(ENDPOINT, "db", engine=engine)
    settings_dict["OPTIONS"] = options
    wrapper = load_backend(engine).DatabaseWrapper(settings_dict, "not_a_dict")
    with pytest.raises(ImproperlyConfigured, match=r"DATABASES\['not_a_dict'\]\['OPTIONS'\] must be a dict"):
        wrapper.get_connection_params()


def test_multi_statements_is_off_unless_opted_in():
    assert params()["multi_statements"] is False
    assert not params()["client_flag"] & CLIENT.MULTI_STATEMENTS
    assert params(multi_statements=True)["multi_statements"] is True
    with pytest.raises(ImproperlyConfigured, match=r"OPTIONS\['multi_statements'\] must be True or False"):
        params(multi_statements=1)
    with pytest.raises(ImproperlyConfigured, match=r"OPTIONS\['client_flag'\] sets CLIENT.MULTI_STATEMENTS"):
        params(client_flag=CLIENT.MULTI_STATEMENTS | CLIENT.COMPRESS)
    assert params(client_flag=CLIENT.MULTI_STATEMENTS, multi_statements=True)["client_flag"] & (
        CLIENT.MULTI_STATEMENTS
    )


def test_the_async_connect_kwargs_carry_multi_statements():
    """The flag itself is checked against the server in tests/security/test_multi_statements.py."""
    from django_singlestore_async.driver import aiomysql_params

    assert aiomysql_params(params()).connect_kwargs["multi_statements"] is False
    assert aiomysql_params(params(multi_statements=True)).connect_kwargs["multi_statements"] is True
