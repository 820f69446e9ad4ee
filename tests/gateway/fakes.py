"""Shared helpers for the engine's unit tests: a fake AdminClient and a session factory."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tests.testbed.gateway.engine import Decision, Engine, Forward, GatewayConfig, SessionState


class FakeAdmin:
    """Records statements; answers queries from a user-supplied function (default: empty results)."""

    def __init__(
        self, answer: Callable[[str], tuple[list[str], list[tuple[str | None, ...]]]] | None = None
    ) -> None:
        self.statements: list[str] = []
        self._answer = answer

    async def query(self, sql: str) -> tuple[list[str], list[tuple[str | None, ...]]]:
        self.statements.append(sql)
        if self._answer is not None:
            return self._answer(sql)
        return [], []

    async def execute(self, sql: str) -> tuple[int, int]:
        self.statements.append(sql)
        return 0, 0


def session(role: str = "master", database: str | None = "db1", **kw: object) -> SessionState:
    return SessionState(role=role, connection_id=7, database=database, **kw)  # type: ignore[arg-type]


def decide(engine: Engine, sql: str | bytes, sess: SessionState | None = None) -> Decision:
    raw = sql if isinstance(sql, bytes) else sql.encode()
    return asyncio.run(engine.handle_query(raw, sess or session()))


def make_engine(config: GatewayConfig | None = None, admin: FakeAdmin | None = None) -> Engine:
    engine = Engine(admin or FakeAdmin(), config or GatewayConfig())
    asyncio.run(engine.start())
    return engine


def forwarded_sql(decision: Decision) -> str:
    assert isinstance(decision, Forward), decision
    return decision.sql.decode("utf-8", "surrogateescape")
