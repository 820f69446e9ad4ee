"""The server data on an alias whose first connection is async: the sync backend's rules, run on the
pooled connection (same query, fallback, refusal text, cache, version check, child-aggregator warning)."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Callable
from typing import Any

import pymysql
import pytest
from django.db import NotSupportedError, OperationalError

from django_singlestore.base import (
    SERVER_DATA_QUERY,
    SERVER_DATA_QUERY_BASIC,
    _server_data_cache,
    forget_server_data,
    not_singlestore_error,
)
from django_singlestore.base import DatabaseWrapper as SyncWrapper
from django_singlestore.transactions import ChildAggregatorWarning, forget_child_aggregator_warnings
from django_singlestore_async.base import DatabaseWrapper
from django_singlestore_async.pool import close_pools
from tests.conftest import require_child
from tests.dbtools import alias_settings
from tests.testbed import Endpoint, Testbed

MakeAlias = Callable[..., Any]

#: Nothing listens here (TCP discard): the fake-connection tests must not reach any server.
UNREACHABLE = Endpoint("127.0.0.1", 9, "nobody", "nothing", "ap_unit")


def _on(endpoint: Endpoint | None, database: str) -> Endpoint:
    assert endpoint is not None
    return Endpoint(endpoint.host, endpoint.port, endpoint.user, endpoint.password, database)


async def _borrow(db: DatabaseWrapper, times: int = 1) -> None:
    """Borrow `times` pooled connections at once (each new one runs the connect checks) and use them."""

    async def one() -> None:
        async with db.acursor() as cursor:
            await cursor.execute("SELECT 1")
            assert await cursor.fetchone() == (1,)

    await asyncio.gather(*(one() for _ in range(times)))


def test_async_first_alias_on_the_child_gets_its_role_and_warns_once(
    make_alias: MakeAlias, endpoint: Endpoint, testbed: Testbed
) -> None:
    require_child(testbed)
    child = _on(testbed.child, endpoint.database)
    forget_child_aggregator_warnings("a_child")
    try:
        db = make_alias("a_child", endpoint=child)
        with pytest.warns(ChildAggregatorWarning) as record:
            asyncio.run(_borrow(db))
        (warned,) = [w for w in record if issubclass(w.category, ChildAggregatorWarning)]
        text = str(warned.message)
        assert "'a_child'" in text and f"{child.host}:{child.port}" in text and "2549" in text
        data = db.singlestore_server_data  # cached by the async probe
        assert data.aggregator_role == "child" and data.aggregator_id is not None

        async def again() -> None:
            await _borrow(db, times=3)  # more pooled connections
            await close_pools()

        with warnings.catch_warnings():
            warnings.simplefilter("error", ChildAggregatorWarning)
            asyncio.run(again())
            db.ensure_connection()  # the same alias, sync side: not a second warning either
            db.close()

        # The async-first answer is what a sync-first alias on the same aggregator reads.
        sync = SyncWrapper(alias_settings(child, engine="django_singlestore"), "a_child_sync")
        forget_server_data("a_child_sync")
        forget_child_aggregator_warnings("a_child_sync")
        with pytest.warns(ChildAggregatorWarning, match="'a_child_sync'"):
            sync.ensure_connection()
        assert sync.singlestore_server_data == data
        sync.close()
    finally:
        for alias in ("a_child", "a_child_sync"):
            forget_child_aggregator_warnings(alias)
            forget_server_data(alias)


@pytest.mark.asyncio
async def test_async_first_alias_on_the_master_does_not_warn(make_alias: MakeAlias) -> None:
    db = make_alias("a_master_role")
    forget_child_aggregator_warnings("a_master_role")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ChildAggregatorWarning)
        await _borrow(db)
    data = db.singlestore_server_data
    assert data.aggregator_role == "master" and data.version >= (8, 5)
    await close_pools()


@pytest.mark.gateway_only
def test_async_first_alias_on_plain_mariadb_gets_the_sync_refusal(
    make_alias: MakeAlias, endpoint: Endpoint, testbed: Testbed
) -> None:
    if testbed.direct is None:
        pytest.skip("environment: no direct MariaDB endpoint")
    direct = _on(testbed.direct, endpoint.database)
    db = make_alias("a_refused", endpoint=direct)

    async def first_async() -> BaseException:
        with pytest.raises(NotSupportedError) as info:
            await _borrow(db)
        assert db.pool().get_stats()["in_use"] == 0
        await close_pools()
        return info.value

    async_error = asyncio.run(first_async())
    assert not db.has_server_data
    assert isinstance(async_error.__cause__, pymysql.err.Error) and async_error.__cause__.args[0] == 1193

    forget_server_data("a_refused")
    sync = SyncWrapper(alias_settings(direct, engine="django_singlestore"), "a_refused")
    with pytest.raises(NotSupportedError) as info:
        sync.ensure_connection()
    sync.close()
    assert info.value.__cause__ is not None and info.value.__cause__.args[0] == 1193
    # One refusal, word for word, whichever engine connects first.
    assert str(async_error) == str(info.value)
    assert "is not SingleStore" in str(async_error) and "django.db.backends.mysql" in str(async_error)
    assert f"{direct.host}:{direct.port}" in str(async_error) and "'a_refused'" in str(async_error)


# --- the async read itself, on a scripted pooled connection ------------------------------------------


class _ScriptedConnection:
    """Stands in for a PooledConnection: answers each statement from `answers` (a row or an error)."""

    def __init__(self, answers: list[Any]) -> None:
        self.answers = answers
        self.sent: list[str] = []

    def cursor(self) -> _ScriptedCursor:
        return _ScriptedCursor(self)


class _ScriptedCursor:
    def __init__(self, conn: _ScriptedConnection) -> None:
        self.conn = conn
        self.row: Any = None

    async def __aenter__(self) -> _ScriptedCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def execute(self, sql: str) -> None:
        self.conn.sent.append(sql)
        answer = self.conn.answers[len(self.conn.sent) - 1]
        if isinstance(answer, BaseException):
            raise answer
        self.row = answer

    async def fetchone(self) -> Any:
        return self.row


def _unit(alias: str) -> DatabaseWrapper:
    forget_server_data(alias)
    forget_child_aggregator_warnings(alias)
    return DatabaseWrapper(alias_settings(UNREACHABLE, engine="django_singlestore_async"), alias)


@pytest.mark.asyncio
async def test_async_read_falls_back_without_the_aggregator_variables() -> None:
    db = _unit("a_fallback")
    conn = _ScriptedConnection(
        [
            pymysql.err.OperationalError(1193, "Unknown system variable 'aggregator_id'"),
            ("8.9.3", "STRICT_ALL_TABLES"),
        ]
    )
    try:
        await db._aensure_server_data(conn)  # type: ignore[arg-type]
        assert conn.sent == [SERVER_DATA_QUERY, SERVER_DATA_QUERY_BASIC]
        data = db.singlestore_server_data
        assert data.version == (8, 9, 3) and data.sql_mode == {"STRICT_ALL_TABLES"}
        assert data.aggregator_role == "unknown" and data.aggregator_id is None
        await db._aensure_server_data(conn)  # type: ignore[arg-type]
        assert len(conn.sent) == 2  # cached: no second read
    finally:
        forget_server_data("a_fallback")


@pytest.mark.asyncio
async def test_async_read_of_a_child_row_warns_and_of_a_server_without_memsql_version_refuses() -> None:
    db = _unit("a_scripted_child")
    try:
        with pytest.warns(ChildAggregatorWarning, match="'a_scripted_child'"):
            await db._aensure_server_data(
                _ScriptedConnection([("8.9.3", "STRICT_ALL_TABLES", "10.0.0.1:3306", 7)])  # type: ignore[arg-type]
            )
        assert db.singlestore_server_data.aggregator_id == 7
    finally:
        forget_server_data("a_scripted_child")
        forget_child_aggregator_warnings("a_scripted_child")

    refused = _unit("a_scripted_mariadb")
    missing = pymysql.err.OperationalError(1193, "Unknown system variable 'memsql_version'")
    conn = _ScriptedConnection([missing])
    with pytest.raises(NotSupportedError) as info:
        await refused._aensure_server_data(conn)  # type: ignore[arg-type]
    assert conn.sent == [SERVER_DATA_QUERY]  # no fallback for a server that is not SingleStore
    assert str(info.value) == str(
        not_singlestore_error("a_scripted_mariadb", UNREACHABLE.host, UNREACHABLE.port)
    )
    assert info.value.__cause__ is missing
    assert not any(key[0] == "a_scripted_mariadb" for key in _server_data_cache)


@pytest.mark.asyncio
async def test_async_read_maps_other_server_errors_to_djangos() -> None:
    db = _unit("a_scripted_denied")
    denied = pymysql.err.OperationalError(1227, "Access denied; you need the SUPER privilege")
    with pytest.raises(OperationalError) as info:
        await db._aensure_server_data(_ScriptedConnection([denied]))  # type: ignore[arg-type]
    assert info.value.args[0] == 1227 and info.value.__cause__ is denied
    assert not db.has_server_data


@pytest.mark.asyncio
async def test_an_old_singlestore_is_refused_on_every_async_borrow() -> None:
    """The version check is not skipped once the (refused) data is cached."""
    db = _unit("a_scripted_old")
    try:
        for _ in range(2):
            with pytest.raises(
                NotSupportedError, match=r"SingleStore 8\.5 or later is required \(found 8\.1\.0\)"
            ):
                await db._aensure_server_data(
                    _ScriptedConnection([("8.1.0", "STRICT_ALL_TABLES", "self", 0)])  # type: ignore[arg-type]
                )
    finally:
        forget_server_data("a_scripted_old")
