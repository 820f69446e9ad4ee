"""`DATABASES[alias]["OPTIONS"]` and the backend's environment variables: the one reader of both.

Unknown keys and bad values raise `ImproperlyConfigured` naming the key (or the variable). The
driver's own connect arguments pass through on an allow-list (interfaces.md). The async engine reuses
`parse_options` with `allow_pool=True` and validates the `pool` value itself (`PoolConfig`); the sync
backend refuses the key. The environment variables
(interfaces.md) are read here and nowhere else: `DJANGO_SINGLESTORE_SKIP_AUTOCOMMIT` once, when the
alias's options are parsed; `DJANGO_SINGLESTORE_TABLE_STORAGE_TYPE_<APP>` and
`DJANGO_SINGLESTORE_NOT_ENFORCED_UNIQUE_<APP>` each time a table's layout is resolved (as before: a
variable set while the process runs applies to the next migration).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from django_singlestore.storage import Storage

__all__ = [
    "DRIVER_OPTION_KEYS",
    "NOT_ENFORCED_UNIQUE_ENV_PREFIX",
    "SKIP_AUTOCOMMIT_ENV",
    "STORAGE_ENV_PREFIX",
    "STORAGE_TYPES",
    "ConnectionOptions",
    "normalize_storage",
    "normalize_storage_type",
    "parse_options",
    "parse_skip_autocommit_env",
]

#: Process-wide default for skip_autocommit (kept from the original README); OPTIONS wins over it.
SKIP_AUTOCOMMIT_ENV = "DJANGO_SINGLESTORE_SKIP_AUTOCOMMIT"
#: `<prefix><APP_LABEL upper-cased>`: an app's table storage, below OPTIONS["app_table_storage_types"].
STORAGE_ENV_PREFIX = "DJANGO_SINGLESTORE_TABLE_STORAGE_TYPE_"
#: `<prefix><APP_LABEL upper-cased>`: the original README's test-only UNENFORCED RELY switch.
NOT_ENFORCED_UNIQUE_ENV_PREFIX = "DJANGO_SINGLESTORE_NOT_ENFORCED_UNIQUE_"

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})

#: The table storage kinds SingleStore documents (CREATE [ROWSTORE] [REFERENCE] TABLE), as spelled.
STORAGE_TYPES = tuple(storage.value for storage in Storage)

_SSL_KEYS = frozenset({"ca", "capath", "cert", "key", "cipher"})
_SSL_MODES = frozenset({"DISABLED", "PREFERRED", "REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY"})
_TIMEOUT_KEYS = ("connect_timeout", "read_timeout", "write_timeout")

#: CLIENT_MULTI_STATEMENTS of the MySQL protocol (MySQLdb's and PyMySQL's CLIENT.MULTI_STATEMENTS).
CLIENT_MULTI_STATEMENTS = 1 << 16


def _str(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ImproperlyConfigured(f"OPTIONS[{key!r}] must be a string, not {value!r}.")
    return value


def _bool(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ImproperlyConfigured(f"OPTIONS[{key!r}] must be True or False, not {value!r}.")
    return value


def _timeout(key: str, value: Any) -> int:
    # mysqlclient takes whole seconds (an unsigned int in the C API).
    _finite(key, value)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ImproperlyConfigured(
            f"OPTIONS[{key!r}] must be a positive whole number of seconds, not {value!r}."
        )
    return value


def _finite(key: str, value: Any) -> Any:
    """NaN and the infinities are refused wherever a number is accepted: `timeout=nan` would make every
    comparison false (an acquire that can never succeed), `inf` a wait that never ends."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ImproperlyConfigured(f"OPTIONS[{key!r}] must be a finite number, not {value!r}.")
    return value


def _ssl(key: str, value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if not isinstance(value, Mapping):
        raise ImproperlyConfigured(
            f"OPTIONS[{key!r}] must be a dict with keys among {sorted(_SSL_KEYS)} (or True), not {value!r}."
        )
    unknown = sorted(set(value) - _SSL_KEYS)
    if unknown:
        raise ImproperlyConfigured(
            f"OPTIONS[{key!r}] has unknown key(s) {unknown}; mysqlclient accepts {sorted(_SSL_KEYS)}."
        )
    for sub, item in value.items():
        _str(f"{key}.{sub}", item)
    return dict(value)


def _ssl_mode(key: str, value: Any) -> str:
    if not isinstance(value, str) or value.upper() not in _SSL_MODES:
        raise ImproperlyConfigured(f"OPTIONS[{key!r}] must be one of {sorted(_SSL_MODES)}, not {value!r}.")
    return value.upper()


def _charset(key: str, value: Any) -> str:
    if value != "utf8mb4":
        raise ImproperlyConfigured(
            f"OPTIONS[{key!r}] must be 'utf8mb4' (the backend always connects with utf8mb4; "
            f"SingleStore's server default utf8 cannot store 4-byte characters), not {value!r}."
        )
    return value


def _client_flag(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ImproperlyConfigured(
            f"OPTIONS[{key!r}] must be a non-negative int of CLIENT flags, not {value!r}."
        )
    return value


#: mysqlclient connect arguments users may pass through, each with its validator.
DRIVER_OPTION_KEYS = {
    "ssl": _ssl,
    "ssl_mode": _ssl_mode,
    "init_command": _str,
    "read_default_file": _str,
    "read_default_group": _str,
    "connect_timeout": _timeout,
    "read_timeout": _timeout,
    "write_timeout": _timeout,
    "charset": _charset,
    "local_infile": _bool,
    "local_infile_dir": _str,
    "compress": _bool,
    "auth_plugin": _str,
    "server_public_key_path": _str,
    "client_flag": _client_flag,
    "unix_socket": _str,
}


def normalize_storage(value: Any, where: str) -> Storage:
    """`Storage.parse`: `"rowstore  reference"` -> Storage.ROWSTORE_REFERENCE; anything else is refused
    with ImproperlyConfigured naming `where` (the setting, env var or manager it came from)."""
    return Storage.parse(value, where)


def normalize_storage_type(key: str, value: Any) -> Storage:
    """`normalize_storage` for the OPTIONS key `key`."""
    return normalize_storage(value, f"OPTIONS[{key!r}]")


def parse_skip_autocommit_env(value: str | None) -> bool | None:
    """`DJANGO_SINGLESTORE_SKIP_AUTOCOMMIT`'s meaning: True, False, or None when unset. Anything
    unrecognised raises ImproperlyConfigured naming the variable."""
    if value is None:
        return None
    normal = value.strip().lower()
    if normal in _TRUE:
        return True
    if normal in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{SKIP_AUTOCOMMIT_ENV}={value!r} is not understood: use 1, true, yes or on to skip autocommit "
        f"toggling, and 0, false, no, off or an empty value (or leave it unset) to use transactions."
    )


@dataclass(frozen=True)
class ConnectionOptions:
    """One alias's OPTIONS and environment, validated: the backend's settings and the driver's
    connect kwargs. `ConnectionOptions()` is an alias with empty OPTIONS (still reading the process
    environment), for code that resolves a layout without a connection."""

    driver_kwargs: dict[str, Any] = field(default_factory=dict)
    table_storage_type: Storage | None = None
    app_table_storage_types: dict[str, Storage] = field(default_factory=dict)
    skip_autocommit: bool = False
    #: Where skip_autocommit came from: "OPTIONS", SKIP_AUTOCOMMIT_ENV, or "default".
    skip_autocommit_source: str = "default"
    pool: object = None  # OPTIONS["pool"] as given: the async engine's PoolConfig validates it
    #: Several statements per round trip (CLIENT_MULTI_STATEMENTS): off unless the user opts in.
    multi_statements: bool = False
    #: The environment the per-app variables are read from (the live `os.environ` by default).
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ, repr=False, compare=False)

    def app_storage(self, app_label: str) -> tuple[Storage, str] | None:
        """(storage, where it came from) for `app_label`'s tables from the settings, by precedence:
        OPTIONS["app_table_storage_types"] > DJANGO_SINGLESTORE_TABLE_STORAGE_TYPE_<APP> >
        OPTIONS["table_storage_type"]; None when none of them says."""
        if app_label in self.app_table_storage_types:
            return self.app_table_storage_types[app_label], "OPTIONS app_table_storage_types"
        env_name = STORAGE_ENV_PREFIX + app_label.upper()
        env_value = self.environ.get(env_name)
        if env_value:
            return normalize_storage(env_value, env_name), env_name
        if self.table_storage_type:
            return self.table_storage_type, "OPTIONS table_storage_type"
        return None

    def unique_not_enforced(self, app_label: str) -> bool:
        """`DJANGO_SINGLESTORE_NOT_ENFORCED_UNIQUE_<APP>` set to a true value (1, true, yes, on):
        write `app_label`'s single-field uniques as `UNIQUE KEY ... UNENFORCED RELY`."""
        value = self.environ.get(NOT_ENFORCED_UNIQUE_ENV_PREFIX + app_label.upper(), "")
        return value.strip().lower() in _TRUE


def parse_options(
    options: Mapping[str, Any] | None,
    *,
    allow_pool: bool = False,
    alias: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> ConnectionOptions:
    """Validate an alias's OPTIONS and the backend's environment variables (`environ`, by default
    `os.environ`); raise ImproperlyConfigured naming the first bad key or variable (and the alias, when
    OPTIONS itself is not a mapping)."""
    environ = os.environ if environ is None else environ
    if options is not None and not isinstance(options, Mapping):
        where = f"DATABASES[{alias!r}]['OPTIONS']" if alias is not None else "OPTIONS"
        raise ImproperlyConfigured(f"{where} must be a dict, not {type(options).__name__} {options!r}.")
    options = dict(options or {})
    driver: dict[str, Any] = {}
    storage = None
    app_storage: dict[str, Storage] = {}
    # A bad variable is refused even where OPTIONS decides: the process configuration is wrong.
    skip_env = parse_skip_autocommit_env(environ.get(SKIP_AUTOCOMMIT_ENV))
    skip_autocommit, skip_source = (False, "default") if skip_env is None else (skip_env, SKIP_AUTOCOMMIT_ENV)
    pool = None
    multi_statements = False
    for key, value in options.items():
        if not isinstance(key, str):
            raise ImproperlyConfigured(f"OPTIONS keys must be strings, not {key!r}.")
        if key == "table_storage_type":
            storage = normalize_storage_type(key, value)
        elif key == "app_table_storage_types":
            if not isinstance(value, Mapping):
                raise ImproperlyConfigured(
                    f"OPTIONS[{key!r}] must be a dict {{app_label: storage}}, not {value!r}."
                )
            for app_label, app_value in value.items():
                if not isinstance(app_label, str) or not app_label:
                    raise ImproperlyConfigured(f"OPTIONS[{key!r}] has a bad app label {app_label!r}.")
                app_storage[app_label] = normalize_storage_type(f"{key}[{app_label!r}]", app_value)
        elif key == "skip_autocommit":
            skip_autocommit, skip_source = _bool(key, value), "OPTIONS"
        elif key == "multi_statements":
            multi_statements = _bool(key, value)
        elif key == "isolation_level":
            # SingleStore has exactly one isolation level; accept only that, as documentation.
            if value is not None and (not isinstance(value, str) or value.lower() != "read committed"):
                raise ImproperlyConfigured(
                    f"OPTIONS['isolation_level'] must be 'read committed' (SingleStore's only isolation "
                    f"level) or None, not {value!r}."
                )
        elif key == "pool":
            if not allow_pool:
                raise ImproperlyConfigured(
                    "OPTIONS['pool'] is only for ENGINE 'django_singlestore_async'; the sync backend has "
                    "no pool (use CONN_MAX_AGE)."
                )
            pool = value
        elif key == "native_async":  # the async engine's (scope.native_settings reads it)
            if not allow_pool:
                raise ImproperlyConfigured(
                    "OPTIONS['native_async'] is only for ENGINE 'django_singlestore_async'."
                )
            _bool(key, value)
        elif key in DRIVER_OPTION_KEYS:
            driver[key] = DRIVER_OPTION_KEYS[key](key, value)
        else:
            raise ImproperlyConfigured(
                f"Unknown OPTIONS key {key!r} for a SingleStore database. Backend keys: "
                f"table_storage_type, app_table_storage_types, skip_autocommit, isolation_level, pool, "
                f"multi_statements; "
                f"mysqlclient keys passed through: {', '.join(sorted(DRIVER_OPTION_KEYS))}."
            )
    if driver.get("client_flag", 0) & CLIENT_MULTI_STATEMENTS and not multi_statements:
        raise ImproperlyConfigured(
            "OPTIONS['client_flag'] sets CLIENT.MULTI_STATEMENTS; several statements per round trip are "
            "off by default (an injected ';' could run a second statement). Set OPTIONS['multi_statements'] "
            "= True to allow them."
        )
    return ConnectionOptions(
        driver_kwargs=driver,
        table_storage_type=storage,
        app_table_storage_types=app_storage,
        skip_autocommit=skip_autocommit,
        skip_autocommit_source=skip_source,
        pool=pool,
        multi_statements=multi_statements,
        environ=environ,
    )
