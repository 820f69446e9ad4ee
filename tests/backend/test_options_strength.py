"""Each OPTIONS validator's boundaries, through the connect arguments the backend builds (issue 19: the
negative-value check of `client_flag` could be dropped without a test failing)."""

from __future__ import annotations

import dataclasses

import pytest
from django.core.exceptions import ImproperlyConfigured
from MySQLdb.constants import CLIENT

from django_singlestore.base import DatabaseWrapper
from django_singlestore.options import ConnectionOptions, parse_options
from tests.dbtools import alias_settings
from tests.testbed import Endpoint

ENDPOINT = Endpoint("127.0.0.1", 3307, "u", "p", "db")


def params(**options):
    return DatabaseWrapper(alias_settings(ENDPOINT, "db", **options), "opts").get_connection_params()


def refused(message_part: str, **options) -> str:
    with pytest.raises(ImproperlyConfigured) as info:
        params(**options)
    text = str(info.value)
    assert message_part in text
    return text


@pytest.mark.parametrize("value", [-1, -(2**31), True, False, 1.0, "2", None])
def test_client_flag_must_be_a_non_negative_int(value):
    text = refused("OPTIONS['client_flag']", client_flag=value)
    assert "non-negative int" in text and repr(value) in text


@pytest.mark.parametrize("value", [0, CLIENT.COMPRESS, CLIENT.MULTI_RESULTS])
def test_client_flag_boundaries_accepted_and_found_rows_always_added(value):
    assert params(client_flag=value)["client_flag"] == value | CLIENT.FOUND_ROWS


@pytest.mark.parametrize("key", ["connect_timeout", "read_timeout", "write_timeout"])
@pytest.mark.parametrize("value", [0, -1, 1.5, "5", True, False, None])
def test_timeouts_must_be_positive_whole_seconds(key, value):
    refused(f"OPTIONS[{key!r}] must be a positive whole number of seconds", **{key: value})


@pytest.mark.parametrize("key", ["connect_timeout", "read_timeout", "write_timeout"])
def test_timeout_of_one_second_is_accepted(key):
    assert params(**{key: 1})[key] == 1


@pytest.mark.parametrize("key", ["local_infile", "compress"])
@pytest.mark.parametrize("value", [0, 1, "yes", None])
def test_flags_must_be_booleans(key, value):
    refused(f"OPTIONS[{key!r}] must be True or False", **{key: value})


@pytest.mark.parametrize("key", ["local_infile", "compress"])
@pytest.mark.parametrize("value", [True, False])
def test_flags_pass_through(key, value):
    assert params(**{key: value})[key] is value


@pytest.mark.parametrize(
    "key",
    [
        "init_command",
        "read_default_file",
        "read_default_group",
        "local_infile_dir",
        "auth_plugin",
        "server_public_key_path",
        "unix_socket",
    ],
)
def test_string_keys_refuse_non_strings_and_pass_strings_through(key):
    refused(f"OPTIONS[{key!r}] must be a string", **{key: 1})
    assert params(**{key: "v"})[key] == "v"


def test_ssl_accepts_a_bool_or_a_dict_of_known_string_keys():
    assert params(ssl=True)["ssl"] is True
    full = {"ca": "/ca", "capath": "/d", "cert": "/c", "key": "/k", "cipher": "ECDHE-RSA-AES256-GCM-SHA384"}
    assert params(ssl=full)["ssl"] == full
    refused("OPTIONS['ssl.ca'] must be a string", ssl={"ca": 1})
    text = refused("has unknown key(s) ['verify']", ssl={"ca": "/x", "verify": True})
    assert "['ca', 'capath', 'cert', 'cipher', 'key']" in text
    refused("must be a dict with keys among", ssl=["ca"])


@pytest.mark.parametrize("mode", ["disabled", "Preferred", "REQUIRED", "verify_ca", "VERIFY_IDENTITY"])
def test_ssl_mode_is_case_insensitive_and_upper_cased(mode):
    assert params(ssl_mode=mode)["ssl_mode"] == mode.upper()


@pytest.mark.parametrize("mode", [1, None, "VERIFY", ""])
def test_ssl_mode_refuses_undocumented_modes(mode):
    refused("OPTIONS['ssl_mode'] must be one of", ssl_mode=mode)


def test_charset_only_utf8mb4():
    refused("must be 'utf8mb4'", charset="utf8mb3")
    assert params(charset="utf8mb4")["charset"] == "utf8mb4"


def test_isolation_level_read_committed_in_any_case_or_none():
    for value in ("read committed", "READ COMMITTED", None):
        assert params(isolation_level=value)
    for value in ("serializable", 1, ""):
        refused("OPTIONS['isolation_level'] must be 'read committed'", isolation_level=value)


def test_app_table_storage_types_needs_non_empty_string_app_labels():
    refused("has a bad app label ''", app_table_storage_types={"": "REFERENCE"})
    refused("has a bad app label 1", app_table_storage_types={1: "REFERENCE"})
    refused("must be a dict {app_label: storage}", app_table_storage_types=[("a", "REFERENCE")])
    refused("app_table_storage_types['a']", app_table_storage_types={"a": "HEAP"})


@pytest.mark.parametrize("storage", ["COLUMNSTORE", "rowstore", "reference", " rowstore   REFERENCE "])
def test_every_documented_storage_type_is_accepted(storage):
    assert parse_options({"table_storage_type": storage}).table_storage_type == " ".join(
        storage.upper().split()
    )


def test_pool_refused_by_the_sync_backend_and_checked_by_the_async_engine():
    from django_singlestore_async.pool_config import PoolConfig

    refused("only for ENGINE 'django_singlestore_async'", pool={"max_size": 4})
    # The async engine's PoolConfig is the one pool validator (options.py passes the value through).
    with pytest.raises(ImproperlyConfigured, match="must be a dict"):
        PoolConfig.from_options(parse_options({"pool": 4}, allow_pool=True).pool)
    with pytest.raises(ImproperlyConfigured, match="size"):
        PoolConfig.from_options(parse_options({"pool": {"size": 4}}, allow_pool=True).pool)
    assert parse_options({"pool": {"max_size": 4}}, allow_pool=True).pool == {"max_size": 4}
    assert parse_options(None).driver_kwargs == {} and parse_options(None).pool is None


def test_unknown_key_message_lists_the_backend_and_driver_keys():
    text = refused("Unknown OPTIONS key 'autocommit'", autocommit=True)
    assert (
        "skip_autocommit, isolation_level, pool" in text and "client_flag" in text and "unix_socket" in text
    )


def test_charset_refused_on_either_side_of_utf8mb4_and_accepted_when_built_at_run_time():
    for value in ("utf8mb3", "utf8mb5", "latin1", "zz"):
        refused("must be 'utf8mb4'", charset=value)
    built = "".join(["utf8", "mb4"])  # equal, not the same object (e.g. read from a file)
    assert params(charset=built)["charset"] == "utf8mb4"


def test_keys_built_at_run_time_are_recognised():
    """OPTIONS read from JSON or the environment: equal keys, not the interned literals."""

    def key(*parts: str) -> str:
        return "".join(parts)

    parsed = parse_options(
        {
            key("table_storage", "_type"): "ROWSTORE",
            key("app_table", "_storage_types"): {"auth": "REFERENCE"},
            key("skip_", "autocommit"): True,
            key("isolation", "_level"): "read committed",
            key("connect", "_timeout"): 3,
        }
    )
    assert (parsed.table_storage_type, parsed.app_table_storage_types) == ("ROWSTORE", {"auth": "REFERENCE"})
    assert parsed.skip_autocommit is True and parsed.driver_kwargs == {"connect_timeout": 3}
    assert parse_options({key("po", "ol"): {"max_size": 2}}, allow_pool=True).pool == {"max_size": 2}


@pytest.mark.parametrize("name", ["abc", "a", "AUTOCOMMIT", "app_table_storage_type", "table_storage_types"])
def test_unknown_keys_near_known_ones_are_unknown(name):
    refused(f"Unknown OPTIONS key {name!r}", **{name: {}})


def test_defaults_without_the_keys():
    parsed = parse_options({})
    assert parsed.skip_autocommit is False and parsed.table_storage_type is None
    assert parsed.app_table_storage_types == {} and parsed.pool is None and parsed.driver_kwargs == {}
    assert ConnectionOptions().skip_autocommit is False


def test_pool_needs_allow_pool_passed_by_keyword():
    with pytest.raises(ImproperlyConfigured, match="only for ENGINE 'django_singlestore_async'"):
        parse_options({"pool": {"max_size": 4}})
    with pytest.raises(TypeError):
        parse_options({"pool": {"max_size": 4}}, True)  # type: ignore[misc]


def test_parsed_options_cannot_be_changed_after_validation():
    parsed = parse_options({"skip_autocommit": True})
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.skip_autocommit = False  # type: ignore[misc]
