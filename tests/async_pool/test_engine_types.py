"""Type parity: every Django field type round-trips to the same Python values on mysqlclient (the sync
backend) and on aiomysql (the async engine), raw and after Django's converters."""

from __future__ import annotations

import asyncio
import datetime
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import models
from django.db.models.expressions import Col

from django_singlestore.base import DatabaseWrapper as SyncWrapper
from django_singlestore_async.pool import close_pools

MakeAlias = Callable[..., Any]
UTC = datetime.UTC

CASES: list[tuple[models.Field[Any, Any], list[Any]]] = [
    (models.BigIntegerField(), [0, -(2**63), 2**63 - 1]),
    (models.BinaryField(), [b"", bytes(range(256)), b"\x00'\"\\%s_binary"]),
    (models.BooleanField(), [True, False]),
    (models.CharField(max_length=40), ["", "héllo ✓ 😀", 'it\'s \\ 50% "q"']),
    (
        models.DateField(),
        [datetime.date(2024, 2, 29), datetime.date(1000, 1, 1), datetime.date(9999, 12, 31)],
    ),
    (
        models.DateTimeField(),
        [
            datetime.datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC),
            datetime.datetime(1970, 1, 1, tzinfo=UTC),
        ],
    ),
    (
        models.DecimalField(max_digits=14, decimal_places=4),
        [Decimal("1234567890.1234"), Decimal("-0.0001"), Decimal("0")],
    ),
    (
        models.DurationField(),
        [datetime.timedelta(days=3, microseconds=5), datetime.timedelta(0), -datetime.timedelta(seconds=1)],
    ),
    (models.EmailField(), ["someone@example.com"]),
    (models.FileField(), ["uploads/a b.txt"]),
    (models.FilePathField(path="/tmp"), ["/tmp/x"]),
    (models.FloatField(), [1.5, -1e300, 0.1]),
    (models.GenericIPAddressField(), ["10.0.0.1", "2001:db8::1"]),
    (models.IntegerField(), [-(2**31), 2**31 - 1]),
    (models.JSONField(), [{"a": [1, "x", None, 1.5]}, [1, 2], "text", 3, True]),
    (models.PositiveBigIntegerField(), [0, 2**63 - 1]),
    (models.PositiveIntegerField(), [0, 2**31 - 1]),
    (models.PositiveSmallIntegerField(), [0, 32767]),
    (models.SlugField(), ["a-slug_1"]),
    (models.SmallIntegerField(), [-32768, 32767]),
    (models.TextField(), ["", "long " * 5000, "ünïcode 😀"]),
    (models.TimeField(), [datetime.time(23, 59, 59, 999999), datetime.time(0, 0), datetime.time(12, 30, 1)]),
    (models.URLField(), ["https://example.com/a?b=c"]),
    (models.UUIDField(), [uuid.UUID("12345678-1234-5678-1234-567812345678"), uuid.uuid4()]),
]


def _ids(case: tuple[models.Field[Any, Any], list[Any]]) -> str:
    return type(case[0]).__name__


def _placeholder(field: models.Field[Any, Any], value: Any, db: Any) -> str:
    """What Django's insert compiler puts in VALUES for this field (`_binary %s` for binary data)."""
    if not isinstance(field, models.BinaryField):
        return "%s"
    try:  # Django 6.1: (value, compiler) -> (sql, params)
        placeholder = db.ops.binary_placeholder_sql(value, None)
        return str(placeholder[0] if isinstance(placeholder, tuple) else placeholder)
    except TypeError:  # Django 5.2: (value) -> sql
        return str(db.ops.binary_placeholder_sql(value))


def _sync_round_trip(twin: Any, table: str, field: models.Field[Any, Any], values: list[Any]) -> list[Any]:
    """Insert ids 1.. on mysqlclient (in this worker thread) and read everything back raw."""
    db = SyncWrapper(twin.settings_dict, twin.alias)
    try:
        with db.cursor() as cursor:
            for i, value in enumerate(values, start=1):
                prepared = field.get_db_prep_save(value, connection=db)
                cursor.execute(
                    f"INSERT INTO {table} (id, c) VALUES (%s, {_placeholder(field, prepared, db)})",
                    [i, prepared],
                )
            cursor.execute(f"SELECT c FROM {table} ORDER BY id")
            return [row[0] for row in cursor.fetchall()]
    finally:
        db.close()


def _convert(db: Any, field: models.Field[Any, Any], raw: Any) -> Any:
    expression = Col("t", field)
    converters = db.ops.get_db_converters(expression) + expression.get_db_converters(db)
    for converter in converters:
        raw = converter(raw, expression, db)
    return raw


@pytest.mark.parametrize(("field", "values"), CASES, ids=[_ids(c) for c in CASES])
@pytest.mark.asyncio
async def test_field_round_trip_parity(
    make_alias: MakeAlias, field: models.Field[Any, Any], values: list[Any]
) -> None:
    adb = make_alias("a_types")
    twin = make_alias("s_types", engine="django_singlestore")
    field.set_attributes_from_name("c")
    field.null = True
    column = field.db_type(twin)
    assert column is not None
    values = [*values, None]
    async with adb.acursor() as cursor:
        await cursor.execute(f"CREATE TABLE sync_t (id BIGINT PRIMARY KEY, c {column} NULL)")
        await cursor.execute(f"CREATE TABLE async_t (id BIGINT PRIMARY KEY, c {column} NULL)")
        for i, value in enumerate(values, start=1):
            prepared = field.get_db_prep_save(value, connection=adb)
            await cursor.execute(
                f"INSERT INTO async_t (id, c) VALUES (%s, {_placeholder(field, prepared, adb)})",
                [i, prepared],
            )
    sync_raw = await asyncio.to_thread(_sync_round_trip, twin, "sync_t", field, values)
    async with adb.acursor() as cursor:
        await cursor.execute("SELECT c FROM sync_t ORDER BY id")  # written by mysqlclient, read by aiomysql
        async_reads_sync = [row[0] for row in await cursor.fetchall()]
        await cursor.execute("SELECT c FROM async_t ORDER BY id")
        async_raw = [row[0] for row in await cursor.fetchall()]

    # The drivers hand Django the same raw values (type included), whoever wrote the rows.
    assert [(type(v), v) for v in async_reads_sync] == [(type(v), v) for v in sync_raw]
    assert [(type(v), v) for v in async_raw] == [(type(v), v) for v in sync_raw]
    # After Django's converters, both paths give back what was saved.
    expected = [field.to_python(v) if v is not None else None for v in values]
    if isinstance(field, models.JSONField):
        expected = list(values)
    assert [_convert(adb, field, v) for v in async_raw] == expected
    assert [_convert(twin, field, v) for v in sync_raw] == expected
    await close_pools()
