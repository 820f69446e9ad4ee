"""The schema test project (tests/schema/project) runs in a child interpreter: its own settings
(Django's contrib apps and `shapes`), no DJANGO_SINGLESTORE_* env vars and no OPTIONS, so the backend's
automatic layout decides every table. Each test gets its own database `gw_schema_<test>`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import MySQLdb
import pytest

from tests.dbtools import database_name, own_database
from tests.testbed import Endpoint, Testbed

REPO = Path(__file__).resolve().parents[2]


@dataclass
class ProjectRun:
    returncode: int
    output: str

    def lines(self, prefix: str) -> list[str]:
        return [line[len(prefix) :].strip() for line in self.output.splitlines() if line.startswith(prefix)]


class Project:
    """`run(*django_admin_args, role="master"|"child")` in a child interpreter on this test's database."""

    def __init__(self, testbed: Testbed, database: str) -> None:
        self.testbed = testbed
        self.database = database

    def endpoint(self, role: str) -> Endpoint:
        endpoint = self.testbed.master if role == "master" else self.testbed.child
        assert endpoint is not None
        return Endpoint(endpoint.host, endpoint.port, endpoint.user, endpoint.password, self.database)

    def run(self, *args: str, role: str = "master", check: bool = True, timeout: float = 300) -> ProjectRun:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_SINGLESTORE_", "SINGLESTORE_", "PYTHONPATH"))
        }
        env["DJANGO_SETTINGS_MODULE"] = "tests.schema.project.settings"
        env["SCHEMA_PROJECT_URL"] = self.endpoint(role).url
        env["PYTHONWARNINGS"] = "ignore::DeprecationWarning"
        proc = subprocess.run(
            [sys.executable, "-m", "django", *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        result = ProjectRun(proc.returncode, proc.stdout + proc.stderr)
        if check and proc.returncode != 0:
            pytest.fail(f"`django-admin {' '.join(args)}` on {role} failed:\n{result.output[-6000:]}")
        return result

    def tables(self) -> set[str]:
        conn = MySQLdb.connect(**self.endpoint("master").mysqldb_kwargs())
        try:
            cur = conn.cursor()
            cur.execute("SHOW TABLES")
            return {row[0] for row in cur.fetchall()}
        finally:
            conn.close()


@pytest.fixture
def project(request: pytest.FixtureRequest, testbed: Testbed) -> Iterator[Project]:
    with own_database(testbed.master, database_name(request, "gw_schema")) as name:
        yield Project(testbed, name)


RunProject = Callable[..., ProjectRun]
