"""The benchmark views uvicorn serves: one per workload, on the process's `default` alias (BENCH_PATH).

Each view is what an app would write with Django's async ORM API (`benchmarks.workloads.orm_ops`); the
same functions run in-process in `benchmarks.cell`.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from benchmarks import workloads


@cache
def _ops() -> dict[str, Any]:
    ids = workloads.Ids(json.loads(Path(os.environ["BENCH_IDS_FILE"]).read_text()))
    return workloads.orm_ops(ids, use_async_atomic=settings.BENCH_PATH == "native")


def _view(name: str) -> Any:
    async def view(request: HttpRequest) -> HttpResponse:
        await _ops()[name]()
        return _response(b"ok")

    view.__name__ = f"{name}_view"
    return view


point = _view("point")
list_ = _view("list")
write = _view("write")
mixed = _view("mixed")


async def ping(request: HttpRequest) -> HttpResponse:
    return _response(b"pong")


def _response(body: bytes) -> HttpResponse:
    """A sized response (no middleware sets Content-Length; chunked would cost both sides more)."""
    response = HttpResponse(body, content_type="text/plain")
    response["Content-Length"] = str(len(body))
    return response
