"""The ASGI app of the uvicorn test: an async view doing `await Author.objects.aget()`, and `/stats`,
which says where every database statement of this process ran (thread, pooled connection)."""

from __future__ import annotations

import os
import threading
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.async_orm.asgi_settings")

from django.core.asgi import get_asgi_application

from django_singlestore_async.asgi import with_lifespan

django_application = get_asgi_application()

from django.db import connections  # noqa: E402
from django.db.backends.signals import connection_created  # noqa: E402
from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402

from django_singlestore_async.native import PooledConnectionAdapter  # noqa: E402
from tests.async_orm.models import Author  # noqa: E402

LOOP_THREAD = threading.main_thread().ident  # uvicorn runs its event loop on the main thread
STATS: dict[str, Any] = {"statements": 0, "off_loop": 0, "not_pooled": 0, "server_ids": set()}


def record(execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
    STATS["statements"] += 1
    if threading.get_ident() != LOOP_THREAD:
        STATS["off_loop"] += 1
    adapter = context["connection"].connection
    if isinstance(adapter, PooledConnectionAdapter):
        STATS["server_ids"].add(adapter.pooled.server_id)
    else:
        STATS["not_pooled"] += 1
    return execute(sql, params, many, context)


def hook_every_connection(sender: Any, connection: Any, **kwargs: Any) -> None:
    if record not in connection.execute_wrappers:
        connection.execute_wrappers.append(record)


connection_created.connect(hook_every_connection)


async def author(request: HttpRequest, pk: int) -> JsonResponse:
    found = await Author.objects.aget(pk=pk)
    return JsonResponse({"name": found.name})


async def stats(request: HttpRequest) -> JsonResponse:
    pool = connections["default"].pool().get_stats()
    return JsonResponse({**STATS, "server_ids": sorted(STATS["server_ids"]), "pool": pool})


urlpatterns = [path("author/<int:pk>", author), path("stats", stats)]

application = with_lifespan(django_application)
