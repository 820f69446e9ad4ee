"""ENGINE django_singlestore_async: `acursor()`, error mapping, execute_wrapper hooks, DEBUG logging."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pymysql
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import (
    DataError,
    IntegrityError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    connections,
)

from django_singlestore.base import DatabaseWrapper as SyncWrapper
from django_singlestore.errors import ReferenceTableWriteOnChildAggregator
from django_singlestore_async.base import DatabaseWrapper
from django_singlestore_async.cursor import django_error
from django_singlestore_async.pool import PoolConfig, close_pools
from tests.async_pool.conftest import Admin
from tests.async_pool.util import eventually

MakeAlias = Callable[..., Any]

RUNNING = "SELECT INFO FROM information_schema.PROCESSLIST"
TABLE = "CREATE TABLE thing (id BIGINT PRIMARY KEY, name VARCHAR(5) NOT NULL, n INT)"


def test_the_engine_is_the_sync_backend_plus_the_async_side() -> None:
    assert issubclass(DatabaseWrapper, SyncWrapper)
    for attr in ("ops_class", "SchemaEditorClass", "introspection_class", "creation_class"):
        assert getattr(DatabaseWrapper, attr) is getattr(SyncWrapper, attr)
    # The features are the sync backend's, with one skip of Django's suite added and nothing else.
    assert DatabaseWrapper.features_class.__bases__ == (SyncWrapper.features_class,)
    own = {name for name in vars(DatabaseWrapper.features_class) if not name.startswith("__")}
    assert own == {"django_test_skips"}


@pytest.mark.asyncio
async def test_acursor_executes_and_fetches(make_alias: MakeAlias) -> None:
    db: DatabaseWrapper = make_alias("a_fetch")
    async with db.acursor() as cursor:
        await cursor.execute(TABLE)
        assert await cursor.execute("INSERT INTO thing VALUES (1, 'a', 10), (2, 'b', 20), (3, 'c', 30)") == 3
        await cursor.execute("SELECT id, name FROM thing WHERE n > %s ORDER BY id", [5])
        assert [d[0] for d in cursor.description] == ["id", "name"]
        assert await cursor.fetchone() == (1, "a")
        assert await cursor.fetchmany(1) == [(2, "b")]
        assert await cursor.fetchall() == [(3, "c")]
        await cursor.execute("SELECT id FROM thing ORDER BY id")
        assert [row async for row in cursor] == [(1,), (2,), (3,)]
        await cursor.executemany("INSERT INTO thing VALUES (%s, %s, %s)", [(4, "d", 1), (5, "e", 2)])
        assert cursor.rowcount == 2
        await cursor.execute("SELECT %s, %s", ["50%", None])  # params: % in a value is data
        assert await cursor.fetchone() == ("50%", None)
        await cursor.execute("SELECT '100%'")  # no params: no % interpolation, as in mysqlclient
        assert await cursor.fetchone() == ("100%",)
    pool = db.pool()
    stats = pool.get_stats()
    assert stats["in_use"] == 0 and stats["pool_available"] == 1
    assert await db.aclose_pool() == 0
    assert pool.closed and db.pool() is not pool
    await close_pools()


@pytest.mark.asyncio
async def test_matched_rows_not_changed_rows_like_the_sync_side(make_alias: MakeAlias) -> None:
    """CLIENT.FOUND_ROWS comes from the sync backend's parameters: a no-op UPDATE counts its row."""
    db = make_alias("a_found")
    async with db.acursor() as cursor:
        await cursor.execute(TABLE)
        await cursor.execute("INSERT INTO thing VALUES (1, 'a', 10)")
        assert await cursor.execute("UPDATE thing SET n = 10 WHERE id = 1") == 1
    await close_pools()


@pytest.mark.asyncio
async def test_the_connection_goes_back_even_when_the_block_fails(make_alias: MakeAlias) -> None:
    db = make_alias("a_fail")
    with pytest.raises(ZeroDivisionError):
        async with db.acursor() as cursor:
            await cursor.execute("SELECT 1")
            1 / 0  # noqa: B018
    assert db.pool().get_stats()["in_use"] == 0
    await close_pools()


@pytest.mark.asyncio
async def test_a_cancelled_block_discards_its_connection(make_alias: MakeAlias, admin: Admin) -> None:
    db = make_alias("a_cancel")

    async def slow() -> None:
        async with db.acursor() as cursor:
            await cursor.execute("SELECT SLEEP(30)")

    task = asyncio.create_task(slow())
    await eventually(
        lambda: any((info or "").startswith("SELECT SLEEP(30)") for (info,) in admin.query(RUNNING)),
        what="the query runs",
    )
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    pool = db.pool()
    stats = pool.get_stats()
    assert stats["in_use"] == 0 and stats["returns_bad"] == 1
    # kill_on_cancel (the default): the session is KILLed, and its slot is held until it has ended.
    await eventually(lambda: pool.get_stats()["pool_size"] == 0, what="the slot comes back")
    assert pool.get_stats()["kills"] + pool.get_stats()["kills_gone"] == 1
    assert not any((info or "").startswith("SELECT SLEEP(30)") for (info,) in admin.query(RUNNING))
    await close_pools()


@pytest.mark.asyncio
async def test_server_errors_become_the_same_django_exceptions_as_on_the_sync_side(
    make_alias: MakeAlias,
) -> None:
    db = make_alias("a_errors")
    sync = make_alias("s_errors", engine="django_singlestore")
    statements = {
        "INSERT INTO thing VALUES (1, 'dup', 1)": IntegrityError,  # 1062
        "INSERT INTO thing (id, name, n) VALUES (2, NULL, 1)": IntegrityError,  # 1048
        "INSERT INTO thing VALUES (3, 'toolongname', 1)": DataError,  # 1406
        "SELECT * FROM no_such_table": ProgrammingError,  # 1146
        "SELEKT 1": ProgrammingError,  # 1064
    }
    async with db.acursor() as cursor:
        await cursor.execute(TABLE)
        await cursor.execute("INSERT INTO thing VALUES (1, 'a', 1)")
        for sql, expected in statements.items():
            with pytest.raises(expected) as async_info:
                await cursor.execute(sql)
            with pytest.raises(expected) as sync_info:
                await asyncio.to_thread(_sync_execute, sync, sql)
            assert type(async_info.value) is type(sync_info.value), sql
            assert async_info.value.args[0] == sync_info.value.args[0], sql  # the server's code
            assert isinstance(async_info.value.__cause__, pymysql.err.Error)
        await cursor.execute("SELECT 1")  # server errors leave the connection usable
        assert await cursor.fetchone() == (1,)
    assert db.pool().get_stats()["returns_bad"] == 0
    await close_pools()


def _sync_execute(twin: Any, sql: str) -> None:
    """Run `sql` on mysqlclient in this (worker) thread, with a wrapper of its own."""
    db = SyncWrapper(twin.settings_dict, twin.alias)
    try:
        with db.cursor() as cursor:
            cursor.execute(sql)
    finally:
        db.close()


def test_the_shared_error_table_applies_to_pymysql_errors() -> None:
    assert isinstance(
        django_error(pymysql.err.OperationalError(1706, "Feature is not supported")), NotSupportedError
    )
    assert isinstance(
        django_error(pymysql.err.InternalError(2549, "reference table write")),
        ReferenceTableWriteOnChildAggregator,
    )
    assert isinstance(django_error(pymysql.err.OperationalError(1048, "cannot be null")), IntegrityError)
    lost = django_error(pymysql.err.OperationalError(2013, "Lost connection"))
    assert type(lost) is OperationalError and lost.args == (2013, "Lost connection")


@pytest.mark.asyncio
async def test_execute_wrappers_are_honoured(make_alias: MakeAlias) -> None:
    db = make_alias("a_wrappers")
    seen: list[tuple[str, bool]] = []
    timed: list[float] = []

    def observer(execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        assert context["connection"] is db
        seen.append((sql, many))
        return execute(sql, params, many, context)

    async def timer(execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        start = asyncio.get_running_loop().time()
        try:
            return await execute(sql, params, many, context)
        finally:
            timed.append(asyncio.get_running_loop().time() - start)

    def blocker(execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        raise RuntimeError(f"blocked: {sql}")

    async with db.acursor() as cursor:
        with db.execute_wrapper(observer), db.execute_wrapper(timer):
            await cursor.execute("SELECT SLEEP(%s)", [0.2])
            await cursor.execute(TABLE)
            await cursor.executemany("INSERT INTO thing VALUES (%s, 'x', 1)", [(1,), (2,)])
        with db.execute_wrapper(blocker), pytest.raises(RuntimeError, match="blocked: SELECT 2"):
            await cursor.execute("SELECT 2")
        await cursor.execute("SELECT COUNT(*) FROM thing")  # hooks are gone again
        assert await cursor.fetchone() == (2,)
    assert seen == [
        ("SELECT SLEEP(%s)", False),
        (TABLE, False),
        ("INSERT INTO thing VALUES (%s, 'x', 1)", True),
    ]
    assert len(timed) == 3 and timed[0] >= 0.15  # the async hook timed the real round trip
    await close_pools()


@pytest.mark.asyncio
async def test_debug_records_queries_and_logs_them(
    make_alias: MakeAlias, caplog: pytest.LogCaptureFixture
) -> None:
    db = make_alias("a_debug")
    db.force_debug_cursor = True
    caplog.set_level(logging.DEBUG, logger="django.db.backends")
    async with db.acursor() as cursor:
        await cursor.execute("SELECT %s + 1", [41])
        await cursor.execute(TABLE)
        await cursor.executemany("INSERT INTO thing VALUES (%s, 'x', 1)", [(1,), (2,)])
    sqls = [q["sql"] for q in db.queries]
    assert sqls[0] == "SELECT 41 + 1" and sqls[2] == "2 times: INSERT INTO thing VALUES (%s, 'x', 1)"
    assert all(float(q["time"]) >= 0 for q in db.queries)
    records = [
        r for r in caplog.records if r.name == "django.db.backends" and getattr(r, "alias", None) == "a_debug"
    ]
    assert records and records[0].__dict__["sql"] == "SELECT 41 + 1" and records[0].__dict__["params"] == [41]
    db.force_debug_cursor = False
    async with db.acursor() as cursor:
        await cursor.execute("SELECT 1")
    assert len(db.queries) == 3  # not recorded without DEBUG
    await close_pools()


@pytest.mark.asyncio
async def test_pool_options_come_from_settings(make_alias: MakeAlias) -> None:
    db = make_alias("a_opts", pool={"max_size": 2, "timeout": 5, "lifo": False})
    assert db.pool_config == PoolConfig(max_size=2, timeout=5, lifo=False)
    assert db.pool().config.max_size == 2 and db.pool() is db.pool()
    async with db.acursor() as cursor:
        await cursor.execute("SELECT 1")
    await close_pools()
    checked = make_alias("a_health")
    checked.settings_dict["CONN_HEALTH_CHECKS"] = True
    assert checked.pool_config.pre_ping is True


def test_bad_pool_options_are_refused_naming_the_key(make_alias: MakeAlias) -> None:
    with pytest.raises(ImproperlyConfigured, match="pool_recycle"):
        _ = make_alias("a_bad1", pool={"pool_recycle": 1}).pool_config
    with pytest.raises(ImproperlyConfigured, match="max_size"):
        _ = make_alias("a_bad2", pool={"max_size": 0}).pool_config


def test_the_sync_connection_never_sees_the_pool_option(make_alias: MakeAlias) -> None:
    db = make_alias("a_sync_side", pool={"max_size": 2})
    assert "pool" not in db.get_connection_params()
    with db.cursor() as cursor:  # mysqlclient on the same alias
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
    db.close()


def test_each_event_loop_gets_its_own_engine_pool(make_alias: MakeAlias) -> None:
    db = make_alias("a_loops")

    async def use() -> Any:
        async with db.acursor() as cursor:
            await cursor.execute("SELECT 3")
            assert await cursor.fetchone() == (3,)
        pool = db.pool()
        await close_pools()
        return pool

    assert asyncio.run(use()) is not asyncio.run(use())


def test_connections_handler_builds_the_async_engine(make_alias: MakeAlias) -> None:
    make_alias("a_handler")
    assert type(connections["a_handler"]) is DatabaseWrapper


@pytest.mark.asyncio
async def test_bytes_escape_like_mysqlclient_so_binary_placeholders_work(make_alias: MakeAlias) -> None:
    """Django's MySQL operations write `_binary %s` for BinaryField; PyMySQL's own escaping would add a
    second `_binary` introducer. The engine escapes bytes as mysqlclient does."""
    db = make_alias("a_binary")
    payload = bytes(range(256))
    async with db.acursor() as cursor:
        await cursor.execute("SELECT _binary %s, %s", [payload, bytearray(b"\x00'")])
        # Without the introducer the literal is text, exactly as mysqlclient sends it.
        assert await cursor.fetchone() == (payload, "\x00'")
    await close_pools()


@pytest.mark.asyncio
async def test_changed_settings_get_a_new_pool(make_alias: MakeAlias, endpoint: Any) -> None:
    """The test runner renames NAME to the test database after pools may exist: never reuse a pool
    built for other settings."""
    db = make_alias("a_rename")
    first = db.pool()
    async with db.acursor() as cursor:
        await cursor.execute("SELECT DATABASE()")
        assert await cursor.fetchone() == (endpoint.database,)
    db.settings_dict["NAME"] = "information_schema"
    second = db.pool()
    assert second is not first and first.closed and first.get_stats()["pool_size"] == 0
    async with db.acursor() as cursor:
        await cursor.execute("SELECT DATABASE()")
        assert await cursor.fetchone() == ("information_schema",)
    db.settings_dict["NAME"] = endpoint.database
    await close_pools()


@pytest.mark.gateway_only
@pytest.mark.asyncio
async def test_a_server_that_is_not_singlestore_is_refused(make_alias: MakeAlias, testbed: Any) -> None:
    """The server-data probe runs on the pooled connection (no blocking mysqlclient call on the loop) and
    refuses MariaDB itself, as the sync side does."""
    db = make_alias("a_mariadb", endpoint=testbed.direct)
    with pytest.raises(NotSupportedError, match="not SingleStore"):
        async with db.acursor():
            pass
    assert db.pool().get_stats()["in_use"] == 0
    await close_pools()


@pytest.mark.asyncio
async def test_server_data_is_read_on_the_pooled_connection(make_alias: MakeAlias) -> None:
    db = make_alias("a_server_data")
    async with db.acursor() as cursor:
        await cursor.execute("SELECT 1")
    # Filled by the async probe: reading it now does no I/O (a sync round trip here would raise
    # SynchronousOnlyOperation inside the event loop).
    assert db.singlestore_server_data.version >= (8,)
    await close_pools()


@pytest.mark.asyncio
async def test_debug_records_a_failed_statement_not_the_previous_one(make_alias: MakeAlias) -> None:
    db = make_alias("a_debug_fail")
    db.force_debug_cursor = True
    async with db.acursor() as cursor:
        await cursor.execute("SELECT 1")
        with pytest.raises(ProgrammingError):
            await cursor.execute("SELECT * FROM missing WHERE x = %s", ["it's"])
    assert [q["sql"] for q in db.queries] == ["SELECT 1", "SELECT * FROM missing WHERE x = 'it\\'s'"]
    await close_pools()
