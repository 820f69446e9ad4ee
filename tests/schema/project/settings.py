"""Settings of the schema test project: Django's contrib apps and `shapes` (every model shape), on a
SingleStore alias with no OPTIONS and no DJANGO_SINGLESTORE_* env vars (the automatic layout decides).

The server address comes from SCHEMA_PROJECT_URL (`mysql://USER:PASSWORD@HOST:PORT/NAME`), which
tests/schema's tests set for the child process they run this project in.
"""

import os
from urllib.parse import unquote, urlsplit

_url = urlsplit(os.environ.get("SCHEMA_PROJECT_URL", "mysql://nobody:nothing@127.0.0.1:9/schema_project"))

SECRET_KEY = "django-singlestore-schema-project-tests-only"
USE_TZ = True
TIME_ZONE = "UTC"
DEBUG = False
ROOT_URLCONF = "tests.schema.project.urls"
SITE_ID = 1
ALLOWED_HOSTS = ["testserver", "localhost"]

DATABASES = {
    "default": {
        "ENGINE": "django_singlestore",
        "HOST": _url.hostname,
        "PORT": _url.port,
        "USER": unquote(_url.username or ""),
        "PASSWORD": unquote(_url.password or ""),
        "NAME": _url.path.lstrip("/"),
    }
}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sites",
    "django.contrib.flatpages",
    "django.contrib.redirects",
    "tests.schema.project.shapes",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
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

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
