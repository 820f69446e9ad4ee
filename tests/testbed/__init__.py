"""The test bed: a private MariaDB behind the SingleStore rules gateway, or a real SingleStore.

Test infrastructure only; the product never imports it. `Testbed.from_env()` honours
`SINGLESTORE_URL` / `SINGLESTORE_CHILD_URL` (a real server, gateway bypassed).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit


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
