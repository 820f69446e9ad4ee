"""Server errors the mapping turns into IntegrityError, provoked for real through the test bed (issue 19)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError


def test_unsigned_out_of_range_is_an_integrity_error(s2):
    """1690 `BIGINT UNSIGNED value is out of range`: what a PositiveBigIntegerField going below 0 gets."""
    with s2.cursor() as cursor:
        cursor.execute("CREATE TABLE u (id BIGINT PRIMARY KEY, v BIGINT UNSIGNED NOT NULL)")
        cursor.execute("INSERT INTO u VALUES (1, 0)")
        with pytest.raises(IntegrityError) as info:
            cursor.execute("UPDATE u SET v = v - 1 WHERE id = 1")
        assert info.value.args[0] == 1690
        assert "out of range" in info.value.args[1]
        cursor.execute("SELECT v FROM u")
        assert cursor.fetchone() == (0,)


def test_missing_value_for_a_not_null_column_without_default_is_an_integrity_error(s2):
    """1364 in strict mode: a NOT NULL column without a default left out of an INSERT."""
    with s2.cursor() as cursor:
        cursor.execute("CREATE TABLE nd (id BIGINT PRIMARY KEY, v INT NOT NULL)")
        with pytest.raises(IntegrityError) as info:
            cursor.execute("INSERT INTO nd (id) VALUES (1)")
        assert info.value.args[0] == 1364
