"""The gateway's error texts pinned to the literal SingleStore texts of singlestore-semantics.md §2.

The rule tests compare the gateway's answer with `ERRORS[key].format(...)`, i.e. with the code under
test; these pin those texts (and codes, where the notes give one) to what SingleStore says, so an edit
of errors.py cannot drift from SingleStore unnoticed.
"""

from __future__ import annotations

import pytest

from tests.testbed.gateway.errors import ERRORS

#: key -> (template fields, the literal text of singlestore-semantics.md §2, its code or None if unknown).
DOCUMENTED: dict[str, tuple[dict[str, str], str, int | None]] = {
    "reference_without_pk": (
        {},
        "Feature 'Reference Table without a Primary Key' is not supported by SingleStore Distributed",
        1706,
    ),
    "unique_without_shard_key": (
        {"name": "ub"},
        "The unique key named: 'ub' cannot be created because unique keys must contain all columns of the shard key",
        None,
    ),
    "reference_write_child": (
        {},
        "Writing to a reference table in multi-statement transaction is not permitted on child aggregators. "
        "Try the command again on the master aggregator.",
        2549,
    ),
    "alter_columnstore_type": (
        {"column": "name"},
        "ALTER TABLE which modifies type of column name is not supported on a columnstore table",
        None,
    ),
    "alter_columnstore_not_null": (
        {"column": "name"},
        "ALTER TABLE which modifies column name from NULL to NOT NULL is not supported on a columnstore table.",
        None,
    ),
    "alter_columnstore_add_unique": (
        {"index": "uq"},
        "ALTER TABLE which adds unique/primary/foreign index uq is not supported on a columnstore table",
        None,
    ),
    "alter_columnstore_change_pk": (
        {},
        "ALTER TABLE which changes index `PRIMARY` is not supported on a columnstore table.",
        None,
    ),
    "alter_columnstore_drop_shard_index": (
        {"index": "sk"},
        "ALTER TABLE which drops shard index sk on sharded table is not supported on a columnstore table.",
        None,
    ),
    "alter_columnstore_auto_increment": (
        {"column": "id"},
        "ALTER TABLE which modifies column id by adding or dropping AUTO_INCREMENT is not supported on a "
        "columnstore table",
        None,
    ),
    "add_primary_key": ({}, "A primary key cannot be added to a table after creation", None),
    "duplicate_hash_index": (
        {},
        "Feature 'Multiple HASH indices on the same columns' is not supported by SingleStore",
        1706,
    ),
    "multiple_unique_columnstore": (
        {},
        "Feature 'multiple UNIQUE indexes with at least one index containing multiple columns on columnstore "
        "table' is not supported by SingleStore",
        1706,
    ),
    "for_update_columnstore_join": (
        {},
        "Feature 'FOR UPDATE with subselect or join involving a columnstore table' is not supported by SingleStore",
        1706,
    ),
    "alter_auto_increment_sharded": (
        {},
        "Feature 'ALTER TABLE...AUTO_INCREMENT=X for sharded tables' is not supported by SingleStore Distributed.",
        1706,
    ),
    "savepoint": ({}, "Feature 'SAVEPOINT' is not supported by SingleStore", 1706),
}


@pytest.mark.parametrize("key", sorted(DOCUMENTED))
def test_gateway_text_is_singlestores(key: str) -> None:
    fields, text, code = DOCUMENTED[key]
    spec = ERRORS[key]
    actual = spec.format(**fields)
    if text.startswith("Feature '"):
        # §2 quotes the source-code texts without their final stop; the observed 1706 lines end with one
        # ("... is not supported by MemSQL.", "... by SingleStore Distributed."): either is SingleStore's.
        assert actual in (text, text.rstrip(".") + ".")
    else:
        assert actual == text
    if code is not None:
        assert spec.code == code


def test_cume_dist_names_the_window_function_as_singlestore_does() -> None:
    """§2 gives the planner family `Feature 'CUME_DIST window function' ...` (the tail elided)."""
    assert (
        ERRORS["cume_dist"]
        .format()
        .startswith("Feature 'CUME_DIST window function' is not supported by SingleStore")
    )
    assert ERRORS["cume_dist"].code == 1706
