"""Test cases for suites that use the native async ORM.

* `TestCase`: Django's rollback-wrapped `TestCase` whose data the native path sees. A TestCase's rows
  sit in an uncommitted transaction on the test's mysqlclient connection; while a test runs, the
  native calls of each native alias run on that same connection and transaction (through the bridge,
  on the event loop's thread, while the test's own thread waits for the async test), so what
  `setUpTestData` wrote is visible to `aget()`, and what the test writes is rolled back with it.
  `acursor()` needs a pooled connection and does not see that data: use `TransactionTestCase`.
* `TransactionTestCase`: Django's flush-based one; the native path uses the pool (the data is
  committed) and each async test closes the pools of its event loop when it ends, so no connection
  outlives the loop it was made on.
* `aassertNumQueries(num, using=...)`: `async with self.aassertNumQueries(2):` counts the statements
  native calls run in the block (on either test case).
* `bind_django_test_cases()`: the same binding for suites whose tests derive from
  `django.test.TestCase` itself (Django's own suite, third-party apps' tests).

Concurrency inside a rollback-wrapped test: native calls of a bound alias share one connection, so
`asyncio.gather()` of them runs them one after the other; a `sync_to_async` call must not run at the
same time as a native one (the test's thread would use the connection too).
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from asgiref.sync import iscoroutinefunction
from django import test as django_test
from django.db import DEFAULT_DB_ALIAS, connections
from django.test.utils import CaptureQueriesContext

from django_singlestore_async.pool import close_pools
from django_singlestore_async.scope import bind_test_connection, is_native_alias, unbind_test_connection

__all__ = ["NativeTestMixin", "TestCase", "TransactionTestCase", "bind_django_test_cases"]


def _bind(aliases: Iterable[str]) -> None:
    for alias in aliases:
        if alias in connections.settings and is_native_alias(alias):
            bind_test_connection(alias, connections[alias])


def _unbind(aliases: Iterable[str]) -> None:
    for alias in aliases:
        unbind_test_connection(alias)


def _binding_enter(enter: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(enter)
    def _enter_atomics(cls: Any) -> Any:
        atomics = enter(cls)
        _bind(atomics)
        return atomics

    return _enter_atomics


def _binding_rollback(rollback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(rollback)
    def _rollback_atomics(cls: Any, atomics: Any) -> Any:
        _unbind(atomics)
        return rollback(cls, atomics)

    return _rollback_atomics


def _close_pools_after(test: Any) -> None:
    """Wrap an async test method so that the pools of its event loop are closed when it ends."""
    method = getattr(test, test._testMethodName, None)
    if method is None or not iscoroutinefunction(method) or getattr(method, "_closes_pools", False):
        return

    @functools.wraps(method)
    async def closing_pools(*args: Any, **kwargs: Any) -> Any:
        try:
            return await method(*args, **kwargs)
        finally:
            await close_pools(timeout=5)

    closing_pools._closes_pools = True  # type: ignore[attr-defined]
    setattr(test, test._testMethodName, closing_pools)


class NativeTestMixin:
    """Closes the event loop's pools after each async test; `aassertNumQueries`."""

    _testMethodName: str

    def _setup_and_call(self, result: Any, debug: bool = False) -> None:
        _close_pools_after(self)
        super()._setup_and_call(result, debug)  # type: ignore[misc]

    @asynccontextmanager
    async def aassertNumQueries(
        self, num: int, using: str = DEFAULT_DB_ALIAS
    ) -> AsyncIterator[CaptureQueriesContext]:
        """Assert that the native calls in the block run `num` statements on `using`."""
        with CaptureQueriesContext(connections[using]) as context:
            yield context
        executed = len(context)
        self.assertEqual(  # type: ignore[attr-defined]
            executed,
            num,
            f"{executed} queries executed, {num} expected\nCaptured queries were:\n"
            + "\n".join(f"{i}. {q['sql']}" for i, q in enumerate(context.captured_queries, start=1)),
        )


class TestCase(NativeTestMixin, django_test.TestCase):
    """Rollback-wrapped; the native path runs inside the test's transaction (module docstring)."""

    _enter_atomics = classmethod(_binding_enter(django_test.TestCase._enter_atomics.__func__))
    _rollback_atomics = classmethod(_binding_rollback(django_test.TestCase._rollback_atomics.__func__))


class TransactionTestCase(NativeTestMixin, django_test.TransactionTestCase):
    """Flush-based; the native path uses the pool and sees committed data."""


def bind_django_test_cases() -> None:
    """Make `django.test.TestCase` itself bind the native path to each test's transaction and close
    the pools after each async test (idempotent). For suites whose tests cannot change base class."""
    base = django_test.TestCase
    if getattr(base, "_native_bound", False):
        return
    base._enter_atomics = classmethod(_binding_enter(base._enter_atomics.__func__))
    base._rollback_atomics = classmethod(_binding_rollback(base._rollback_atomics.__func__))
    simple = django_test.SimpleTestCase
    stock_setup_and_call = simple._setup_and_call

    def _setup_and_call(self: Any, result: Any, debug: bool = False) -> None:
        _close_pools_after(self)
        stock_setup_and_call(self, result, debug)

    simple._setup_and_call = _setup_and_call
    base._native_bound = True
