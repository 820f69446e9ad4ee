"""Django settings for the project's own test suite (pytest-django).

HOST/PORT/USER/PASSWORD are placeholders: `tests/conftest.py` points every alias at the test bed's
master aggregator (the gateway, or SINGLESTORE_URL) before pytest-django creates the test databases.
No env vars and no storage OPTIONS: the backend's defaults decide.
"""

SECRET_KEY = "django-singlestore-tests-only"
USE_TZ = True
TIME_ZONE = "UTC"

_DB = {
    "ENGINE": "django_singlestore",
    "HOST": "127.0.0.1",
    "PORT": 9,  # nothing listens there (0 would mean 3306 to mysqlclient); conftest sets the real one
    "USER": "",
    "PASSWORD": "",
    "NAME": "s2test",
}

DATABASES = {
    "default": dict(_DB),
    "other": dict(_DB, TEST={"NAME": "test_s2test_other"}),
}

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    # Routes Django's async ORM natively for aliases on ENGINE django_singlestore_async (the aliases
    # above are sync; the async tests register their own).
    "django_singlestore_async",
]

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
