"""Fixtures for the gateway's proxy tests: per-test databases, extra gateway processes, raw clients.

The standard gateway is the session's `testbed` (master and child ports in front of the private
MariaDB); `testbed.direct` is MariaDB itself, the reference every parity test compares with. Gateways
with other options (TLS, latency) are separate `GatewayProcess`es in front of the same MariaDB.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import MySQLdb
import pytest

from tests.testbed import Endpoint, Testbed
from tests.testbed.gateway.process import GatewayProcess
from tests.testbed.mariadb import MariaDB


def direct_conn(bed: Testbed, database: str | None = None, **kw: object) -> MySQLdb.Connection:
    """A MySQLdb connection straight to MariaDB (setup and reference)."""
    assert bed.direct is not None, "the embedded test bed is needed (gateway_only test)"
    args = bed.direct.mysqldb_kwargs(charset="utf8mb4", **kw)
    args["database"] = database or bed.direct.database
    return MySQLdb.connect(**args)


def with_db(endpoint: Endpoint, database: str) -> Endpoint:
    return Endpoint(endpoint.host, endpoint.port, endpoint.user, endpoint.password, database)


@pytest.fixture
def proxy_db(request: pytest.FixtureRequest, testbed: Testbed) -> Iterator[str]:
    """A fresh utf8mb4 database named after the test, created and dropped directly on MariaDB."""
    name = "gw_proxy_" + re.sub(r"[^a-z0-9_]", "_", request.node.name.lower())
    name = name[:64]
    conn = direct_conn(testbed)
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
    conn.close()
    yield name
    conn = direct_conn(testbed)  # a new connection: the test may have restarted MariaDB
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.close()


def _gateway(mariadb: MariaDB, tmp: Path, **options: object) -> Iterator[GatewayProcess]:
    gw = GatewayProcess(
        mariadb.port,
        mariadb.admin_user,
        mariadb.admin_password,
        state_dir=tmp,
        **options,  # type: ignore[arg-type]
    ).start()
    try:
        yield gw
    finally:
        gw.stop()


@pytest.fixture(scope="module")
def tls_gateway(mariadb: MariaDB, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    """A gateway that terminates TLS with a fresh self-signed certificate (`gw.tls_cert`)."""
    yield from _gateway(mariadb, tmp_path_factory.mktemp("gw-tls"), tls=True)


@pytest.fixture(scope="module")
def slow_gateway(mariadb: MariaDB, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    """A gateway that sleeps 40 ms before each COM_QUERY."""
    yield from _gateway(mariadb, tmp_path_factory.mktemp("gw-slow"), latency_ms=40.0)
