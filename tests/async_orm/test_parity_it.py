"""Parity: each async ORM API on the native path returns what its sync twin returns on the same
committed data, leaves the same rows behind, and runs every statement on the event-loop thread over
a pooled connection (asserted per statement by an `execute_wrapper` hook and the debug log).
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist
from django.db import DatabaseError, connections
from django.db.models import Count, Max, Prefetch, Sum
from django.db.models.query import aprefetch_related_objects, prefetch_related_objects

from tests.async_orm.conftest import NATIVE, STOCK, Native, Router, StatementLog, SyncSide, dump
from tests.async_orm.models import Author, Book, Note, Tag

pytestmark = pytest.mark.asyncio


def normal(value: Any) -> Any:
    """Results in a comparable form: model instances as (model, field values)."""
    from django.db.models import Model, QuerySet

    if isinstance(value, Model):
        return (type(value).__name__, tuple(getattr(value, f.attname) for f in value._meta.concrete_fields))
    if isinstance(value, dict):
        return {k: normal(v) for k, v in value.items()}
    if isinstance(value, list | tuple | QuerySet):
        return [normal(v) for v in value]
    return value


def outcome_of_error(exc: BaseException) -> tuple[str, Any]:
    code = exc.args[0] if isinstance(exc, DatabaseError) and exc.args else None
    return ("raised", f"{type(exc).__module__}.{type(exc).__qualname__}", code)


def run_sync(fn: Callable[[], Any]) -> Any:
    try:
        return normal(fn())
    except (ObjectDoesNotExist, DatabaseError, Author.MultipleObjectsReturned) as exc:
        return outcome_of_error(exc)


async def run_native(fn: Callable[[], Awaitable[Any]]) -> Any:
    try:
        return normal(await fn())
    except (ObjectDoesNotExist, DatabaseError, Author.MultipleObjectsReturned) as exc:
        return outcome_of_error(exc)


TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK"}


async def parity(
    side: SyncSide,
    statements: StatementLog,
    native_call: Callable[[], Awaitable[Any]],
    sync_call: Callable[[], Any],
) -> Any:
    """Native then sync, each on freshly seeded data; same result, same rows; every native statement
    on the loop thread through the pool, every sync-twin statement on the worker thread."""
    from tests.async_orm.conftest import seed

    loop_thread = threading.get_ident()
    native = Native(loop_thread)
    statements.records.clear()
    with connections[NATIVE].execute_wrapper(native.hook):
        got = await run_native(native_call)
    native_statements = list(statements.records)
    native_rows = await side.run(dump)

    await side.run(seed)
    statements.records.clear()
    expected = await side.run(run_sync, sync_call)
    sync_statements = list(statements.records)
    sync_rows = await side.run(dump)

    assert got == expected
    assert native_rows == sync_rows
    assert native_statements, "the native call ran no statement"
    # Transaction control (BEGIN/COMMIT/ROLLBACK) is logged by Django but never passes execute hooks.
    executed = [s for s in native_statements if s.sql not in TRANSACTION_CONTROL]
    assert len(native.pooled) == len(executed)
    stats = connections[NATIVE].pool().get_stats()
    assert stats["requests_num"] >= 1 and stats["in_use"] == 0  # borrowed per call, given back
    assert all(s.thread == loop_thread for s in native_statements), native_statements
    assert all(s.alias == NATIVE for s in native_statements)
    assert sync_statements and all(s.thread != loop_thread for s in sync_statements)
    return got


async def collect(aiterable: Any) -> list[Any]:
    return [item async for item in aiterable]


A = Author.objects
B = Book.objects

# name -> (native call, sync twin)
QUERYSET_APIS: dict[str, tuple[Callable[[], Awaitable[Any]], Callable[[], Any]]] = {
    "aget": (lambda: A.aget(name="bob"), lambda: A.get(name="bob")),
    "aget DoesNotExist": (lambda: A.aget(name="zed"), lambda: A.get(name="zed")),
    "aget MultipleObjectsReturned": (lambda: A.aget(age=40), lambda: A.get(age=40)),
    "acreate": (lambda: A.acreate(id=10, name="dan", age=5), lambda: A.create(id=10, name="dan", age=5)),
    "acreate IntegrityError": (lambda: A.acreate(id=11, name="ann"), lambda: A.create(id=11, name="ann")),
    "acount": (lambda: B.filter(pages__gt=60).acount(), lambda: B.filter(pages__gt=60).count()),
    "aexists": (lambda: B.filter(title="beta").aexists(), lambda: B.filter(title="beta").exists()),
    "afirst": (lambda: B.order_by("-pages").afirst(), lambda: B.order_by("-pages").first()),
    "alast": (lambda: B.alast(), lambda: B.last()),
    "aearliest": (lambda: B.aearliest("pages"), lambda: B.earliest("pages")),
    "alatest": (lambda: B.alatest("pages"), lambda: B.latest("pages")),
    "aiterator": (
        lambda: collect(B.order_by("id").aiterator(chunk_size=2)),
        lambda: list(B.order_by("id").iterator(chunk_size=2)),
    ),
    "async for": (lambda: collect(B.select_related("author")), lambda: list(B.select_related("author"))),
    "async for values": (
        lambda: collect(B.values("title", "author__name")),
        lambda: list(B.values("title", "author__name")),
    ),
    "aupdate": (
        lambda: B.filter(pages__lt=150).aupdate(pages=7),
        lambda: B.filter(pages__lt=150).update(pages=7),
    ),
    "adelete": (lambda: A.filter(name="ann").adelete(), lambda: A.filter(name="ann").delete()),
    "abulk_create": (
        lambda: Tag.objects.abulk_create([Tag(id=20, name="x"), Tag(id=21, name="y")]),
        lambda: Tag.objects.bulk_create([Tag(id=20, name="x"), Tag(id=21, name="y")]),
    ),
    "abulk_create IntegrityError": (
        lambda: A.abulk_create([Author(id=30, name="eve"), Author(id=31, name="eve")]),
        lambda: A.bulk_create([Author(id=30, name="eve"), Author(id=31, name="eve")]),
    ),
    "aget_or_create found": (lambda: A.aget_or_create(name="bob"), lambda: A.get_or_create(name="bob")),
    "aget_or_create created": (
        lambda: A.aget_or_create(name="fay", defaults={"id": 40, "age": 9}),
        lambda: A.get_or_create(name="fay", defaults={"id": 40, "age": 9}),
    ),
    "aupdate_or_create": (
        lambda: A.aupdate_or_create(name="cid", defaults={"age": 41}),
        lambda: A.update_or_create(name="cid", defaults={"age": 41}),
    ),
    "ain_bulk": (lambda: A.ain_bulk([1, 3]), lambda: A.in_bulk([1, 3])),
    "aaggregate": (
        lambda: B.aaggregate(total=Sum("pages"), top=Max("pages"), n=Count("id")),
        lambda: B.aggregate(total=Sum("pages"), top=Max("pages"), n=Count("id")),
    ),
    "acontains": (
        lambda: A.filter(age=40).acontains(Author(id=2)),
        lambda: A.filter(age=40).contains(Author(id=2)),
    ),
    "aexplain": (lambda: B.filter(pages__gt=1).aexplain(), lambda: B.filter(pages__gt=1).explain()),
    "async for raw()": (
        lambda: collect(A.raw("SELECT id, name, age FROM s2async_author ORDER BY id")),
        lambda: list(A.raw("SELECT id, name, age FROM s2async_author ORDER BY id")),
    ),
    "prefetch_related in async for": (
        lambda: _prefetched_native(),
        lambda: _prefetched_sync(),
    ),
}


def _shape(authors: list[Author]) -> list[Any]:
    return [(a.name, [(b.title, [t.name for t in b.tags.all()]) for b in a.books.all()]) for a in authors]


async def _prefetched_native() -> list[Any]:
    qs = A.order_by("id").prefetch_related(Prefetch("books", B.order_by("id")), "books__tags")
    plain = _shape([a async for a in qs])
    chunked = _shape([a async for a in qs.aiterator(chunk_size=2)])
    return [plain, chunked]


def _prefetched_sync() -> list[Any]:
    qs = A.order_by("id").prefetch_related(Prefetch("books", B.order_by("id")), "books__tags")
    return [_shape(list(qs)), _shape(list(qs.iterator(chunk_size=2)))]


@pytest.mark.parametrize("api", list(QUERYSET_APIS))
async def test_queryset_api(api: str, side: SyncSide, statements: StatementLog) -> None:
    native_call, sync_call = QUERYSET_APIS[api]
    await parity(side, statements, native_call, sync_call)


async def test_error_cases_are_the_exceptions_django_raises(side: SyncSide, statements: StatementLog) -> None:
    missing = await parity(side, statements, *QUERYSET_APIS["aget DoesNotExist"])
    assert missing[:2] == ("raised", "tests.async_orm.models.Author.DoesNotExist")
    several = await parity(side, statements, *QUERYSET_APIS["aget MultipleObjectsReturned"])
    assert several[:2] == ("raised", "tests.async_orm.models.Author.MultipleObjectsReturned")
    duplicate = await parity(side, statements, *QUERYSET_APIS["acreate IntegrityError"])
    assert duplicate == ("raised", "django.db.utils.IntegrityError", 1062)


# --- Model instance methods --------------------------------------------------------------------


async def _asave() -> Any:
    author = await A.aget(name="ann")
    author.age = 31
    await author.asave()
    fresh = Author(id=50, name="gus", age=1)
    await fresh.asave()
    return [author, fresh]


def _save() -> Any:
    author = A.get(name="ann")
    author.age = 31
    author.save()
    fresh = Author(id=50, name="gus", age=1)
    fresh.save()
    return [author, fresh]


async def _adelete() -> Any:
    book = await B.aget(id=1)
    return await book.adelete()


def _delete() -> Any:
    return B.get(id=1).delete()


async def _arefresh() -> Any:
    book = await B.aget(id=2)
    await B.filter(id=2).aupdate(pages=999)
    await book.arefresh_from_db()
    await book.arefresh_from_db(fields=["title"])
    return book


def _refresh() -> Any:
    book = B.get(id=2)
    B.filter(id=2).update(pages=999)
    book.refresh_from_db()
    book.refresh_from_db(fields=["title"])
    return book


MODEL_APIS = {
    "asave": (_asave, _save),
    "adelete": (_adelete, _delete),
    "arefresh_from_db": (_arefresh, _refresh),
}


@pytest.mark.parametrize("api", list(MODEL_APIS))
async def test_model_api(api: str, side: SyncSide, statements: StatementLog) -> None:
    await parity(side, statements, *MODEL_APIS[api])


# --- Related managers ------------------------------------------------------------------------------


def _related(kind: str) -> tuple[Callable[[], Awaitable[Any]], Callable[[], Any]]:
    async def native() -> Any:
        book = await B.aget(id=1)
        author = await A.aget(id=3)
        red, green = await Tag.objects.aget(id=1), await Tag.objects.aget(id=3)
        result: Any = None
        if kind == "m2m aadd":
            await book.tags.aadd(green)
        elif kind == "m2m aremove":
            await book.tags.aremove(red)
        elif kind == "m2m aset":
            await book.tags.aset([green])
        elif kind == "m2m aclear":
            await book.tags.aclear()
        elif kind == "m2m acreate":
            result = await book.tags.acreate(id=9, name="new")
        elif kind == "m2m aget_or_create":
            result = await book.tags.aget_or_create(name="blue")
        elif kind == "fk acreate":
            result = await author.books.acreate(id=9, title="omega")
        elif kind == "fk aget_or_create":
            result = await author.books.aget_or_create(title="delta")
        elif kind == "fk aadd":
            await author.books.aadd(book)
        elif kind == "generic aadd":
            note = await Note.objects.acreate(id=5, text="n5", target=await A.aget(id=1))
            await book.notes.aadd(note)
        elif kind == "generic acreate":
            result = await book.notes.acreate(id=6, text="n6")
        elif kind == "generic aclear":
            await book.notes.aclear()
        return [result, [t async for t in book.tags.all()], [b async for b in author.books.all()]]

    def sync() -> Any:
        book = B.get(id=1)
        author = A.get(id=3)
        red, green = Tag.objects.get(id=1), Tag.objects.get(id=3)
        result: Any = None
        if kind == "m2m aadd":
            book.tags.add(green)
        elif kind == "m2m aremove":
            book.tags.remove(red)
        elif kind == "m2m aset":
            book.tags.set([green])
        elif kind == "m2m aclear":
            book.tags.clear()
        elif kind == "m2m acreate":
            result = book.tags.create(id=9, name="new")
        elif kind == "m2m aget_or_create":
            result = book.tags.get_or_create(name="blue")
        elif kind == "fk acreate":
            result = author.books.create(id=9, title="omega")
        elif kind == "fk aget_or_create":
            result = author.books.get_or_create(title="delta")
        elif kind == "fk aadd":
            author.books.add(book)
        elif kind == "generic aadd":
            note = Note.objects.create(id=5, text="n5", target=A.get(id=1))
            book.notes.add(note)
        elif kind == "generic acreate":
            result = book.notes.create(id=6, text="n6")
        elif kind == "generic aclear":
            book.notes.clear()
        return [result, list(book.tags.all()), list(author.books.all())]

    return native, sync


RELATED = [
    "m2m aadd",
    "m2m aremove",
    "m2m aset",
    "m2m aclear",
    "m2m acreate",
    "m2m aget_or_create",
    "fk acreate",
    "fk aget_or_create",
    "fk aadd",
    "generic aadd",
    "generic acreate",
    "generic aclear",
]


@pytest.mark.parametrize("kind", RELATED)
async def test_related_manager(kind: str, side: SyncSide, statements: StatementLog) -> None:
    await parity(side, statements, *_related(kind))


async def test_aprefetch_related_objects(side: SyncSide, statements: StatementLog) -> None:
    async def native() -> Any:
        books = [b async for b in B.order_by("id")]
        await aprefetch_related_objects(books, "tags", "notes")
        return [(b.title, [t.name for t in b.tags.all()], [n.text for n in b.notes.all()]) for b in books]

    def sync() -> Any:
        books = list(B.order_by("id"))
        prefetch_related_objects(books, "tags", "notes")
        return [(b.title, [t.name for t in b.tags.all()], [n.text for n in b.notes.all()]) for b in books]

    await parity(side, statements, native, sync)


async def test_content_types_are_read_natively(side: SyncSide, statements: StatementLog) -> None:
    ContentType.objects.clear_cache()
    await parity(
        side,
        statements,
        lambda: ContentType.objects.aget(app_label="s2async", model="book"),
        lambda: ContentType.objects.get(app_label="s2async", model="book"),
    )


async def test_stock_alias_is_not_routed_and_hops(side: SyncSide, statements: StatementLog) -> None:
    """The control: OPTIONS native_async=False keeps Django's thread hop, with the same results."""
    loop_thread = threading.get_ident()
    Router.alias = STOCK
    statements.records.clear()
    stock = normal(await A.order_by("id").afirst())
    stock_count = await B.acount()
    assert statements.records and all(s.thread != loop_thread for s in statements.records)
    assert all(s.alias == STOCK for s in statements.records)
    Router.alias = NATIVE
    statements.records.clear()
    assert normal(await A.order_by("id").afirst()) == stock
    assert await B.acount() == stock_count
    assert statements.records and all(s.thread == loop_thread for s in statements.records)
