"""Views of the request-level tests (`test_requests_it.py`)."""

from __future__ import annotations

import asyncio

from django.db import connections, transaction
from django.http import HttpRequest, JsonResponse
from django.urls import path

from django_singlestore_async import run_orm
from tests.async_orm.models import Author, Book

NATIVE = "native"


async def gather(request: HttpRequest) -> JsonResponse:
    """Two models' queries at once, each on a connection of its own (outside a transaction)."""
    author, books = await asyncio.gather(Author.objects.aget(name="ann"), Book.objects.acount())
    return JsonResponse({"author": author.name, "books": books})


def _connection_id() -> int:
    with connections[NATIVE].cursor() as cursor:
        cursor.execute("SELECT CONNECTION_ID()")
        return int(cursor.fetchone()[0])


async def write(request: HttpRequest) -> JsonResponse:
    """Writes, then fails when asked: with ASYNC_ATOMIC_REQUESTS the write is rolled back."""
    await Author.objects.acreate(name=request.GET["name"])
    ids = {await run_orm(_connection_id), await run_orm(_connection_id)}
    if request.GET.get("fail"):
        raise ValueError("view failed after its write")
    return JsonResponse(
        {"connections": len(ids), "in_atomic": await run_orm(lambda: connections[NATIVE].in_atomic_block)}
    )


@transaction.non_atomic_requests(using=NATIVE)
async def write_non_atomic(request: HttpRequest) -> JsonResponse:
    return await write(request)


urlpatterns = [path("gather", gather), path("write", write), path("write-non-atomic", write_non_atomic)]
