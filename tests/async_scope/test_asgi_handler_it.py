"""`django_singlestore_async.asgi.ASGIHandler`: a native request never hops to a thread (statements and
request-signal receivers all on the loop thread), while anything Django must run on the request's
thread still goes there: unknown sync receivers, connections opened by sync code of the request,
responses with resources of their own. Driven as an ASGI server drives it (scope, receive, send)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import pytest_asyncio
from django.core import signals
from django.core.handlers.asgi import ASGIHandler as DjangoASGIHandler
from django.db import connections
from django.db.backends.signals import connection_created
from django.test.utils import override_settings

from django_singlestore_async.asgi import ASGIHandler, loop_safe
from tests.async_orm.conftest import NATIVE, STOCK, StatementLog, SyncSide

pytestmark = pytest.mark.asyncio


class Response:
    def __init__(self) -> None:
        self.status = 0
        self.body = b""

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")


async def call(app: Any, path: str) -> Response:
    """One GET through the ASGI interface, in the caller's task (so in its context)."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"testserver")], "client": ("127.0.0.1", 40000), "server": ("testserver", 80),
    }  # fmt: skip
    body = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if body:
            return body.pop()
        await asyncio.get_running_loop().create_future()  # the client never disconnects
        raise AssertionError("unreachable")

    response = Response()
    await app(scope, receive, response.send)
    return response


class Threads:
    """Where things ran: every statement (Django's query log records its thread), every receiver of
    ours, and every job handed to a thread pool (a thread hop)."""

    def __init__(self, log: StatementLog) -> None:
        self.loop = threading.get_ident()
        self.log = log
        self.receivers: list[tuple[str, int]] = []
        self.hops: list[str] = []

    @property
    def statements(self) -> list[tuple[str, int]]:
        return [(s.sql, s.thread) for s in self.log.records if s.alias in (NATIVE, STOCK)]

    def receiver(self, name: str) -> Callable[..., None]:
        def receive(**kwargs: Any) -> None:
            self.receivers.append((name, threading.get_ident()))

        return receive


@pytest.fixture
def threads(monkeypatch: pytest.MonkeyPatch, statements: StatementLog) -> Iterator[Threads]:
    seen = Threads(statements)
    submit = concurrent.futures.ThreadPoolExecutor.submit

    def recording_submit(executor: Any, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        seen.hops.append(getattr(getattr(fn, "func", fn), "__qualname__", type(fn).__qualname__))
        return submit(executor, fn, *args, **kwargs)

    monkeypatch.setattr(concurrent.futures.ThreadPoolExecutor, "submit", recording_submit)
    yield seen


@contextlib.contextmanager
def connected(signal: Any, receiver: Callable[..., Any]) -> Iterator[None]:
    signal.connect(receiver, weak=False)
    try:
        yield
    finally:
        signal.disconnect(receiver)


def serving() -> Any:
    """The test views, no middleware (a sync-only middleware would hop to a thread by itself)."""
    return override_settings(
        ROOT_URLCONF="tests.async_scope.asgi_urls", ALLOWED_HOSTS=["testserver"], MIDDLEWARE=[]
    )


@pytest_asyncio.fixture
async def app(side: SyncSide) -> AsyncIterator[ASGIHandler]:
    with serving():
        handler = ASGIHandler()
        assert (await call(handler, "/native")).status == 200  # the pool holds a connection now
        yield handler


async def test_a_native_request_never_leaves_the_loop_thread(app: ASGIHandler, threads: Threads) -> None:
    started, finished = loop_safe(threads.receiver("started")), loop_safe(threads.receiver("finished"))
    with connected(signals.request_started, started), connected(signals.request_finished, finished):
        response = await call(app, "/native")
    assert response.status == 200, response.body
    assert response.body == b'{"name": "ann", "count": 3}'
    assert threads.hops == []  # no sync_to_async at all: not for the signals, not for the ORM
    assert threads.receivers == [("started", threads.loop), ("finished", threads.loop)]
    assert len(threads.statements) == 2
    assert {thread for _sql, thread in threads.statements} == {threads.loop}
    assert connections[NATIVE].pool().get_stats()["in_use"] == 0


async def test_async_receivers_are_awaited_on_the_loop(app: ASGIHandler, threads: Threads) -> None:
    ran: list[tuple[str, int]] = []

    async def started(**kwargs: Any) -> None:
        ran.append(("started", threading.get_ident()))

    with connected(signals.request_started, started):
        assert (await call(app, "/native")).status == 200
    assert ran == [("started", threads.loop)]
    assert threads.hops == []


async def test_an_unknown_sync_receiver_still_runs_on_the_request_thread(
    app: ASGIHandler, threads: Threads
) -> None:
    with connected(signals.request_started, threads.receiver("unknown")):
        response = await call(app, "/native")
    assert response.status == 200
    [(name, thread)] = threads.receivers
    assert name == "unknown" and thread != threads.loop
    assert threads.hops  # Django's path: the signal went through sync_to_async
    assert {thread for _sql, thread in threads.statements} == {threads.loop}  # the ORM stays native


async def test_djangos_own_handler_is_unchanged(side: SyncSide, threads: Threads) -> None:
    finished = loop_safe(threads.receiver("finished"))
    with serving(), connected(signals.request_finished, finished):
        assert (await call(DjangoASGIHandler(), "/native")).status == 200
    [(_name, thread)] = threads.receivers
    assert thread != threads.loop


async def test_a_request_that_used_the_thread_closes_its_connection_there(
    app: ASGIHandler, threads: Threads
) -> None:
    """CONN_MAX_AGE=0: Django closes the mysqlclient connection the request's sync code opened, at
    request_finished, on that thread; the handler sends request_finished there."""
    opened: list[Any] = []

    def on_connect(sender: Any, connection: Any, **kwargs: Any) -> None:
        if connection.alias == STOCK:
            opened.append((connection, threading.get_ident()))

    assert connections.settings[STOCK].get("CONN_MAX_AGE", 0) == 0
    finished = loop_safe(threads.receiver("finished"))
    with connected(connection_created, on_connect), connected(signals.request_finished, finished):
        response = await call(app, "/stock")
    assert response.status == 200, response.body
    [(wrapper, thread)] = opened
    assert thread != threads.loop
    assert wrapper.connection is None  # closed by close_old_connections on the request's thread
    assert threads.receivers == [("finished", thread)]


@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators")
async def test_a_response_with_resources_of_its_own_is_closed_on_the_thread(
    app: ASGIHandler, threads: Threads
) -> None:
    finished = loop_safe(threads.receiver("finished"))
    with connected(signals.request_finished, finished):
        response = await call(app, "/file")
    assert response.status == 200 and response.body == b"file body"
    [(_name, thread)] = threads.receivers
    assert thread != threads.loop  # FileResponse.close() closes a file: Django's sync_to_async path


async def test_the_query_log_is_reset_when_the_request_starts(app: ASGIHandler) -> None:
    """reset_queries runs on the loop, on the wrappers whose log the native statements go to."""
    connections[NATIVE].queries_log.append({"sql": "SELECT 'from before the request'", "time": "0"})
    response = await call(app, "/queries")
    assert response.status == 200
    sqls = response.body.decode()
    assert "from before the request" not in sqls and "COUNT" in sqls


async def test_receiver_errors_propagate(app: ASGIHandler, threads: Threads) -> None:
    @loop_safe
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("receiver failed")

    for signal in (signals.request_started, signals.request_finished):
        with connected(signal, broken), pytest.raises(RuntimeError, match="receiver failed"):
            await call(app, "/native")
    assert connections[NATIVE].pool().get_stats()["in_use"] == 0


async def test_a_failing_native_view_answers_500_and_returns_its_connection(
    app: ASGIHandler, threads: Threads
) -> None:
    response = await call(app, "/fail")
    assert response.status == 500
    # The view's statement; DEBUG's technical 500 page then reprs the frame's querysets in a thread.
    [thread] = {thread for sql, thread in threads.statements if "nobody-by-that-name" in sql}
    assert thread == threads.loop
    assert connections[NATIVE].pool().get_stats()["in_use"] == 0
