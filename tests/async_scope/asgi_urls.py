"""Views of the ASGI handler tests (`test_asgi_handler_it.py`)."""

from __future__ import annotations

import io

from django.db import connections
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.urls import path

from tests.async_orm.models import Author

NATIVE, STOCK = "native", "stock"


async def native(request: HttpRequest) -> JsonResponse:
    """Native reads only (the `native` alias runs Django's async API on the loop)."""
    ann = await Author.objects.using(NATIVE).aget(name="ann")
    count = await Author.objects.using(NATIVE).acount()
    return JsonResponse({"name": ann.name, "count": count})


async def stock(request: HttpRequest) -> JsonResponse:
    """A read on the `stock` alias (native_async=False): Django's thread hop, a mysqlclient connection."""
    ann = await Author.objects.using(STOCK).aget(name="ann")
    return JsonResponse({"name": ann.name})


async def fail(request: HttpRequest) -> HttpResponse:
    await Author.objects.using(NATIVE).aget(name="nobody-by-that-name")  # DoesNotExist -> 500
    return HttpResponse(b"unreachable")


async def file(request: HttpRequest) -> FileResponse:
    """A response with a resource of its own to close (the file)."""
    await Author.objects.using(NATIVE).acount()
    return FileResponse(io.BytesIO(b"file body"))


async def queries(request: HttpRequest) -> JsonResponse:
    """What `connection.queries` shows inside the request (DEBUG is on in these tests)."""
    await Author.objects.using(NATIVE).acount()
    return JsonResponse({"queries": [q["sql"] for q in connections[NATIVE].queries]})


urlpatterns = [
    path("native", native),
    path("stock", stock),
    path("fail", fail),
    path("file", file),
    path("queries", queries),
]
