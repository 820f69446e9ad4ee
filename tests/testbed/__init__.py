"""The test bed: a private MariaDB behind the SingleStore rules gateway, or a real SingleStore.

Test infrastructure only; the product never imports it. `Testbed.from_env()` honours
`SINGLESTORE_URL` / `SINGLESTORE_CHILD_URL` (a real server, gateway bypassed).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from tests.testbed.gateway.process import GatewayProcess
    from tests.testbed.mariadb import MariaDB


@dataclass(frozen=True)
class Endpoint:
    """Where a test connects: one aggregator of the test bed (or MariaDB itself, for parity tests)."""

    host: str
    port: int
    user: str
    password: str
    database: str

    @classmethod
    def from_url(cls, url: str) -> Endpoint:
        parts = urlsplit(url)
        if parts.scheme not in ("mysql", "singlestoredb", "singlestore") or not parts.hostname:
            raise ValueError(f"not a mysql://USER:PASSWORD@HOST:PORT/NAME URL: {url!r}")
        return cls(
            host=parts.hostname,
            port=parts.port or 3306,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            database=parts.path.lstrip("/"),
        )

    @property
    def url(self) -> str:
        return f"mysql://{self.user}:{self.password}@{self.host}:{self.port}/{self.database}"

    def mysqldb_kwargs(self, **extra: object) -> dict[str, object]:
        """Connect arguments for MySQLdb (mysqlclient)."""
        kw: dict[str, object] = dict(
            host=self.host, port=self.port, user=self.user, password=self.password, database=self.database
        )
        kw.update(extra)
        return kw

    def aiomysql_kwargs(self, **extra: object) -> dict[str, object]:
        """Connect arguments for aiomysql."""
        kw: dict[str, object] = dict(
            host=self.host, port=self.port, user=self.user, password=self.password, db=self.database
        )
        kw.update(extra)
        return kw


def real_server_endpoints() -> tuple[Endpoint, Endpoint | None] | None:
    """(master, child) from SINGLESTORE_URL / SINGLESTORE_CHILD_URL, or None for the embedded test bed."""
    url = os.environ.get("SINGLESTORE_URL")
    if not url:
        return None
    child = os.environ.get("SINGLESTORE_CHILD_URL")
    return Endpoint.from_url(url), Endpoint.from_url(child) if child else None


@dataclass
class Testbed:
    """What the suite runs against: the two aggregator endpoints, and, on the embedded default, the
    private MariaDB behind them (`direct`, for parity tests) and the handles to restart either."""

    __test__ = False  # not a pytest test class despite its name

    master: Endpoint
    child: Endpoint | None
    direct: Endpoint | None = None
    mariadb: MariaDB | None = None
    gateway: GatewayProcess | None = None

    @property
    def is_gateway(self) -> bool:
        return self.mariadb is not None

    @classmethod
    def embedded(cls, mariadb: MariaDB, state_dir: Path, gateway_args: list[str] | None = None) -> Testbed:
        """Start a gateway process in front of `mariadb` (which must be running); it dies with us."""
        from tests.testbed.gateway.process import GatewayProcess

        gateway = GatewayProcess(
            mariadb.port,
            mariadb.admin_user,
            mariadb.admin_password,
            state_dir=state_dir,
            extra_args=list(gateway_args or []),
        ).start()
        bed = cls(
            master=Endpoint(
                mariadb.host, gateway.master_port, mariadb.user, mariadb.password, mariadb.database
            ),
            child=Endpoint(
                mariadb.host, gateway.child_port, mariadb.user, mariadb.password, mariadb.database
            ),
            direct=Endpoint(mariadb.host, mariadb.port, mariadb.user, mariadb.password, mariadb.database),
            mariadb=mariadb,
            gateway=gateway,
        )
        return bed

    def stop_gateway(self, kill: bool = False) -> None:
        assert self.gateway is not None, "not an embedded test bed"
        if kill:
            self.gateway.kill()
        else:
            self.gateway.stop()

    def restart_gateway(self, kill: bool = False) -> None:
        """Stop (SIGTERM, or SIGKILL) and start the gateway again, on the same ports."""
        assert self.gateway is not None, "not an embedded test bed"
        self.gateway.restart(kill=kill)

    def with_database(self, name: str) -> Testbed:
        """The same test bed, with every endpoint pointing at database `name`."""

        def swap(e: Endpoint | None) -> Endpoint | None:
            return None if e is None else Endpoint(e.host, e.port, e.user, e.password, name)

        master = swap(self.master)
        assert master is not None
        return Testbed(master, swap(self.child), swap(self.direct), self.mariadb, self.gateway)
