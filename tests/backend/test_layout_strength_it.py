"""The capacity and float-key layout rules through the test bed: the gateway refuses a columnstore table
that SingleStore cannot hold (errors `multiple_unique_columnstore`, `float_primary_key_columnstore`), so
a layout that chose columnstore here would fail to create the table (issue 19)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, models

APP = "s2layoutstrength"


class Booking(models.Model):
    """(room) and (room, hour) unique: a sharded rowstore on `room`."""

    room = models.IntegerField(unique=True)
    hour = models.IntegerField()

    class Meta:
        app_label = APP
        db_table = "s2ls_booking"
        unique_together = [("room", "hour")]


class Measure(models.Model):
    value = models.FloatField(primary_key=True)
    label = models.CharField(max_length=10, default="")

    class Meta:
        app_label = APP
        db_table = "s2ls_measure"


def test_tables_columnstore_cannot_hold_are_created_and_enforce_their_keys(s2: Any) -> None:
    with s2.schema_editor() as editor:
        editor.create_model(Booking)
        editor.create_model(Measure)
    bookings = Booking._default_manager.db_manager(s2.alias)
    bookings.create(room=1, hour=9)
    with pytest.raises(IntegrityError):
        bookings.create(room=1, hour=10)
    measures = Measure._default_manager.db_manager(s2.alias)
    measures.create(value=1.5, label="a")
    assert measures.get(pk=1.5).label == "a"
    with pytest.raises(IntegrityError):
        measures.create(value=1.5, label="b")
    with s2.cursor() as cursor:
        for table in ("s2ls_booking", "s2ls_measure"):
            assert not s2.introspection.get_table_layout(cursor, table).is_columnstore
