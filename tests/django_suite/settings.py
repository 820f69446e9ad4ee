"""Settings for Django's `runtests.py`: Django's own `tests/test_sqlite.py` of the same release, with only
DATABASES replaced (and our recording TEST_RUNNER added).

`run.py` writes a tiny module `djs_settings_<tag>.py` into the unpacked `tests/` directory (our cache,
never Django's test models) that calls `load(<config.json>)`; no environment variable is involved, and
the backend's automatic layout decides storage types, keys and the rest.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

RUNNER = "tests.django_suite.recorder.RecordingRunner"


def databases_for(engine: str, url: str | None, test_name: str) -> dict[str, dict[str, Any]]:
    """DATABASES with `default` and `other` (Django's suite needs both) on one server, distinct test DBs."""
    if engine == "django.db.backends.sqlite3" or url is None:
        return {
            "default": {"ENGINE": engine},
            "other": {"ENGINE": engine},
        }
    parts = urlsplit(url)
    base: dict[str, Any] = {
        "ENGINE": engine,
        "NAME": parts.path.lstrip("/") or "s2test",
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "127.0.0.1",
        "PORT": str(parts.port or 3306),
    }
    return {
        "default": {**base, "TEST": {"NAME": test_name}},
        "other": {**base, "TEST": {"NAME": f"{test_name}_other"}},
    }


def load(config_path: str) -> dict[str, Any]:
    """The settings namespace for one runtests.py process (see module docstring)."""
    cfg = json.loads(Path(config_path).read_text())
    namespace: dict[str, Any] = {}
    django_settings = Path(cfg["django_tests_dir"]) / "test_sqlite.py"
    code = compile(django_settings.read_text(), str(django_settings), "exec")
    exec(code, namespace)  # Django's own test settings of this release, unchanged
    out = {k: v for k, v in namespace.items() if k.isupper()}
    out["DATABASES"] = databases_for(cfg["engine"], cfg.get("url"), cfg["test_name"])
    out["TEST_RUNNER"] = cfg.get("runner") or RUNNER
    out["DJANGO_SUITE_RECORD_DIR"] = cfg["record_dir"]
    if cfg.get("redis_url"):
        # Django's cache tests run their Redis cases when a CACHES entry names RedisCache.
        caches = dict(
            out.get("CACHES") or {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
        )
        caches["redis"] = {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": cfg["redis_url"],
        }
        out["CACHES"] = caches
    if cfg.get("memcached"):
        # Django's cache tests run their memcached cases per configured client library.
        caches = dict(
            out.get("CACHES") or {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
        )
        for name, module in (("PyMemcacheCache", "pymemcache"), ("PyLibMCCache", "pylibmc")):
            if importlib.util.find_spec(module) is not None:
                caches[name.lower()] = {
                    "BACKEND": f"django.core.cache.backends.memcached.{name}",
                    "LOCATION": cfg["memcached"],
                }
        out["CACHES"] = caches
    if cfg.get("lift_refusal_skips"):
        lift_refusal_skips()
    return out


def lift_refusal_skips() -> None:
    """Run the tests the backend skips for a detected planner refusal, so this run detects them afresh
    (`run --lift-refusal-skips`; issue 21): the skip entries of those reasons are dropped in this process
    before Django reads `django_test_skips`."""
    try:
        from django_singlestore import test_skips
    except ImportError:  # another engine under test
        return
    reasons = set(getattr(test_skips, "REFUSAL_REASONS", ()))
    test_skips.SKIPS[:] = [entry for entry in test_skips.SKIPS if entry[0] not in reasons]
