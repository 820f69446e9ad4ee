"""The greenlet bridge on its own (no database): context, exceptions, cancellation, lifetime."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import SynchronousOnlyOperation
from greenlet import getcurrent

from django_singlestore_async.bridge import (
    MissingGreenlet,
    await_only,
    greenlet_iterate,
    greenlet_spawn,
    in_bridge,
)

pytestmark = pytest.mark.asyncio

VAR: contextvars.ContextVar[str] = contextvars.ContextVar("VAR", default="unset")


async def test_runs_on_the_loop_thread_with_the_callers_context() -> None:
    VAR.set("task value")
    loop_thread = threading.get_ident()

    def body(x: int) -> tuple[Any, ...]:
        assert in_bridge()
        slept = await_only(asyncio.sleep(0.01, result="slept"))
        return VAR.get(), threading.get_ident() == loop_thread, slept, x

    assert await greenlet_spawn(body, 5) == ("task value", True, "slept", 5)
    assert not in_bridge()


async def test_values_set_inside_do_not_leak_to_the_caller() -> None:
    VAR.set("outer")

    def body() -> str:
        VAR.set("inner")
        return VAR.get()

    assert await greenlet_spawn(body) == "inner"
    assert VAR.get() == "outer"


async def test_exceptions_cross_both_ways() -> None:
    async def fails() -> None:
        raise KeyError("from the coroutine")

    def catches() -> str:
        try:
            await_only(fails())
        except KeyError as exc:
            return f"caught {exc.args[0]}"
        return "not caught"

    assert await greenlet_spawn(catches) == "caught from the coroutine"

    def raises() -> None:
        await_only(asyncio.sleep(0))
        raise ValueError("from the sync code")

    with pytest.raises(ValueError, match="from the sync code"):
        await greenlet_spawn(raises)


async def test_finished_futures_are_answered_without_switching() -> None:
    future = asyncio.get_running_loop().create_future()
    future.set_result(42)
    switches = []

    def body() -> int:
        me = getcurrent()
        result = await_only(future)
        switches.append(getcurrent() is me)
        return result

    assert await greenlet_spawn(body) == 42 and switches == [True]


async def test_await_only_outside_the_bridge_is_a_synchronous_only_operation() -> None:
    coro = asyncio.sleep(0)
    with pytest.raises(MissingGreenlet) as info:
        await_only(coro)
    assert isinstance(info.value, SynchronousOnlyOperation)
    assert "run_orm" in str(info.value)
    assert coro.cr_frame is None  # closed, never "was never awaited"


async def test_cancellation_wins_over_cleanup_errors() -> None:
    cleaned = []

    def body() -> None:
        try:
            await_only(asyncio.sleep(10))
        finally:
            cleaned.append(await_only(asyncio.sleep(0, result="cleanup awaited")))
            raise RuntimeError("cleanup failed after the cancel")

    task = asyncio.ensure_future(greenlet_spawn(body))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError) as info:
        await task
    assert cleaned == ["cleanup awaited"]
    assert isinstance(info.value.__cause__, RuntimeError)


async def test_timeout_still_reports_timeout() -> None:
    def body() -> None:
        try:
            await_only(asyncio.sleep(10))
        finally:
            raise RuntimeError("cleanup error")

    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await greenlet_spawn(body)


async def test_iteration_is_one_greenlet_and_closes_its_iterator_inside_it() -> None:
    greenlets = set()
    closed = []

    def numbers() -> Iterator[int]:
        try:
            for i in range(10):
                greenlets.add(id(getcurrent()))
                yield await_only(asyncio.sleep(0, result=i))
        finally:
            closed.append(in_bridge() and await_only(asyncio.sleep(0, result="closed in the bridge")))

    got = []
    iterator = greenlet_iterate(numbers)
    async for n in iterator:
        got.append(n)
        if n == 3:
            break
    await iterator.aclose()
    assert got == [0, 1, 2, 3] and len(greenlets) == 1
    assert closed == ["closed in the bridge"]


async def test_an_abandoned_call_leaves_no_live_greenlet() -> None:
    finished = []

    def body() -> None:
        try:
            await_only(asyncio.sleep(10))
        finally:
            finished.append(True)

    coro = greenlet_spawn(body)
    coro.send(None)  # runs up to the sleep
    coro.close()  # the awaiting coroutine goes away
    assert finished == [True]
