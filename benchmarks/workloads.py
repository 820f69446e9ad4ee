"""The four request workloads, once per path: what one request does.

point: one row by primary key; list: 20 rows in key order; write: one UPDATE inside a transaction;
mixed: 3 point reads then 1 transactional write. The ORM paths (stock, native) use Django's standard
async ORM API only (`aget`, `async for`, `aupdate`), so the native path is whatever the alias's ENGINE
makes of that API (the async engine routes it natively). Django has no async transaction API; the
write uses the async engine's `async_atomic` when it exists and otherwise
`sync_to_async(transaction.atomic ...)`, as a stock app must (recorded per run). The ORM paths run
as views behind the process's ASGI handler (`asgi_get`, `benchmarks.asgi`).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.db import connection, transaction
from django.db.models import F

from benchmarks.benchapp.models import Item

WORKLOADS = ("point", "list", "write", "mixed")
TABLE = Item._meta.db_table
POINT_SQL = f"SELECT id, name, value, note FROM {TABLE} WHERE id = %s"
LIST_SQL = f"SELECT id, name, value, note FROM {TABLE} WHERE id >= %s ORDER BY id LIMIT 20"
UPDATE_SQL = f"UPDATE {TABLE} SET value = value + 1 WHERE id = %s"


class Ids:
    """The seeded primary keys (SingleStore's AUTO_INCREMENT need not start at 1 or be dense)."""

    def __init__(self, ids: list[int]) -> None:
        self.ids = ids
        self.list_starts = ids[: max(1, len(ids) - 20)]

    def one(self) -> int:
        return random.choice(self.ids)

    def list_start(self) -> int:
        return random.choice(self.list_starts)


def async_atomic_api() -> Callable[..., Any] | None:
    """The async engine's `async_atomic`, where issue 11 provides it."""
    for module in ("django_singlestore_async", "django_singlestore_async.transaction"):
        try:
            mod = __import__(module, fromlist=["async_atomic"])
        except ImportError:
            continue
        fn = getattr(mod, "async_atomic", None)
        if fn is not None:
            return fn
    return None


# --- ORM paths (stock and native): Django's async ORM API ------------------------------------------------


def _write_tx(pk: int) -> None:
    with transaction.atomic():
        Item.objects.filter(pk=pk).update(value=F("value") + 1)


def orm_ops(ids: Ids, *, use_async_atomic: bool) -> dict[str, Callable[[], Awaitable[Any]]]:
    atomic = async_atomic_api() if use_async_atomic else None

    async def point() -> Any:
        return await Item.objects.aget(pk=ids.one())

    async def list_() -> Any:
        return [obj async for obj in Item.objects.filter(id__gte=ids.list_start()).order_by("id")[:20]]

    if atomic is not None:

        async def write() -> Any:
            async with atomic():
                return await Item.objects.filter(pk=ids.one()).aupdate(value=F("value") + 1)

    else:

        async def write() -> Any:
            return await sync_to_async(_write_tx)(ids.one())

    async def mixed() -> Any:
        for _ in range(3):
            await point()
        await write()

    return {"point": point, "list": list_, "write": write, "mixed": mixed}


async def asgi_get(app: Callable[..., Awaitable[None]], path: str) -> int:
    """One GET through an ASGI application, as a server drives it (the in-process cells call the
    process's handler, `benchmarks.asgi.handler`, so the ORM paths pay what a real deployment's
    handler wraps around the view: Django's ThreadSensitiveContext and request signals on the stock
    paths, the async engine's handler on the native path). Returns the status."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"bench")], "client": ("127.0.0.1", 1), "server": ("bench", 80),
    }  # fmt: skip
    body = [{"type": "http.request", "body": b"", "more_body": False}]
    status = [0]

    async def receive() -> dict[str, Any]:
        if body:
            return body.pop()
        await asyncio.get_running_loop().create_future()  # the client stays connected
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status[0] = message["status"]

    await app(scope, receive, send)
    if status[0] != 200:
        raise RuntimeError(f"GET {path}: HTTP {status[0]}")
    return status[0]


# --- async floors --------------------------------------------------------------------------------------


def acursor_ops(ids: Ids) -> dict[str, Callable[[], Awaitable[Any]]]:
    """Raw SQL on the async engine's pool through `connection.acursor()`."""

    async def point() -> Any:
        async with connection.acursor() as cursor:
            await cursor.execute(POINT_SQL, [ids.one()])
            return await cursor.fetchone()

    async def list_() -> Any:
        async with connection.acursor() as cursor:
            await cursor.execute(LIST_SQL, [ids.list_start()])
            return await cursor.fetchall()

    async def write() -> Any:
        async with connection.acursor() as cursor:
            await cursor.execute("START TRANSACTION")
            await cursor.execute(UPDATE_SQL, [ids.one()])
            await cursor.execute("COMMIT")

    async def mixed() -> Any:
        for _ in range(3):
            await point()
        await write()

    return {"point": point, "list": list_, "write": write, "mixed": mixed}


def aiomysql_ops(pool: Any, ids: Ids) -> dict[str, Callable[[], Awaitable[Any]]]:
    """Plain aiomysql on its own pool: no Django at all."""

    async def point() -> Any:
        async with pool.acquire() as conn, conn.cursor() as cursor:
            await cursor.execute(POINT_SQL, [ids.one()])
            return await cursor.fetchone()

    async def list_() -> Any:
        async with pool.acquire() as conn, conn.cursor() as cursor:
            await cursor.execute(LIST_SQL, [ids.list_start()])
            return await cursor.fetchall()

    async def write() -> Any:
        async with pool.acquire() as conn:
            await conn.begin()
            async with conn.cursor() as cursor:
                await cursor.execute(UPDATE_SQL, [ids.one()])
            await conn.commit()

    async def mixed() -> Any:
        for _ in range(3):
            await point()
        await write()

    return {"point": point, "list": list_, "write": write, "mixed": mixed}


# --- sync floors (one thread and one connection per client) -------------------------------------------------


def sync_orm_ops(ids: Ids) -> dict[str, Callable[[], Any]]:
    def point() -> Any:
        return Item.objects.get(pk=ids.one())

    def list_() -> Any:
        return list(Item.objects.filter(id__gte=ids.list_start()).order_by("id")[:20])

    def write() -> Any:
        _write_tx(ids.one())

    def mixed() -> Any:
        for _ in range(3):
            point()
        write()

    return {"point": point, "list": list_, "write": write, "mixed": mixed}


def mysqlclient_ops(conn: Any, ids: Ids) -> dict[str, Callable[[], Any]]:
    def point() -> Any:
        with conn.cursor() as cursor:
            cursor.execute(POINT_SQL, [ids.one()])
            return cursor.fetchone()

    def list_() -> Any:
        with conn.cursor() as cursor:
            cursor.execute(LIST_SQL, [ids.list_start()])
            return cursor.fetchall()

    def write() -> Any:
        with conn.cursor() as cursor:
            cursor.execute("START TRANSACTION")
            cursor.execute(UPDATE_SQL, [ids.one()])
        conn.commit()

    def mixed() -> Any:
        for _ in range(3):
            point()
        write()

    return {"point": point, "list": list_, "write": write, "mixed": mixed}
