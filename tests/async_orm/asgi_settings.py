"""Settings of the ASGI app the uvicorn test serves (tests/async_orm/asgi_app.py). The database comes
from the environment variable ASYNC_ORM_TEST_DB (a JSON settings dict written by the test)."""

import json
import os

SECRET_KEY = "django-singlestore-asgi-test-only"
USE_TZ = True
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "tests.async_orm.asgi_app"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django_singlestore_async",
    "tests.async_orm",
]
MIDDLEWARE: list[str] = []
DATABASES = {"default": json.loads(os.environ.get("ASYNC_ORM_TEST_DB", "{}"))}
