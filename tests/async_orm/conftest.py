"""Fixtures for the native async ORM tests.

One database per test module (`ao_<module>`), with two aliases on it: `native` (ENGINE
django_singlestore_async, Django's async API runs natively) and `stock` (the same engine with
`OPTIONS["native_async"] = False`: Django's thread hop, the control). A router sends every model,
contrib ones included, to `Router.alias`. The data is committed (flush-style: every test reseeds),
since a TestCase's uncommitted transaction lives on a mysqlclient connection the pool cannot see.

`side` runs sync code (seeding, reading the state back, the sync twins) on one worker thread of its
own over mysqlclient; `statements` records where each statement ran (thread, alias, connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async as stock_sync_to_async

from tests.dbtools import ASYNC_ENGINE, AliasFactory, db_access_fixture, own_database, setup_django
from tests.testbed import Testbed

setup_django()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group, Permission, User  # noqa: E402 (needs the app registry)
from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.contrib.sessions.models import Session  # noqa: E402
from django.db import connections  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from django_singlestore_async.native import PooledConnectionAdapter  # noqa: E402
from django_singlestore_async.pool import close_pools  # noqa: E402
from tests.async_orm.models import MODELS, Author, Book, Note, Tag  # noqa: E402

_own_databases = db_access_fixture(integration_only=False)

NATIVE, STOCK = "native", "stock"
CONTRIB = [ContentType, Permission, Group, User, Session]


class Router:
    """Everything to `Router.alias` (tests switch it to compare the native and stock paths)."""

    alias = NATIVE

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return Router.alias

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return Router.alias

    def allow_relation(self, *args: Any, **hints: Any) -> bool:
        return True


@pytest.fixture(scope="module")
def orm_aliases(
    request: pytest.FixtureRequest, testbed: Testbed, django_db_blocker: Any
) -> Iterator[AliasFactory]:
    """The module's database with every table, and the `native` and `stock` aliases on it."""
    name = "ao_" + request.module.__name__.rsplit(".", 1)[-1]
    with django_db_blocker.unblock(), own_database(testbed.master, name):
        factory = AliasFactory(testbed.master, name, engine=ASYNC_ENGINE)
        native = factory(NATIVE)
        factory(STOCK, native_async=False)
        with native.schema_editor() as editor:
            for model in [*CONTRIB, *MODELS]:
                editor.create_model(model)
        native.close()
        apps = [*settings.INSTALLED_APPS, "tests.async_orm"]
        with override_settings(INSTALLED_APPS=apps, DATABASE_ROUTERS=[Router()], DEBUG=True):
            ContentType.objects.clear_cache()
            yield factory
        ContentType.objects.clear_cache()
        factory.close()


class SyncSide:
    """A worker thread of the test's own for sync ORM code (mysqlclient connections, closed at the end)."""

    def __init__(self) -> None:
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="sync-side")

    async def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args, **kwargs))

    def close(self) -> None:
        self.executor.submit(connections.close_all).result()
        self.executor.shutdown()


@dataclass
class Statement:
    thread: int
    alias: str
    sql: str
    pooled_server_id: int | None = None


@dataclass
class StatementLog(logging.Handler):
    """Every statement Django logs on `django.db.backends` (DEBUG is on), with the thread it ran on."""

    records: list[Statement] = field(default_factory=list)

    def __post_init__(self) -> None:
        logging.Handler.__init__(self, logging.DEBUG)

    def __hash__(self) -> int:
        return id(self)

    def emit(self, record: logging.LogRecord) -> None:
        sql = getattr(record, "sql", None)
        if sql is not None:
            self.records.append(Statement(record.thread or 0, getattr(record, "alias", "?"), str(sql)))


@pytest.fixture
def statements() -> Iterator[StatementLog]:
    log = StatementLog()
    logger = logging.getLogger("django.db.backends")
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(log)
    yield log
    logger.removeHandler(log)
    logger.setLevel(old_level)


def seed() -> None:
    """The same committed data before each side of a parity check (explicit ids everywhere)."""
    for model in (Note, Book.tags.through, Book, Tag, Author, Session, User):
        model.objects.all().delete()
    ann, bob, cid = (
        Author.objects.create(id=1, name="ann", age=30),
        Author.objects.create(id=2, name="bob", age=40),
        Author.objects.create(id=3, name="cid", age=40),
    )
    red, blue, _green = (Tag.objects.create(id=i, name=n) for i, n in ((1, "red"), (2, "blue"), (3, "green")))
    b1 = Book.objects.create(id=1, title="alpha", pages=100, author=ann)
    b2 = Book.objects.create(id=2, title="beta", pages=200, author=ann)
    Book.objects.create(id=3, title="gamma", pages=300, author=bob)
    Book.objects.create(id=4, title="delta", pages=50, author=cid)
    b1.tags.set([red, blue])
    b2.tags.set([blue])
    Note.objects.create(id=1, text="n1", target=b1)


def dump() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the test tables, in id order (what a parity check compares after a write)."""
    state = {}
    for model in (Author, Tag, Book, Book.tags.through, Note):
        fields = [f.attname for f in model._meta.concrete_fields]
        if model._meta.auto_created:  # the M2M table: its AUTO_INCREMENT ids differ between runs
            fields.remove("id")
        state[model._meta.db_table] = sorted(model.objects.values_list(*fields))
    return state


@dataclass
class Native:
    """What the native side's own checks need: the loop thread, the pool, and the hook's records."""

    loop_thread: int
    pooled: list[tuple[str, int]] = field(default_factory=list)

    def hook(self, execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        adapter = context["connection"].connection
        assert isinstance(adapter, PooledConnectionAdapter), f"not through the pool: {sql}"
        assert threading.get_ident() == self.loop_thread, f"off the loop thread: {sql}"
        self.pooled.append((sql, adapter.pooled.server_id))
        return execute(sql, params, many, context)


@pytest_asyncio.fixture
async def side(orm_aliases: AliasFactory) -> AsyncIterator[SyncSide]:
    """The sync side, after seeding; at the end pools and stock-path connections are closed."""
    Router.alias = NATIVE
    sync = SyncSide()
    await sync.run(seed)
    yield sync
    sync.close()
    Router.alias = NATIVE
    await stock_sync_to_async(forget_test_aliases)()  # the stock path's thread keeps its wrappers
    await close_pools(timeout=5)


def forget_test_aliases() -> None:
    """Close and drop this thread's wrappers of the test aliases (the next module's are new ones)."""
    for alias in list(connections.settings):
        if alias in (NATIVE, STOCK, "slow"):
            with contextlib.suppress(AttributeError):
                connections[alias].close()
                del connections[alias]
