"""aiomysql made to behave like the sync backend's mysqlclient connection.

The connect parameters come from the sync wrapper's own `get_connection_params()` (one source of
truth for OPTIONS, charset and CLIENT.FOUND_ROWS) and are translated here for aiomysql:

* `database` -> `db`; `ssl`/`ssl_mode` -> an `ssl.SSLContext`; the three timeouts go to the pool
  (aiomysql has no read or write timeout; the pool bounds each round trip);
* `conv` -> PyMySQL decoders giving the same Python values as mysqlclient with Django's
  conversions: TIME -> `datetime.time` (Django's `typecast_time`), invalid dates -> None;
* bytes parameters are escaped as mysqlclient does, without the `_binary` introducer, so Django's
  `_binary %s` placeholder works the same on both paths (PyMySQL's prefixed form would double it).
"""

from __future__ import annotations

import datetime
import ssl as ssl_module
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import aiomysql
from django.core.exceptions import ImproperlyConfigured
from django.db.backends.utils import typecast_time
from pymysql.constants import CLIENT, FIELD_TYPE
from pymysql.converters import decoders, escape_bytes

__all__ = ["AsyncDriverParams", "Connection", "aiomysql_params", "conversions", "ssl_context"]


def ssl_context(
    options: Mapping[str, Any] | bool | None, ssl_mode: str | None = None
) -> ssl_module.SSLContext | None:
    """mysqlclient's `OPTIONS["ssl"]` (a dict of `ca`, `capath`, `cert`, `key`, `cipher`, or True) and
    `OPTIONS["ssl_mode"]` as the equivalent `ssl.SSLContext` for aiomysql.

    Like the MySQL clients: a CA without an explicit mode verifies the server certificate
    (VERIFY_CA); no CA means encryption without verification (REQUIRED); VERIFY_IDENTITY also checks
    the host name. DISABLED, or neither ssl nor a mode, gives None (plain TCP)."""
    mode = (ssl_mode or "").upper() or None
    if mode == "DISABLED" or (not options and mode is None):
        return None
    options = {} if options is True or not options else dict(options)
    allowed = {"ca", "capath", "cert", "key", "cipher"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ImproperlyConfigured(
            f'OPTIONS["ssl"] has unknown key {unknown[0]!r}; allowed: {sorted(allowed)}'
        )
    if mode not in (None, "PREFERRED", "REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY"):
        raise ImproperlyConfigured(f'OPTIONS["ssl_mode"] {ssl_mode!r} is not a MySQL ssl mode')
    ca, capath = options.get("ca"), options.get("capath")
    if mode is None:
        mode = "VERIFY_CA" if ca or capath else "REQUIRED"
    context = ssl_module.create_default_context(cafile=ca, capath=capath)
    if mode in ("VERIFY_CA", "VERIFY_IDENTITY"):
        context.check_hostname = mode == "VERIFY_IDENTITY"
        context.verify_mode = ssl_module.CERT_REQUIRED
    else:
        context.check_hostname = False
        context.verify_mode = ssl_module.CERT_NONE
    if options.get("cert"):
        context.load_cert_chain(options["cert"], options.get("key"))
    if options.get("cipher"):
        context.set_ciphers(options["cipher"])
    return context


def _or_none(convert: Callable[[str], Any], kind: type) -> Callable[[str], Any]:
    """mysqlclient returns None for dates it cannot represent (zero dates); PyMySQL the raw text."""

    def decode(value: str) -> Any:
        result = convert(value)
        return result if isinstance(result, kind) else None

    return decode


def conversions() -> dict[int, Any]:
    """PyMySQL decoders matching mysqlclient + Django's `django_conversions`."""
    conv: dict[int, Any] = dict(decoders)
    conv[FIELD_TYPE.TIME] = typecast_time
    conv[FIELD_TYPE.DATETIME] = _or_none(decoders[FIELD_TYPE.DATETIME], datetime.datetime)
    conv[FIELD_TYPE.TIMESTAMP] = _or_none(decoders[FIELD_TYPE.TIMESTAMP], datetime.datetime)
    conv[FIELD_TYPE.DATE] = _or_none(decoders[FIELD_TYPE.DATE], datetime.date)
    return conv


class Connection(aiomysql.Connection):
    """aiomysql's connection with mysqlclient's escaping of binary values, and one statement per round
    trip unless `multi_statements=True` (aiomysql always sets CLIENT.MULTI_STATEMENTS; the flag is
    cleared here before the handshake response carries it)."""

    def __init__(self, *args: Any, multi_statements: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if multi_statements:
            self.client_flag |= CLIENT.MULTI_STATEMENTS
        else:
            self.client_flag &= ~CLIENT.MULTI_STATEMENTS

    def escape(self, obj: Any) -> str:
        if isinstance(obj, bytes | bytearray | memoryview):
            return str(escape_bytes(bytes(obj)))
        return str(super().escape(obj))


class AsyncDriverParams:
    """What the pool needs: aiomysql connect kwargs, the timeouts and whether TLS is mandatory."""

    def __init__(
        self,
        connect_kwargs: dict[str, Any],
        connect_timeout: float | None,
        read_timeout: float | None,
        write_timeout: float | None,
        ssl_required: bool,
    ) -> None:
        self.connect_kwargs = connect_kwargs
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.write_timeout = write_timeout
        self.ssl_required = ssl_required


# mysqlclient connect arguments with no aiomysql equivalent: refused on the async alias rather
# than silently ignored.
_UNSUPPORTED = {
    "compress": "aiomysql has no protocol compression",
    "local_infile_dir": "aiomysql has no LOAD DATA LOCAL directory restriction",
}


def aiomysql_params(mysqlclient_kwargs: dict[str, Any]) -> AsyncDriverParams:
    """Translate the sync backend's mysqlclient connect kwargs for aiomysql."""
    kw = dict(mysqlclient_kwargs)
    kw.pop("conv", None)
    for key, why in _UNSUPPORTED.items():
        if kw.pop(key, None):
            raise ImproperlyConfigured(
                f"OPTIONS[{key!r}] is not supported by ENGINE 'django_singlestore_async': {why}."
            )
    if "database" in kw:
        kw["db"] = kw.pop("database")
    if "passwd" in kw:
        kw["password"] = kw.pop("passwd")
    connect_timeout = kw.pop("connect_timeout", None)
    read_timeout = kw.pop("read_timeout", None)
    write_timeout = kw.pop("write_timeout", None)
    ssl_options = kw.pop("ssl", None)
    ssl_mode = kw.pop("ssl_mode", None)
    context = ssl_context(ssl_options, ssl_mode)
    if context is not None:
        kw["ssl"] = context
    key_path = kw.pop("server_public_key_path", None)
    if key_path:
        kw["server_public_key"] = Path(key_path).read_bytes()
    kw["conv"] = conversions()
    kw["multi_statements"] = bool(kw.get("multi_statements", False))
    kw["autocommit"] = True
    if connect_timeout is not None:
        kw["connect_timeout"] = connect_timeout
    return AsyncDriverParams(
        kw,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        write_timeout=write_timeout,
        ssl_required=context is not None and (ssl_mode or "").upper() != "PREFERRED",
    )
