"""Runs inside the child process: the app's own `runtests.main()` with DATABASES pointed at the backend.

Only the database settings and the test runner class change; the app's settings, apps and test selection
are its own. Environment: S2TP_URL (mysql://user:password@host:port/name), S2TP_RESET ("" = the default
mode), S2TP_RECORD_DIR (where the recorder writes its JSON lines).
"""

from __future__ import annotations

import os
import sys

from tests.django_suite import recorder
from tests.testbed import Endpoint


def databases(url: str, reset: str) -> dict[str, dict[str, object]]:
    endpoint = Endpoint.from_url(url)
    base = {
        "ENGINE": "django_singlestore",
        "HOST": endpoint.host,
        "PORT": endpoint.port,
        "USER": endpoint.user,
        "PASSWORD": endpoint.password,
        "NAME": endpoint.database,
    }
    return {
        alias: {**base, "TEST": {"NAME": f"test_tp_{alias}", **({"RESET": reset} if reset else {})}}
        for alias in ("default", "other")
    }


def main() -> None:
    import runtests  # the app's own runner, first on sys.path (set by the parent)

    runtests.DATABASE_NAME_TO_DATABASE_SETTINGS["singlestore"] = databases(
        os.environ["S2TP_URL"], os.environ.get("S2TP_RESET", "")
    )
    runtests.DEFAULT_SETTINGS["DJANGO_SUITE_RECORD_DIR"] = os.environ["S2TP_RECORD_DIR"]
    runtests.DiscoverRunner = recorder.RecordingRunner  # the same runner, plus one JSON line per outcome
    sys.argv = [sys.argv[0], "--database", "singlestore"]
    runtests.main()


if __name__ == "__main__":
    main()
