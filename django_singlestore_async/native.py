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

A wrapper pinned by `transaction.async_atomic` refuses tasks other than its owner (`scope.Pin`) and
flags a COMMIT in flight (a cancellation then means "outcome unknown"). During a rollback-wrapped
test (`test.TestCase`) a wrapper borrows the test's mysqlclient connection and transaction state
instead of a pooled connection (`bind_test_transaction`).
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
from django_singlestore_async.cursor import PEP249_ERROR_NAMES
from django_singlestore_async.pool import AsyncConnectionPool
from django_singlestore_async.scope import current_scope, release_cap

__all__ = ["PooledConnectionAdapter", "PooledCursorAdapter", "greenlet_wrapper_class", "statement_counts"]

#: Statements the native path sent, process-wide: over a pooled connection ("pool"), or over a
#: test's borrowed mysqlclient connection ("test_connection", test.TestCase). Diagnostics only.
_served = {"pool": 0, "test_connection": 0}


def statement_counts() -> dict[str, int]:
    """How many statements the native path has sent in this process, by kind of connection."""
    return dict(_served)


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


for _name in (*PEP249_ERROR_NAMES, "Warning"):
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
        _served["pool"] += 1
        self._raw._executed = None
        try:
            return await_only(self._cursor.execute(query, args))
        except BaseException:
            if self._raw._executed is None:
                self._raw._executed = query
            raise

    def executemany(self, query: str, args: Sequence[Any]) -> int:
        _served["pool"] += 1
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
            try:
                self.pool.release(self.pooled)
            finally:
                release_cap(self.pooled)


class GreenletCursorWrapper(sync_base.CursorWrapper):
    """The sync backend's cursor wrapper (parameter checks, the shared error table, the schema-change
    and oversized-statement errors) over PyMySQL's errors."""

    driver_error = pymysql.err.Error


class BorrowedCursorWrapper(sync_base.CursorWrapper):
    """The sync backend's cursor wrapper over a test's borrowed mysqlclient connection (counted)."""

    def _run(self, method: Any, query: Any, args: Any, many: Any = False) -> Any:
        _served["test_connection"] += 1
        return super()._run(method, query, args, many)


class GreenletModeMixin:
    """What the greenlet-mode wrapper changes (placed first in its MRO)."""

    greenlet_mode = True
    Database = DatabaseShim
    #: Set by `scope.Pin`: the task that owns this wrapper across awaits (others are refused).
    pin: Any = None
    #: True from the moment COMMIT is asked for until it has answered: a cancellation in between
    #: leaves the transaction's outcome unknown (`transaction.CommitOutcomeUnknown`).
    commit_in_flight = False
    #: The sync wrapper whose open (test) transaction this wrapper borrows (scope.bind_test_connection).
    _test_wrapper: Any = None

    # Provided by the engine's DatabaseWrapper.
    alias: str
    connection: Any
    autocommit: bool
    in_atomic_block: bool
    needs_rollback: bool

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scope = current_scope()
        if scope is not None:
            scope.adopt(self)  # type: ignore[arg-type]

    # --- ownership (one task per pinned wrapper) ------------------------------------------------------

    def ensure_connection(self) -> None:
        if self.pin is not None:
            self.pin.check_owner()
        super().ensure_connection()  # type: ignore[misc]

    def validate_thread_sharing(self) -> None:
        if self.pin is not None:
            self.pin.check_owner()
        super().validate_thread_sharing()  # type: ignore[misc]

    def commit(self) -> None:
        self.commit_in_flight = True
        super().commit()  # type: ignore[misc]
        self.commit_in_flight = False

    # --- a test's transaction, borrowed --------------------------------------------------------------

    def bind_test_transaction(self, test_wrapper: Any) -> None:
        """Run on `test_wrapper`'s mysqlclient connection, inside its open transaction: the state
        Django's atomic() reads is copied (so blocks nest inside the test's), on_commit callbacks go
        to the test's list (captureOnCommitCallbacks sees them)."""
        if test_wrapper.connection is None:
            return
        self._test_wrapper = test_wrapper
        self.connection = test_wrapper.connection
        self.autocommit = test_wrapper.autocommit
        self.in_atomic_block = test_wrapper.in_atomic_block
        self.atomic_blocks = list(test_wrapper.atomic_blocks)
        self.savepoint_ids = list(test_wrapper.savepoint_ids)
        self.commit_on_exit = test_wrapper.commit_on_exit
        self.run_on_commit = test_wrapper.run_on_commit
        self.needs_rollback = test_wrapper.needs_rollback

    def close(self) -> None:
        test_wrapper = self._test_wrapper
        if test_wrapper is None:
            super().close()  # type: ignore[misc]
            return
        # A borrowed test connection stays open; a failure inside it dooms the test's transaction.
        self._test_wrapper = None
        test_wrapper.needs_rollback = test_wrapper.needs_rollback or self.needs_rollback
        self.connection = None
        self.in_atomic_block = False
        self.atomic_blocks = []
        self.run_on_commit = []

    def get_new_connection(self, conn_params: dict[str, Any]) -> PooledConnectionAdapter:
        pool = self.pool()  # type: ignore[attr-defined]
        conn = await_only(self._aacquire(pool))  # type: ignore[attr-defined]
        return PooledConnectionAdapter(conn, pool)

    def create_cursor(self, name: str | None = None) -> GreenletCursorWrapper | BorrowedCursorWrapper:
        policy = self.transaction_policy  # type: ignore[attr-defined]
        on_statement = None if policy.sends_transaction_control else self.note_statement  # type: ignore[attr-defined]
        if self._test_wrapper is not None:  # mysqlclient's cursor: the sync backend's wrapper
            return BorrowedCursorWrapper(self.connection.cursor(), on_statement)
        return GreenletCursorWrapper(self.connection.cursor(), on_statement)

    def is_usable(self) -> bool:
        try:
            self.connection.ping()
        except (pymysql.err.Error, MySQLdb.Error):
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
