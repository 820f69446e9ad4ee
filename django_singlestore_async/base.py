"""`ENGINE: "django_singlestore_async"`: the sync SingleStore backend plus an async side.

`DatabaseWrapper` subclasses `django_singlestore.base.DatabaseWrapper`, so features, operations,
the schema editor, introspection, creation, OPTIONS validation, connection parameters, the error
table and the transaction policy are the sync backend's own classes. Migrations, `dbshell` and sync
ORM calls on this alias keep using mysqlclient. What this class adds:

* `OPTIONS["pool"]` is accepted (the sync connection never sees it) and validated once;
* `pool()`: this event loop's aiomysql pool for the alias (`pool.pool_for`), built from the same
  connect parameters as mysqlclient's (`driver.aiomysql_params`);
* `acursor()`: `async with connection.acursor() as cursor:` borrows a pooled connection for the
  block and returns it, whatever happens (a cancelled or failed round trip poisons it and the pool
  discards it);
* the server data the sync side reads once per alias (`SERVER_DATA_QUERY`) is read on the first
  pooled connection instead of a blocking mysqlclient round trip on the event loop, through the sync
  backend's own rules (`server_data_fallback`, `ServerData.from_row`), then cached and checked by its
  `check_server_data` (version, child-aggregator warning): an alias behaves the same whichever engine
  connects first;
* the native async ORM: inside a native call (`scope.run_orm`, which the routing of Django's `a*`
  API uses) Django builds this alias's wrapper in greenlet mode (`native.greenlet_wrapper_class`),
  whose DB-API connection is a pooled one; on the loop outside such a call, sync database access
  still raises `SynchronousOnlyOperation`, with the ways out in its message.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any

import pymysql
from django.core.exceptions import SynchronousOnlyOperation
from django.db import DEFAULT_DB_ALIAS
from django.db.transaction import TransactionManagementError
from django.utils.functional import cached_property

from django_singlestore import base as sync_base
from django_singlestore_async import checks
from django_singlestore_async.bridge import HOW_TO
from django_singlestore_async.connection import PooledConnection
from django_singlestore_async.cursor import AsyncCursorDebugWrapper, AsyncCursorWrapper, django_error
from django_singlestore_async.driver import AsyncDriverParams, Connection, aiomysql_params
from django_singlestore_async.native import PooledConnectionAdapter, greenlet_wrapper_class
from django_singlestore_async.pool import AsyncConnectionPool, PoolConfig, close_pools, pool_for
from django_singlestore_async.scope import (
    checkout_cap,
    current_pin,
    current_scope,
    native_settings,
    release_cap,
)

__all__ = ["DatabaseWrapper"]


class DatabaseFeatures(sync_base.DatabaseFeatures):
    """The sync backend's features, plus the one test of Django's suite this engine cannot run."""

    @cached_property
    def django_test_skips(self) -> dict[str, set[str]]:
        skips = {reason: set(tests) for reason, tests in super().django_test_skips.items()}
        skips.setdefault(
            "async engine: ensure_connection() is overridden (it guards sync access from async code) and "
            "calls BaseDatabaseWrapper.ensure_connection(), which this test replaces with a mock that calls "
            "the override again: infinite recursion (the sync backend does not override it and passes)",
            set(),
        ).add(
            "test_utils.tests.AssertNumQueriesUponConnectionTests.test_ignores_connection_configuration_queries"
        )
        return skips


class DatabaseWrapper(sync_base.DatabaseWrapper):
    features_class = DatabaseFeatures
    #: OPTIONS["pool"] belongs to this engine (the sync backend refuses it).
    accepts_pool_option = True
    #: True for the wrappers a native ORM call creates (`native.greenlet_wrapper_class`).
    greenlet_mode = False
    #: The sync backend's checks plus singlestore_async.W001 (the app missing from INSTALLED_APPS).
    validation_class = checks.DatabaseValidation

    def __new__(
        cls, settings_dict: dict[str, Any] | None = None, alias: str = DEFAULT_DB_ALIAS
    ) -> DatabaseWrapper:
        # Inside a native ORM call (scope.run_orm), Django's ConnectionHandler builds this alias's
        # wrapper in greenlet mode: the same class plus the pooled DB-API adapter. copy.copy() (Django's
        # test_creation copies a connection) calls __new__ with no arguments: the same class.
        if (
            settings_dict is not None
            and not cls.greenlet_mode
            and current_scope() is not None
            and native_settings(settings_dict)
        ):
            cls = greenlet_wrapper_class(cls)
        return super().__new__(cls)

    # --- sync access on the event loop: Django's refusal, with the way out -----------------------------

    def _caller_side_of_native(self) -> bool:
        """Whether this is a native alias's own wrapper, used on the event loop outside the bridge:
        its statements run on wrappers of the native calls, never on it."""
        if self.greenlet_mode or not native_settings(self.settings_dict):
            return False
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return False
        return True

    def guard_sync_access(self) -> None:
        """TransactionManagementError when sync code reaches this alias while an `async_atomic` block
        of it is open in the calling context: it would run on another connection, outside the
        transaction (a `sync_to_async` function inherits the task's context)."""
        if self.greenlet_mode:
            return
        pin = current_pin(self.alias)
        if pin is not None and pin.in_transaction_block:
            raise TransactionManagementError(
                f"Database {self.alias!r}: sync database access inside an async_atomic() block would use "
                f"another connection, outside the block's transaction. Run the sync code natively on the "
                f"block's connection with `await django_singlestore_async.run_orm(function, *args)`, or "
                f"move it out of the block."
            )

    def ensure_connection(self) -> None:
        if self._caller_side_of_native():
            # Nothing to open: each native call borrows from the pool. So `CaptureQueriesContext` /
            # `assertNumQueries` (which call this first) work in async code; cursor() still refuses.
            return
        self.guard_sync_access()
        try:
            super().ensure_connection()
        except SynchronousOnlyOperation as exc:
            raise self._sync_only_error() from exc

    def get_autocommit(self) -> bool:
        if self._caller_side_of_native():
            raise self._sync_only_error()
        return bool(super().get_autocommit())

    def set_autocommit(
        self, autocommit: bool, force_begin_transaction_with_broken_autocommit: bool = False
    ) -> None:
        if self._caller_side_of_native():
            raise self._sync_only_error()
        super().set_autocommit(autocommit, force_begin_transaction_with_broken_autocommit)

    def cursor(self) -> Any:
        self.guard_sync_access()
        try:
            return super().cursor()
        except SynchronousOnlyOperation as exc:
            raise self._sync_only_error() from exc

    def _sync_only_error(self) -> SynchronousOnlyOperation:
        return SynchronousOnlyOperation(
            f"Database {self.alias!r}: sync ORM code reached the database from the event loop, outside "
            f"a native ORM call. {HOW_TO}"
        )

    # --- configuration --------------------------------------------------------------------------------

    @cached_property
    def pool_config(self) -> PoolConfig:
        """OPTIONS["pool"], validated; `pre_ping` defaults to the alias's CONN_HEALTH_CHECKS."""
        return PoolConfig.from_options(
            self.singlestore_options.pool,
            pre_ping=bool(self.settings_dict.get("CONN_HEALTH_CHECKS", False)),
        )

    def get_connection_params(self) -> dict[str, Any]:
        self.pool_config  # noqa: B018 - OPTIONS["pool"] is validated wherever the other OPTIONS are
        return super().get_connection_params()

    def get_async_connection_params(self) -> AsyncDriverParams:
        """The sync backend's mysqlclient parameters, translated for aiomysql."""
        return aiomysql_params(self.get_connection_params())

    def _build_pool(self) -> AsyncConnectionPool:
        params = self.get_async_connection_params()
        return AsyncConnectionPool(
            params.connect_kwargs,
            self.pool_config,
            name=self.alias,
            connect_timeout=params.connect_timeout,
            read_timeout=params.read_timeout,
            write_timeout=params.write_timeout,
            ssl_required=params.ssl_required,
            connection_class=Connection,
        )

    def pool(self) -> AsyncConnectionPool:
        """The running event loop's pool for this alias (created on first use; a new loop gets a new
        pool, and so do changed settings, e.g. NAME renamed to the test database)."""
        settings_dict = self.settings_dict
        key = tuple(
            repr(settings_dict.get(name)) for name in ("NAME", "HOST", "PORT", "USER", "PASSWORD", "OPTIONS")
        )
        return pool_for(self.alias, self._build_pool, key)

    async def aclose_pool(self, timeout: float = 5.0) -> int:
        """Close this alias's pool on the running loop: borrowed connections get `timeout` seconds to
        come back, then they are terminated (returns how many were)."""
        return await close_pools(self.alias, timeout)

    # --- async cursors --------------------------------------------------------------------------------

    def acursor(self) -> _AsyncCursorContext:
        """`async with connection.acursor() as cursor:` a raw async cursor on a pooled connection (the
        block's own one inside `async_atomic` / `new_connection`, which stays checked out)."""
        return _AsyncCursorContext(self)

    def make_async_cursor(self, cursor: Any) -> AsyncCursorWrapper:
        if self.queries_logged:
            return AsyncCursorDebugWrapper(cursor, self)
        return AsyncCursorWrapper(cursor, self)

    async def _aacquire(self, pool: AsyncConnectionPool) -> PooledConnection:
        """A connection from `pool`, inside the context's `limit_connections()` cap (if any); give it
        back with `release_checkout`."""
        try:
            conn: PooledConnection = await checkout_cap(pool.acquire)
        except pymysql.err.Error as exc:
            raise django_error(exc) from exc
        try:
            await self._aensure_server_data(conn)
        except BaseException:
            release_checkout(pool, conn)
            raise
        return conn

    async def _aensure_server_data(self, conn: PooledConnection) -> None:
        """The sync side's server-data step without blocking the loop: read it on `conn` unless cached,
        then the checks every new connection runs (version, child-aggregator warning)."""
        if not self.has_server_data:
            self.remember_server_data(await self._aread_server_data(conn))
        self.check_server_data()

    async def _aread_server_data(self, conn: PooledConnection) -> sync_base.ServerData:
        """`sync_base.read_server_data`'s loop, awaiting the pooled connection's cursor."""
        query = sync_base.SERVER_DATA_QUERY
        try:
            while True:
                try:
                    async with conn.cursor() as cursor:
                        await cursor.execute(query)
                        row = await cursor.fetchone()
                    break
                except pymysql.err.Error as exc:
                    query = sync_base.server_data_fallback(query, exc, **self._server_data_where())
        except pymysql.err.Error as exc:
            raise django_error(exc) from exc
        return sync_base.server_data_from_row(row)


def release_checkout(pool: AsyncConnectionPool, conn: PooledConnection) -> None:
    """Give a connection from `_aacquire` back to its pool, and its slot of the cap."""
    try:
        pool.release(conn)
    finally:
        release_cap(conn)


class _AsyncCursorContext:
    """What `acursor()` returns: borrows on enter, always gives the connection back on exit."""

    def __init__(self, db: DatabaseWrapper) -> None:
        self.db = db
        self._pool: AsyncConnectionPool | None = None
        self._conn: PooledConnection | None = None
        self._cursor: AsyncCursorWrapper | None = None

    async def __aenter__(self) -> AsyncCursorWrapper:
        pin = current_pin(self.db.alias)
        if pin is not None:
            return self._pinned(pin)
        self._pool = self.db.pool()
        self._conn = await self.db._aacquire(self._pool)
        self._cursor = self.db.make_async_cursor(self._conn.cursor())
        return self._cursor

    def _pinned(self, pin: Any) -> AsyncCursorWrapper:
        """The pinned connection's cursor (owner task only; refused in a doomed block, as Django's
        cursors are)."""
        pin.check_owner()
        wrapper = pin.wrapper
        if wrapper.needs_rollback:
            raise TransactionManagementError(
                "An error occurred in the current transaction. You can't execute queries until the end "
                "of the 'async_atomic' block."
            )
        adapter = wrapper.connection
        if not isinstance(adapter, PooledConnectionAdapter):
            raise TransactionManagementError(
                f"Database {self.db.alias!r}: the pinned connection is closed, or is a test's borrowed "
                f"mysqlclient connection (acursor() needs a pooled one: use a flush-based test case)."
            )
        self._cursor = self.db.make_async_cursor(adapter.pooled.cursor())
        return self._cursor

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        conn, self._conn = self._conn, None
        if conn is None or self._pool is None:
            if exc is None and self._cursor is not None:  # a pinned connection stays checked out
                await self._cursor.close()
            return
        try:
            if exc is None and self._cursor is not None:
                await self._cursor.close()
        finally:
            release_checkout(self._pool, conn)
