"""Duration arithmetic through the gateway (issue 16): a duration times / divided by a number (Django
ticket #25287's MySQL path, on microseconds), temporal subtraction (TIMESTAMPDIFF), the refused shapes."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.db import DatabaseError, NotSupportedError, models
from django.db.models import DurationField, ExpressionWrapper, F, Value

UTC = datetime.UTC


class Span(models.Model):
    start = models.DateTimeField()
    end = models.DateTimeField()
    day = models.DateField()
    other_day = models.DateField()
    at = models.TimeField()
    other_at = models.TimeField()
    length = models.DurationField()
    factor = models.IntegerField(default=2)

    class Meta:
        app_label = "s2backend"
        db_table = "s2_span"


LENGTHS = [
    datetime.timedelta(days=1, seconds=5, microseconds=3),
    datetime.timedelta(microseconds=1),
    datetime.timedelta(microseconds=3),
    datetime.timedelta(seconds=-7, microseconds=5),
]


@pytest.fixture
def spans(s2) -> Iterator[list[Span]]:
    with s2.schema_editor() as editor:
        editor.create_model(Span)
    made = []
    for n, length in enumerate(LENGTHS):
        start = datetime.datetime(2024, 2, 28, 23, 59, 59, 999_999 - n, tzinfo=UTC)
        made.append(
            Span.objects.using("s2").create(
                start=start,
                end=start + datetime.timedelta(days=1, microseconds=7 + n),
                day=datetime.date(2024, 3, 1),
                other_day=datetime.date(2024, 2, 27 - n),
                at=datetime.time(12, 0, 1, 5 + n),
                other_at=datetime.time(11, 59, 59, 999_999),
                length=length,
            )
        )
    yield made


def _wrapped(expr) -> ExpressionWrapper:
    return ExpressionWrapper(expr, output_field=DurationField())


@pytest.mark.parametrize(
    ("operand", "scalar"),
    [(2, 2), (Decimal("2"), 2), (3.2, 3.2), (F("factor"), 2)],
    ids=["int", "decimal", "float", "column"],
)
def test_a_duration_times_and_divided_by_a_number(spans, operand, scalar) -> None:
    """Computed on microseconds; a fractional result rounds half to even, as Python's timedelta does
    (1 us / 2 -> 0, 3 us / 2 -> 2)."""
    rows = Span.objects.using("s2").annotate(
        times=_wrapped(operand * F("length")),
        by=_wrapped(F("length") / operand),
    )
    got = sorted((r.length, r.times, r.by) for r in rows)
    assert got == sorted((length, length * scalar, length / scalar) for length in LENGTHS)


def test_temporal_subtraction_in_microseconds(spans) -> None:
    """``supports_temporal_subtraction``: datetime, date and time differences as TIMESTAMPDIFF(MICROSECOND)."""
    rows = Span.objects.using("s2").annotate(
        took=F("end") - F("start"), days=F("day") - F("other_day"), gap=F("at") - F("other_at")
    )
    got = sorted((r.took, r.days, r.gap) for r in rows)
    expected = sorted(
        (s.end - s.start, s.day - s.other_day, datetime.timedelta(seconds=1, microseconds=6 + n))
        for n, s in enumerate(spans)
    )
    assert got == expected
    later = Span.objects.using("s2").filter(end__gt=F("start") + datetime.timedelta(days=1, microseconds=8))
    assert later.count() == 2  # 1 day + 7 + n us, n = 2, 3


@pytest.mark.parametrize(
    "annotation",
    [
        lambda: F("start") * Value(datetime.timedelta(0), output_field=DurationField()),
        lambda: 2 / F("length"),
        lambda: F("length") % 2,
    ],
    ids=["datetime-times-duration", "number-by-duration", "modulo"],
)
def test_other_duration_arithmetic_is_not_supported(spans, annotation) -> None:
    with pytest.raises(NotSupportedError) as caught:
        list(Span.objects.using("s2").annotate(x=_wrapped(annotation())))
    assert isinstance(caught.value, DatabaseError) and "SingleStore" in str(caught.value)
