"""ASGI lifespan for the async engine: open the pools at startup, close them at shutdown.

Django's ASGI handler refuses `lifespan` scopes, so without a wrapper the pools die with the event
loop ("Event loop is closed" from connections nobody closed). In `asgi.py`:

    from django.core.asgi import get_asgi_application
    from django_singlestore_async.asgi import with_lifespan

    application = with_lifespan(get_asgi_application())

and run uvicorn with its default `--lifespan auto` (or `on`). At startup every alias whose ENGINE is
`django_singlestore_async` gets its pool on the server's event loop, filled to `min_size`; a
failure is reported as `lifespan.startup.failed`. At shutdown the pools close: borrowed
connections get `close_timeout` seconds to come back, then they are terminated.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from django_singlestore_async.pool import close_pools

__all__ = ["ENGINE", "open_pools", "with_lifespan"]

ENGINE = "django_singlestore_async"

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def open_pools(timeout: float | None = None) -> list[str]:
    """Create and fill (to `min_size`) the running loop's pool of every async-engine alias; returns
    the aliases."""
    from django.db import connections

    aliases = [alias for alias in connections if connections.settings[alias]["ENGINE"] == ENGINE]
    for alias in aliases:
        await connections[alias].pool().open(wait=True, timeout=timeout)
    return aliases


def with_lifespan(app: ASGIApp, *, close_timeout: float = 10.0, open_timeout: float | None = None) -> ASGIApp:
    """Wrap an ASGI application (Django's) so that it answers the lifespan protocol."""

    async def application(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await open_pools(open_timeout)
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": f"{type(exc).__name__}: {exc}"})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await close_pools(timeout=close_timeout)
                except Exception as exc:
                    await send(
                        {"type": "lifespan.shutdown.failed", "message": f"{type(exc).__name__}: {exc}"}
                    )
                    return
                await send({"type": "lifespan.shutdown.complete"})
                return

    return application
