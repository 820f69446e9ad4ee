"""Unit tests (no server): the deterministic names and the type comparison the resume relies on."""

from __future__ import annotations

from typing import Any

from django_singlestore.alter import _has_type
from django_singlestore.introspection import ColumnDefinition
from django_singlestore.rebuild import fence_table_name, scratch_table_name, temp_column_name


def test_temporary_names_are_deterministic_and_fit_64_characters() -> None:
    assert temp_column_name("price") == "price__s2tmp"
    long_a, long_b = "a" * 60, "a" * 59 + "b"
    assert temp_column_name(long_a) == temp_column_name(long_a)
    assert len(temp_column_name(long_a)) <= 64 and len(temp_column_name(long_b)) <= 64
    assert temp_column_name(long_a) != temp_column_name(long_b)  # the hash keeps them apart
    assert temp_column_name(long_a).endswith("__s2tmp")
    assert scratch_table_name("shop_order") == "shop_order__s2_rebuild"
    assert len(scratch_table_name("t" * 64)) == 44 + len("__s2_rebuild")
    assert fence_table_name("shop_order") == "shop_order__s2_fence"
    assert len(fence_table_name("t" * 64)) <= 64


def _column(definition: str) -> ColumnDefinition:
    declared = definition.split(" ")[0]
    return ColumnDefinition("c", declared, definition)


def test_an_already_converted_column_is_recognised() -> None:
    assert _has_type(_column("bigint(20) DEFAULT NULL"), "bigint", True)
    assert not _has_type(_column("int(11) DEFAULT NULL"), "bigint", True)
    assert not _has_type(_column("bigint(20) DEFAULT NULL"), "bigint", False)  # NOT NULL wanted
    assert _has_type(_column("bigint(20) NOT NULL"), "bigint", False)
    assert _has_type(_column("varchar(50) NOT NULL"), "varchar(50)", False)
    assert not _has_type(_column("varchar(5) NOT NULL"), "varchar(50)", False)
    assert _has_type(_column("double NOT NULL"), "double precision", False)
    assert _has_type(_column("tinyint(1) NOT NULL"), "bool", False)
    assert _has_type(_column("bigint(20) NOT NULL AUTO_INCREMENT"), "bigint AUTO_INCREMENT", False)


def test_a_missing_table_with_a_fenced_twin_is_a_retryable_schema_change() -> None:
    from django.db import OperationalError

    from django_singlestore.errors import SchemaChangeInProgress, schema_change_error

    asked: list[tuple[str | None, str, str]] = []

    def present(names: set[str]) -> Any:
        def tables_present(database: str | None, table: str, fence: str) -> set[str]:
            asked.append((database, table, fence))
            return names & {table, fence}

        return tables_present

    exc = Exception(1146, "Table 'shop.shop_order' doesn't exist")
    error = schema_change_error(exc, present({"shop_order__s2_fence"}))
    assert isinstance(error, SchemaChangeInProgress) and isinstance(error, OperationalError)
    assert error.args[0] == 1146 and "schema change of shop_order is in progress" in error.args[1]
    assert "can be retried" in error.args[1]
    assert asked == [("shop", "shop_order", "shop_order__s2_fence")]
    # Swapped in meanwhile: the table is back, the statement can be retried too.
    assert isinstance(schema_change_error(exc, present({"shop_order"})), SchemaChangeInProgress)
    # A table that does not exist, and no fence: Django's ProgrammingError stays.
    assert schema_change_error(exc, present(set())) is None
    assert schema_change_error(Exception(1062, "Duplicate entry"), present({"x"})) is None
