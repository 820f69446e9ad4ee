"""Settings of the resetapp suite run (`test_reset_it.py`): DATABASES from the environment."""

import json
import os

SECRET_KEY = "reset-app-tests"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["django_singlestore_async", "tests.async_scope.resetapp"]
DATABASES = json.loads(os.environ["RESET_APP_DATABASES"])
