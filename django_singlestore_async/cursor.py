"""Async cursor wrappers: Django's `CursorWrapper` / `CursorDebugWrapper` contract, awaited.

    async with connection.acursor() as cursor:
        await cursor.execute("SELECT id, name FROM app_thing WHERE id > %s", [10])
        async for row in cursor:
            ...

What the sync wrappers do, these do too:

* driver errors become Django's exceptions: first the backend's shared table
  (`django_singlestore.errors.django_exception_for`), then PyMySQL's class -> Django's class of
  the same name, as Django's `DatabaseErrorWrapper` does for mysqlclient;
* `connection.execute_wrapper()` hooks run around every execute/executemany. A hook gets the usual
  `(execute, sql, params, many, context)`; `execute(...)` returns an awaitable, which a plain
  (sync) hook returns as it is and an `async def` hook awaits. Blocking/inspecting hooks work
  unchanged; a hook that times the query must be `async def`;
* with `DEBUG` (or `force_debug_cursor`), each query is appended to `connection.queries` and logged
  on `django.db.backends` at DEBUG with `duration`, `sql`, `params` and `alias`.
"""

from __future__ import annotations

import functools
import inspect
import logging
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import pymysql
from django.db import utils as db_utils

from django_singlestore.errors import django_exception_for
from django_singlestore_async.connection import PoolCursor

if TYPE_CHECKING:
    from django_singlestore_async.base import DatabaseWrapper

logger = logging.getLogger("django.db.backends")

__all__ = ["AsyncCursorDebugWrapper", "AsyncCursorWrapper", "django_error"]

# Most specific first: PyMySQL's classes mirror PEP 249, as do Django's.
PEP249_ERROR_NAMES = (
    "DataError",
    "OperationalError",
    "IntegrityError",
    "InternalError",
    "ProgrammingError",
    "NotSupportedError",
    "InterfaceError",
    "DatabaseError",
    "Error",
)


def django_error(exc: BaseException) -> BaseException:
    """The Django exception to raise for a PyMySQL exception (or `exc` itself for anything else)."""
    if not isinstance(exc, pymysql.err.Error):
        return exc
    replacement = django_exception_for(exc)
    if replacement is not None:
        return replacement
    for name in PEP249_ERROR_NAMES:
        if isinstance(exc, getattr(pymysql.err, name)):
            return getattr(db_utils, name)(*exc.args)
    return exc


#: How many rows `async for` fetches at a time from the (buffered) result.
ITER_CHUNK_SIZE = 100


class AsyncCursorWrapper:
    """A Django-level async cursor over a pooled connection's guarded cursor."""

    def __init__(self, cursor: PoolCursor, db: DatabaseWrapper) -> None:
        self.cursor = cursor
        self.db = db

    # -- results -----------------------------------------------------------------------------------

    @property
    def description(self) -> Any:
        return self.cursor.description

    @property
    def rowcount(self) -> int:
        return self.cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self.cursor.lastrowid

    async def fetchone(self) -> tuple[Any, ...] | None:
        return await self.cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        return await self.cursor.fetchmany(size)

    async def fetchall(self) -> list[tuple[Any, ...]]:
        return await self.cursor.fetchall()

    async def __aiter__(self) -> AsyncIterator[tuple[Any, ...]]:
        while rows := await self.cursor.fetchmany(ITER_CHUNK_SIZE):
            for row in rows:
                yield row

    async def close(self) -> None:
        try:
            await self.cursor.close()
        except pymysql.err.Error as exc:
            raise django_error(exc) from exc

    async def __aenter__(self) -> AsyncCursorWrapper:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- execution ---------------------------------------------------------------------------------

    async def execute(self, sql: str, params: Any = None) -> int:
        return int(await self._execute_with_wrappers(sql, params, many=False, executor=self._execute))

    async def executemany(self, sql: str, param_list: Iterable[Sequence[Any]]) -> int:
        return int(await self._execute_with_wrappers(sql, param_list, many=True, executor=self._executemany))

    async def _execute_with_wrappers(self, sql: str, params: Any, many: bool, executor: Any) -> Any:
        context = {"connection": self.db, "cursor": self}
        for wrapper in reversed(self.db.execute_wrappers):
            executor = functools.partial(wrapper, executor)
        result = executor(sql, params, many, context)
        if inspect.isawaitable(result):
            result = await result
        return result

    async def _execute(self, sql: str, params: Any, *ignored_wrapper_args: Any) -> int:
        try:
            return await self.cursor.execute(sql, params)
        except pymysql.err.Error as exc:
            raise django_error(exc) from exc

    async def _executemany(self, sql: str, param_list: Any, *ignored_wrapper_args: Any) -> int:
        try:
            return await self.cursor.executemany(sql, param_list)
        except pymysql.err.Error as exc:
            raise django_error(exc) from exc


class AsyncCursorDebugWrapper(AsyncCursorWrapper):
    """Records queries in `connection.queries` and logs them, like Django's CursorDebugWrapper."""

    async def execute(self, sql: str, params: Any = None) -> int:
        raw = self.cursor.raw
        raw._executed = None  # aiomysql sets it only on success: never log the previous statement
        started = time.monotonic()
        try:
            return await super().execute(sql, params)
        finally:
            if raw._executed is None:
                try:
                    raw._executed = sql if params is None else raw.mogrify(sql, params)
                except Exception:
                    raw._executed = sql
            self._record(sql, params, time.monotonic() - started, many=False)

    async def executemany(self, sql: str, param_list: Iterable[Sequence[Any]]) -> int:
        param_list = list(param_list)
        started = time.monotonic()
        try:
            return await super().executemany(sql, param_list)
        finally:
            self._record(sql, param_list, time.monotonic() - started, many=True)

    def _record(self, sql: str, params: Any, duration: float, many: bool) -> None:
        if many:
            self.db.queries_log.append({"sql": f"{len(params)} times: {sql}", "time": f"{duration:.3f}"})
        else:
            sql = self.db.ops.last_executed_query(self.cursor.raw, sql, params)
            self.db.queries_log.append({"sql": sql, "time": f"{duration:.3f}"})
        logger.debug(
            "(%.3f) %s; args=%s; alias=%s",
            duration,
            sql,
            params,
            self.db.alias,
            extra={"duration": duration, "sql": sql, "params": params, "alias": self.db.alias},
        )
