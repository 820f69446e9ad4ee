"""The greenlet-mode wrapper: Django's sync ORM code over a pooled aiomysql connection.

Inside a native call (`scope.run_orm`), `connections[alias]` of a native alias is an instance of
`greenlet_wrapper_class(cls)`: the engine's own `DatabaseWrapper` (same features, operations,
compiler, transaction policy) whose DB-API connection is `PooledConnectionAdapter`, a sync facade
that `await_only`s each round trip of a `PooledConnection` borrowed from the alias's pool. Django's
own `CursorWrapper`/`CursorDebugWrapper`, `DatabaseErrorWrapper`, `atomic()` and `on_commit` run
unchanged on top of it.

What Django needs from such a wrapper (greenlet-spike.md §3):

* its ten `@async_unsafe` base methods without the event-loop check (the check would always fire:
  the loop runs on this thread). `_Unguarded` puts their undecorated functions just above
  `BaseDatabaseWrapper` in the MRO, so every override of the sync backend (the transaction
  policy's `rollback()`, ...) still runs; wrappers outside the bridge keep the check;
* `Database` whose exception classes are (MySQLdb, PyMySQL) tuples, so `DatabaseErrorWrapper`
  turns PyMySQL's errors into Django's, and `Binary` for BinaryField;
* no `SET autocommit=1` while a transaction is open (MySQL would COMMIT it): after an interrupted
  rollback the connection is discarded instead (hazard H4).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from typing import Any

import MySQLdb
import pymysql
from django.db.backends.base.base import BaseDatabaseWrapper

from django_singlestore import base as sync_base
from django_singlestore_async.bridge import await_only
from django_singlestore_async.connection import PoolCursor, PooledConnection
from django_singlestore_async.pool import AsyncConnectionPool
from django_singlestore_async.scope import current_scope

__all__ = ["PooledConnectionAdapter", "PooledCursorAdapter", "greenlet_wrapper_class"]

#: The `@async_unsafe` methods of BaseDatabaseWrapper (Django 5.2 and 6.1).
UNGUARDED_METHODS = (
    "connect",
    "ensure_connection",
    "cursor",
    "commit",
    "rollback",
    "close",
    "savepoint",
    "savepoint_rollback",
    "savepoint_commit",
    "clean_savepoints",
)


class DatabaseShim:
    """`wrapper.Database` in greenlet mode: each PEP 249 exception is the (MySQLdb, PyMySQL) pair."""

    Binary = bytes


for _name in (
    "Error",
    "InterfaceError",
    "DatabaseError",
    "DataError",
    "OperationalError",
    "IntegrityError",
    "InternalError",
    "ProgrammingError",
    "NotSupportedError",
    "Warning",
):
    setattr(DatabaseShim, _name, (getattr(MySQLdb, _name), getattr(pymysql.err, _name)))


class _Unguarded(BaseDatabaseWrapper):
    """BaseDatabaseWrapper's `@async_unsafe` methods, undecorated (see the module docstring)."""


for _name in UNGUARDED_METHODS:
    _method = getattr(BaseDatabaseWrapper, _name)
    # A Django whose method is not @async_unsafe any more: routing.self_check() reports it.
    setattr(_Unguarded, _name, getattr(_method, "__wrapped__", _method))


async def _guarded(conn: PooledConnection, what: str, make: Any) -> Any:
    async with conn.round_trip(what):
        return await make()


class PooledCursorAdapter:
    """A blocking DB-API cursor over a pooled connection's guarded cursor (inside the bridge)."""

    def __init__(self, cursor: PoolCursor) -> None:
        self._cursor = cursor
        self._raw = cursor.raw

    description = property(lambda self: self._raw.description)
    rowcount = property(lambda self: self._raw.rowcount)
    lastrowid = property(lambda self: self._raw.lastrowid)
    arraysize = property(lambda self: self._raw.arraysize)

    @property
    def _executed(self) -> str | None:
        """What Django's `last_executed_query` reads (the statement as sent)."""
        return self._raw._executed

    def execute(self, query: str, args: Any = None) -> int:
        self._raw._executed = None
        try:
            return await_only(self._cursor.execute(query, args))
        except BaseException:
            if self._raw._executed is None:
                self._raw._executed = query
            raise

    def executemany(self, query: str, args: Sequence[Any]) -> int:
        return await_only(self._cursor.executemany(query, args))

    # aiomysql's buffered cursor answers fetches with finished futures: no loop round trip. Rows
    # come as tuples, as mysqlclient gives them (Django stops a chunked fetch at `()`, the MySQL
    # backend's empty_fetchmany_value).
    def fetchone(self) -> tuple[Any, ...] | None:
        return await_only(self._raw.fetchone())

    def fetchmany(self, size: int | None = None) -> tuple[tuple[Any, ...], ...]:
        return tuple(await_only(self._raw.fetchmany(size)))

    def fetchall(self) -> tuple[tuple[Any, ...], ...]:
        return tuple(await_only(self._raw.fetchall()))

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.fetchone, None)

    def close(self) -> None:
        await_only(self._cursor.close())


class PooledConnectionAdapter:
    """A blocking DB-API connection over one borrowed `PooledConnection`; `close()` gives it back."""

    def __init__(self, conn: PooledConnection, pool: AsyncConnectionPool) -> None:
        self.pooled = conn
        self.pool = pool
        self._released = False

    @property
    def encoders(self) -> Any:
        return self.pooled.raw.encoders

    def cursor(self) -> PooledCursorAdapter:
        return PooledCursorAdapter(self.pooled.cursor())

    def commit(self) -> None:
        await_only(_guarded(self.pooled, "commit", self.pooled.raw.commit))

    def rollback(self) -> None:
        await_only(_guarded(self.pooled, "rollback", self.pooled.raw.rollback))

    def get_autocommit(self) -> bool:
        return bool(self.pooled.raw.get_autocommit())

    def autocommit(self, value: bool) -> None:
        conn = self.pooled
        if value and conn.in_transaction:
            # SET autocommit=1 would COMMIT what an interrupted ROLLBACK left open (hazard H4).
            conn.poison("autocommit requested with a transaction open")
            raise pymysql.err.InterfaceError(
                0, "refused to turn autocommit on inside an open transaction; connection discarded"
            )
        if self.get_autocommit() != bool(value):
            await_only(_guarded(conn, "autocommit", functools.partial(conn.raw.autocommit, bool(value))))

    def ping(self, reconnect: bool = False) -> None:
        await_only(self.pooled.ping())

    def escape(self, obj: Any, mapping: Any = None) -> str:
        return str(self.pooled.raw.escape(obj))

    def get_server_info(self) -> str:
        return str(self.pooled.raw.get_server_info())

    def character_set_name(self) -> str:
        return str(self.pooled.raw.charset)

    def thread_id(self) -> int:
        return self.pooled.server_id

    def close(self) -> None:
        """Give the connection back to the pool (once); the pool resets or discards it."""
        if not self._released:
            self._released = True
            self.pool.release(self.pooled)


class GreenletCursorWrapper(sync_base.CursorWrapper):
    """The sync backend's cursor wrapper (parameter checks, the shared error table, the schema-change
    and oversized-statement errors) over PyMySQL's errors."""

    driver_error = pymysql.err.Error


class GreenletModeMixin:
    """What the greenlet-mode wrapper changes (placed first in its MRO)."""

    greenlet_mode = True
    Database = DatabaseShim

    # Provided by the engine's DatabaseWrapper.
    alias: str
    connection: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scope = current_scope()
        if scope is not None:
            scope.adopt(self)  # type: ignore[arg-type]

    def get_new_connection(self, conn_params: dict[str, Any]) -> PooledConnectionAdapter:
        pool = self.pool()  # type: ignore[attr-defined]
        conn = await_only(self._aacquire(pool))  # type: ignore[attr-defined]
        return PooledConnectionAdapter(conn, pool)

    def create_cursor(self, name: str | None = None) -> GreenletCursorWrapper:
        policy = self.transaction_policy  # type: ignore[attr-defined]
        on_statement = None if policy.sends_transaction_control else self.note_statement  # type: ignore[attr-defined]
        return GreenletCursorWrapper(self.connection.cursor(), on_statement)

    def is_usable(self) -> bool:
        try:
            self.connection.ping()
        except pymysql.err.Error:
            return False
        return True

    def release_pooled_connection(self) -> None:
        """Safety net after `close()`: the borrowed connection is back in the pool whatever happened."""
        conn = self.connection
        if isinstance(conn, PooledConnectionAdapter):
            conn.close()
        self.connection = None


_classes: dict[type, type] = {}


def greenlet_wrapper_class(cls: type) -> type:
    """The greenlet-mode twin of an engine wrapper class (built once per class)."""
    twin = _classes.get(cls)
    if twin is None:
        twin = type(f"Greenlet{cls.__name__}", (GreenletModeMixin, cls, _Unguarded), {"__module__": __name__})
        _classes[cls] = twin
    return twin
