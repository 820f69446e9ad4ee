"""Run by tests/examples/test_readme_it.py in its own process: the README's quick-start settings and
asgi.py, its async-view and raw-cursor examples (written out verbatim next to this run's settings),
served through the ASGI application in process, on the shop example's models. Prints a JSON report."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402


async def http_get(app: Any, path: str, cookie: str) -> tuple[int, Any]:
    messages: list[dict[str, Any]] = []
    requested = False
    never = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await never.wait()  # no disconnect while the view runs
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"cookie", cookie.encode())],
        "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 80),
    }  # fmt: skip
    await app(scope, receive, send)
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return messages[0]["status"], json.loads(body)


async def serve(product_pk: int, cookie: str) -> dict[str, Any]:
    from readme_asgi import application  # the quick start's asgi.py

    lifespan: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    events: list[str] = []

    async def send(message: dict[str, Any]) -> None:
        events.append(message["type"])

    await lifespan.put({"type": "lifespan.startup"})
    task = asyncio.create_task(
        application({"type": "lifespan", "asgi": {"version": "3.0"}}, lifespan.get, send)
    )
    while not events:
        await asyncio.sleep(0.01)
    report: dict[str, Any] = {"startup": events[0]}
    report["product"] = await http_get(application, f"/product/{product_pk}", cookie)
    report["top"] = await http_get(application, "/top", cookie)
    await lifespan.put({"type": "lifespan.shutdown"})
    await task
    report["shutdown"] = events[-1]
    return report


def main() -> None:
    call_command("migrate", verbosity=0)
    call_command("seed_demo", products=12, password="readme-Secret-1", stdout=sys.stderr)
    client = Client()
    client.force_login(get_user_model().objects.get(username="customer"))
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    from shop.models import Product

    product = Product.objects.get(name="Product 005")
    report = asyncio.run(serve(product.pk, cookie))
    report["product_pk"] = product.pk
    print(json.dumps(report))


if __name__ == "__main__":
    main()
