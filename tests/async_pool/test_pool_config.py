"""OPTIONS["pool"] validation and the ssl dict -> SSLContext translation (no server needed)."""

from __future__ import annotations

import ssl

import pytest
from django.core.exceptions import ImproperlyConfigured

from django_singlestore_async.driver import ssl_context
from django_singlestore_async.pool import PoolConfig

DOCUMENTED_KEYS = {
    "min_size",
    "max_size",
    "timeout",
    "max_waiting",
    "max_lifetime",
    "max_idle",
    "pre_ping",
    "pre_ping_after_idle",
    "lifo",
    "kill_on_cancel",
}


def test_the_pool_keys_are_exactly_the_documented_ones() -> None:
    assert PoolConfig.keys() == DOCUMENTED_KEYS


def test_an_empty_dict_or_no_key_means_defaults_and_true_is_refused() -> None:
    assert PoolConfig.from_options({}) == PoolConfig()
    assert PoolConfig.from_options(None) == PoolConfig()
    assert PoolConfig.from_options({"max_size": 3}).max_size == 3
    with pytest.raises(ImproperlyConfigured, match=r'OPTIONS\["pool"\] must be a dict'):
        PoolConfig.from_options(True)


def test_documented_defaults_of_the_fault_handling_keys() -> None:
    config = PoolConfig()
    assert config.kill_on_cancel is True and config.pre_ping_after_idle == 1.0
    assert PoolConfig.from_options({"pre_ping_after_idle": 0}).pre_ping_after_idle == 0


def test_engine_defaults_fill_only_missing_keys() -> None:
    assert PoolConfig.from_options({}, pre_ping=True).pre_ping is True
    assert PoolConfig.from_options({"pre_ping": False}, pre_ping=True).pre_ping is False


def test_unknown_key_is_named() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"unknown key 'pool_recycle'"):
        PoolConfig.from_options({"pool_recycle": 30})


def test_not_a_dict_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"must be a dict"):
        PoolConfig.from_options(5)


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"max_size": 0}, "max_size"),
        ({"min_size": -1}, "min_size"),
        ({"min_size": 5, "max_size": 2}, "min_size"),
        ({"max_size": 2.5}, "max_size"),
        ({"max_waiting": True}, "max_waiting"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": None}, "timeout"),
        ({"max_lifetime": -1}, "max_lifetime"),
        ({"max_idle": "600"}, "max_idle"),
        ({"pre_ping": 1}, "pre_ping"),
        ({"lifo": "yes"}, "lifo"),
        ({"kill_on_cancel": None}, "kill_on_cancel"),
        ({"pre_ping_after_idle": -0.5}, "pre_ping_after_idle"),
        ({"pre_ping_after_idle": None}, "pre_ping_after_idle"),
    ]
    + [
        ({key: bad}, key)
        for key in ("timeout", "max_lifetime", "max_idle", "pre_ping_after_idle")
        for bad in (float("nan"), float("inf"), float("-inf"))
    ],
)
def test_bad_values_name_their_key(options: dict[str, object], key: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=rf'\["{key}"\]'):
        PoolConfig.from_options(options)


def test_lifetime_and_idle_may_be_unbounded() -> None:
    config = PoolConfig.from_options({"max_lifetime": None, "max_idle": None})
    assert config.max_lifetime is None and config.max_idle is None


def test_no_ssl_is_plain_tcp() -> None:
    assert ssl_context(None) is None
    assert ssl_context({}) is None
    assert ssl_context({"ca": "/nonexistent"}, "DISABLED") is None


def test_ssl_without_ca_encrypts_without_verifying() -> None:
    context = ssl_context(True)
    assert context is not None
    assert context.verify_mode == ssl.CERT_NONE and not context.check_hostname


def test_ssl_with_ca_verifies_the_certificate_but_not_the_host(tmp_path: object) -> None:
    ca = ssl.get_default_verify_paths().cafile
    if ca is None:
        pytest.skip("environment: no system CA bundle file to load")
    context = ssl_context({"ca": ca})
    assert context is not None
    assert context.verify_mode == ssl.CERT_REQUIRED and not context.check_hostname
    identity = ssl_context({"ca": ca}, "verify_identity")
    assert identity is not None and identity.check_hostname


def test_ssl_unknown_key_and_mode_are_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="'capth'"):
        ssl_context({"capth": "/x"})
    with pytest.raises(ImproperlyConfigured, match="ssl_mode"):
        ssl_context({}, "SOMETIMES")


def test_a_remembered_config_is_not_reused_for_an_equal_value_of_another_type() -> None:
    """Valid configs are remembered by value for the per-call wrappers; 1 == True == 1.0 in Python,
    but only the integer is a valid size, whichever was seen first."""
    assert PoolConfig.from_options({"max_size": 1}).max_size == 1
    for bad in (True, 1.0):
        with pytest.raises(ImproperlyConfigured, match=r'OPTIONS\["pool"\]\["max_size"\]'):
            PoolConfig.from_options({"max_size": bad})
    assert PoolConfig.from_options({"max_size": 3}) is PoolConfig.from_options({"max_size": 3})
    assert PoolConfig.from_options(None, pre_ping=True).pre_ping is True
    assert PoolConfig.from_options(None, pre_ping=False).pre_ping is False
