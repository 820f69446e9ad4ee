"""Contrib models and signals on the native path: `request.auser()`, session reads and writes, signal
receivers (sync and async), password hashing kept off the loop, `run_orm` with `atomic()`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import django
import pytest
from django.contrib.auth import aauthenticate, aget_user, get_user
from django.contrib.auth.hashers import MD5PasswordHasher
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.db import IntegrityError, connections, transaction
from django.db.models.signals import post_save
from django.http import HttpRequest
from django.test.utils import override_settings

from django_singlestore_async import run_orm
from tests.async_orm.conftest import NATIVE, STOCK, Router, StatementLog, SyncSide, dump
from tests.async_orm.models import Author, Tag

pytestmark = pytest.mark.asyncio

HASHER_THREADS: list[int] = []


class RecordingHasher(MD5PasswordHasher):
    """MD5 (fast), recording the thread each verification runs on."""

    def verify(self, password: str, encoded: str) -> bool:
        HASHER_THREADS.append(threading.get_ident())
        return bool(super().verify(password, encoded))


def make_user_and_session() -> tuple[int, str]:
    user = User.objects.create_user(id=7, username="uma", password="secret")
    request = HttpRequest()
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    request.session = session
    return user.pk, session.session_key or ""


def on_loop(statements: StatementLog, loop_thread: int) -> bool:
    return bool(statements.records) and all(s.thread == loop_thread for s in statements.records)


async def test_request_auser_and_session_reads_are_native(side: SyncSide, statements: StatementLog) -> None:
    user_id, key = await side.run(make_user_and_session)
    loop_thread = threading.get_ident()

    def sync_user() -> Any:
        request = HttpRequest()
        request.session = SessionStore(session_key=key)
        return get_user(request).pk

    expected = await side.run(sync_user)
    statements.records.clear()
    request = HttpRequest()
    request.session = SessionStore(session_key=key)
    user = await aget_user(request)
    assert user.pk == expected == user_id
    sqls = " ".join(s.sql for s in statements.records)
    assert "django_session" in sqls and "auth_user" in sqls
    assert on_loop(statements, loop_thread)


async def test_session_writes_are_native(side: SyncSide, statements: StatementLog) -> None:
    loop_thread = threading.get_ident()
    session = SessionStore()
    session["cart"] = [1, 2, 3]
    statements.records.clear()
    await session.asave()  # create
    session["cart"] = [4]
    await session.asave()  # update, in Django's atomic() block
    assert on_loop(statements, loop_thread)
    assert any(s.sql == "BEGIN" for s in statements.records)

    def load() -> Any:
        return SessionStore(session_key=session.session_key).load()

    assert (await side.run(load))["cart"] == [4]
    assert (await SessionStore(session_key=session.session_key).aload())["cart"] == [4]


async def test_password_hashing_is_where_django_puts_it(side: SyncSide, statements: StatementLog) -> None:
    """aauthenticate's database read is native; the hashing is never routed: it runs where Django's
    stock path runs it (a worker thread on Django 6.1; on the loop on 5.2, whose acheck_password calls
    verify_password directly)."""
    loop_thread = threading.get_ident()
    hashers = ["tests.async_orm.test_contrib_signals_it.RecordingHasher"]
    off_loop = {}
    with override_settings(PASSWORD_HASHERS=hashers):
        await side.run(lambda: User.objects.create_user(id=8, username="val", password="pw"))
        for alias in (STOCK, NATIVE):
            Router.alias = alias
            HASHER_THREADS.clear()
            statements.records.clear()
            user = await aauthenticate(username="val", password="pw")
            assert user is not None and user.pk == 8
            assert await aauthenticate(username="val", password="wrong") is None
            assert len(HASHER_THREADS) == 2
            off_loop[alias] = [t != loop_thread for t in HASHER_THREADS]
            if alias == NATIVE:
                assert on_loop(statements, loop_thread)  # its database reads: native
    assert off_loop[NATIVE] == off_loop[STOCK]
    if django.VERSION[:2] >= (6, 1):
        assert all(off_loop[NATIVE])


@pytest.fixture
def receivers() -> Iterator[dict[str, list[Any]]]:
    seen: dict[str, list[Any]] = {"sync": [], "async": []}

    def sync_receiver(sender: Any, instance: Author, created: bool, **kwargs: Any) -> None:
        seen["sync"].append(threading.get_ident())
        if created:
            Tag.objects.create(id=100 + instance.pk, name=f"sync-{instance.name}")

    async def async_receiver(sender: Any, instance: Author, created: bool, **kwargs: Any) -> None:
        seen["async"].append(threading.get_ident())
        if created:
            await Tag.objects.acreate(id=200 + instance.pk, name=f"async-{instance.name}")

    post_save.connect(sync_receiver, sender=Author, weak=False)
    post_save.connect(async_receiver, sender=Author, weak=False)
    yield seen
    post_save.disconnect(sync_receiver, sender=Author)
    post_save.disconnect(async_receiver, sender=Author)


async def test_signal_receivers_run_as_django_runs_them(
    side: SyncSide, statements: StatementLog, receivers: dict[str, list[Any]]
) -> None:
    loop_thread = threading.get_ident()
    statements.records.clear()
    await Author.objects.acreate(id=60, name="ray")
    assert receivers["sync"] == [loop_thread] and receivers["async"] == [loop_thread]
    assert on_loop(statements, loop_thread)
    native_rows = await side.run(dump)

    from tests.async_orm.conftest import seed

    await side.run(seed)
    await side.run(lambda: Tag.objects.filter(id__gte=100).delete())  # what the seed's saves fired
    await side.run(lambda: Author.objects.create(id=60, name="ray"))
    assert await side.run(dump) == native_rows
    names = {t[1] for t in native_rows["s2async_tag"]}
    assert {"sync-ray", "async-ray"} <= names


async def test_run_orm_runs_a_block_in_one_transaction(side: SyncSide, statements: StatementLog) -> None:
    loop_thread = threading.get_ident()

    def transfer() -> int:
        with transaction.atomic(using=NATIVE):
            Author.objects.filter(name="ann").update(age=1)
            Author.objects.create(id=70, name="bob")  # duplicate name: the block rolls back

    statements.records.clear()
    with pytest.raises(IntegrityError):
        await run_orm(transfer)
    assert on_loop(statements, loop_thread)
    assert [s.sql for s in statements.records][-1] == "ROLLBACK"
    assert (await Author.objects.aget(name="ann")).age == 30  # rolled back
    assert connections[NATIVE].pool().get_stats()["in_use"] == 0
