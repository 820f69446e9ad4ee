"""Django settings for one benchmark process: `BENCH_PATH` picks what the `default` alias is.

`BENCH_DB` is `host:port:user:password:name` (the gateway aggregator the cell runs against). One path
per process, so the server connections, threads and RSS a process shows belong to that path alone.
"""

from __future__ import annotations

import os

SECRET_KEY = "django-singlestore-benchmarks-only"
USE_TZ = False  # the older backend needs it; the model has no datetime field, so it changes nothing here
TIME_ZONE = "UTC"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "benchmarks.urls"
INSTALLED_APPS = ["benchmarks.benchapp"]
MIDDLEWARE: list[str] = []
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGGING_CONFIG = None

SYNC_ENGINE = "django_singlestore"
ASYNC_ENGINE = "django_singlestore_async"

#: path -> (ENGINE, CONN_MAX_AGE, CONN_HEALTH_CHECKS). The floors that use a driver directly still get
#: an alias (the raw aiomysql pool path borrows through `connection.acursor()`).
PATH_ALIASES = {
    "stock0": (SYNC_ENGINE, 0, False),
    "stock60": (SYNC_ENGINE, 60, True),
    "native": (ASYNC_ENGINE, 0, False),
    "acursor": (ASYNC_ENGINE, 0, False),
    "aiomysql": (SYNC_ENGINE, 0, False),
    "sync_orm": (SYNC_ENGINE, None, False),
    "mysqlclient": (SYNC_ENGINE, 0, False),
}
#: The pool every async path uses (ours and aiomysql's own): the same cap.
POOL_MAX_SIZE = int(os.environ.get("BENCH_POOL_MAX_SIZE", "10"))

BENCH_PATH = os.environ.get("BENCH_PATH", "stock0")
#: "native+freeze": gc.freeze() once the application is loaded (benchmarks/asgi.py; GC runs)
BENCH_GC_FREEZE = BENCH_PATH.endswith("+freeze")
BENCH_PATH = BENCH_PATH.removesuffix("+freeze")
if "-" in BENCH_PATH:  # "native-32": the native path with a pool of max_size 32 (sizing runs)
    BENCH_PATH, _size = BENCH_PATH.split("-", 1)
    POOL_MAX_SIZE = int(_size)
_host, _port, _user, _password, _name = os.environ.get("BENCH_DB", "127.0.0.1:9:::bench").split(":", 4)
_engine, _max_age, _health = PATH_ALIASES[BENCH_PATH]
_options: dict[str, object] = {}
if _engine == ASYNC_ENGINE:
    _options["pool"] = {"max_size": POOL_MAX_SIZE}
    # The async engine's app routes Django's a* ORM API natively (README, "The async engine"); without
    # it the alias keeps Django's thread hop. The older backend's venv runs no async path.
    INSTALLED_APPS.append("django_singlestore_async")

DATABASES = {
    "default": {
        "ENGINE": _engine,
        "HOST": _host,
        "PORT": int(_port),
        "USER": _user,
        "PASSWORD": _password,
        "NAME": _name,
        "CONN_MAX_AGE": _max_age,
        "CONN_HEALTH_CHECKS": _health,
        "OPTIONS": _options,
    }
}
