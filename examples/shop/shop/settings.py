"""Settings of the shop example. The database comes from SHOP_DATABASE_URL
(`mysql://USER:PASSWORD@HOST:PORT/NAME`, a master aggregator); `make demo` sets it."""

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = os.environ.get("SHOP_SECRET_KEY", "demo-only-not-a-secret")  # set a real one outside the demo
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
TIME_ZONE = "UTC"


def database_from_url(url: str) -> dict[str, object]:
    parts = urlsplit(url)
    if (
        parts.scheme not in ("mysql", "singlestoredb", "singlestore")
        or not parts.hostname
        or not parts.path.strip("/")
    ):
        raise ImproperlyConfigured("SHOP_DATABASE_URL must be mysql://USER:PASSWORD@HOST:PORT/NAME")
    return {
        "ENGINE": "django_singlestore_async",  # sync backend + a pool for the async ORM and acursor()
        "HOST": parts.hostname,
        "PORT": parts.port or 3306,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "NAME": parts.path.strip("/"),
        "OPTIONS": {"pool": {"min_size": 2, "max_size": 10}},
    }


if "SHOP_DATABASE_URL" not in os.environ:
    raise ImproperlyConfigured(
        "set SHOP_DATABASE_URL=mysql://USER:PASSWORD@HOST:PORT/NAME (see examples/README.md)"
    )
DATABASES = {"default": database_from_url(os.environ["SHOP_DATABASE_URL"])}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_singlestore_async",  # Django's a* ORM API runs natively on the event loop over the pool
    "shop",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "shop.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
STATIC_URL = "static/"
# shop.Tag shows the automatic layout on purpose; its "declare it to make it explicit" note is silenced.
SILENCED_SYSTEM_CHECKS = ["singlestore.I001"]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django": {"handlers": ["console"], "level": "WARNING"}},
}
