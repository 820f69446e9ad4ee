"""Introspection through the test bed's master aggregator: tables created with SingleStore DDL, read back
with Django's introspection API and `get_table_layout()`; and tables created by the backend's own
schema editor, whose introspected layout must be the layout `resolve_layout()` chose for the model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.apps.registry import Apps
from django.db import models
from django.db.models.fields.composite import CompositePrimaryKey

from django_singlestore.indexes import HashIndex, ShardKey, SortKey
from django_singlestore.layout import UniqueKey, layout_signature, resolve_layout
from django_singlestore.schema import ModelStorageManager
from tests.conftest import require_child
from tests.introspection.shapes import SHAPES

DJANGO_CONSTRAINT_KEYS = {
    "columns",
    "primary_key",
    "unique",
    "index",
    "check",
    "foreign_key",
    "type",
    "orders",
}


@pytest.fixture
def s2(make_alias: Callable[..., Any]) -> Any:
    connection = make_alias("s2")
    with connection.cursor() as cursor:
        for ddl in SHAPES.values():
            cursor.execute(ddl)
    return connection


def _intro(connection: Any, method: str, *args: Any) -> Any:
    with connection.cursor() as cursor:
        return getattr(connection.introspection, method)(cursor, *args)


def test_table_list_storage_types_and_comments(s2: Any) -> None:
    tables = {t.name: t for t in _intro(s2, "get_table_list")}
    assert set(SHAPES) <= set(tables)
    assert {name: tables[name].storage_type for name in SHAPES} == {
        "cs_plain": "COLUMNSTORE",
        "rs_keyed": "INMEMORY_ROWSTORE",
        "ref_codes": "COLUMNSTORE",
        "rref_pairs": "INMEMORY_ROWSTORE",
        "events": "COLUMNSTORE",
        "members": "COLUMNSTORE",
        "tenant_items": "COLUMNSTORE",
        "contacts": "COLUMNSTORE",
        "totals": "COLUMNSTORE",
    }
    assert tables["cs_plain"].comment == "plain columnstore"
    assert all(tables[name].type == "t" for name in SHAPES)
    assert s2.introspection.table_names() == sorted(tables)


def test_layout_of_every_shape(s2: Any) -> None:
    layouts = {name: _intro(s2, "get_table_layout", name) for name in SHAPES}
    got = {
        name: (got.storage, got.shard_key, got.primary_key, got.sort_key, got.demoted_key)
        for name, got in layouts.items()
    }
    assert got == {
        "cs_plain": ("COLUMNSTORE", ("id",), ("id",), ("created",), None),
        "rs_keyed": ("ROWSTORE", ("id",), ("id",), None, None),
        "ref_codes": ("REFERENCE", None, ("code",), None, None),
        "rref_pairs": ("ROWSTORE REFERENCE", None, ("id",), None, None),
        "events": ("COLUMNSTORE", (), ("id",), None, None),
        "members": ("COLUMNSTORE", ("username",), None, None, "id"),
        "tenant_items": ("COLUMNSTORE", ("tenant_id",), ("tenant_id", "id"), None, None),
        "contacts": ("COLUMNSTORE", ("id",), ("id",), None, None),
        "totals": ("COLUMNSTORE", ("id",), ("id",), None, None),
    }
    assert [(u.columns, u.enforced) for u in layouts["contacts"].unique_keys] == [(("email",), False)]
    assert [(u.columns, u.enforced) for u in layouts["rref_pairs"].unique_keys] == [(("a", "b"), True)]
    assert [u.columns for u in layouts["ref_codes"].unique_keys] == [("label",)]
    assert all(got.rule == "introspected" and not got.errors for got in layouts.values())


def test_constraints_have_djangos_keys_and_no_shard_or_sort_key(s2: Any) -> None:
    for name in SHAPES:
        constraints = _intro(s2, "get_constraints", name)
        for constraint, info in constraints.items():
            assert set(info) >= DJANGO_CONSTRAINT_KEYS, (name, constraint)
            assert info["check"] is False and info["foreign_key"] is None
            assert len(info["orders"]) == len(info["columns"])
        assert "__SHARDKEY" not in constraints and "__UNORDERED" not in constraints
        assert not any(info["columns"] == [] for info in constraints.values())


def test_constraints_per_shape(s2: Any) -> None:
    def summary(name: str) -> set[tuple[Any, ...]]:
        return {
            (tuple(i["columns"]), i["primary_key"], i["unique"], i["index"], i["type"], i["enforced"])
            for i in _intro(s2, "get_constraints", name).values()
        }

    assert summary("cs_plain") == {(("id",), True, True, True, "idx", True)}
    assert summary("rs_keyed") == {
        (("id",), True, True, True, "idx", True),
        (("qty",), False, False, True, "idx", True),
        (("code",), False, False, True, "hash", True),  # rowstore: USING HASH is its own kind
    }
    assert summary("members") == {
        (("username",), False, True, True, "idx", True),
        # The demoted id's plain key. Columnstore keys are all hash keys: Django's ordinary index.
        (("id",), False, False, True, "idx", True),
    }
    assert summary("tenant_items") == {
        (("tenant_id", "id"), True, True, True, "idx", True),
        (("v",), False, False, True, "idx", True),
    }
    assert summary("contacts") == {
        (("id",), True, True, True, "idx", True),
        (("email",), False, True, True, "idx", False),
    }
    assert summary("rref_pairs") == {
        (("id",), True, True, True, "idx", True),
        (("a", "b"), False, True, True, "idx", True),
    }
    constraints = _intro(s2, "get_constraints", "tenant_items")
    assert constraints["PRIMARY"]["primary_key"] and "tenant_items_v" in constraints
    assert constraints["tenant_items_v"]["using"] == "HASH"  # a hash key, whatever the storage


def test_primary_key_columns_sequences_and_relations(s2: Any) -> None:
    assert _intro(s2, "get_primary_key_columns", "tenant_items") == ["tenant_id", "id"]
    assert _intro(s2, "get_primary_key_column", "tenant_items") == "tenant_id"
    # The "id demoted" shape: Django's model of the table has id as its primary key.
    assert _intro(s2, "get_primary_key_columns", "members") == ["id"]
    assert _intro(s2, "get_primary_key_column", "ref_codes") == "code"
    assert _intro(s2, "get_sequences", "members") == [{"table": "members", "column": "id"}]
    assert _intro(s2, "get_sequences", "ref_codes") == []
    assert _intro(s2, "get_relations", "members") == {}


def test_table_description(s2: Any) -> None:
    def describe(table: str) -> dict[str, Any]:
        return {f.name: f for f in _intro(s2, "get_table_description", table)}

    def field_type(info: Any) -> str:
        return s2.introspection.get_field_type(info.type_code, info)

    cs = describe("cs_plain")
    assert list(cs) == ["id", "name", "created"]
    assert field_type(cs["id"]) == "BigAutoField" and "auto_increment" in cs["id"].extra
    assert field_type(cs["name"]) == "CharField" and cs["name"].display_size == 40
    assert cs["name"].comment == "the name" and not cs["name"].null_ok
    assert field_type(cs["created"]) == "DateTimeField" and cs["created"].null_ok
    events = describe("events")
    assert field_type(events["payload"]) == "JSONField" and events["payload"].collation is None
    assert field_type(events["id"]) == "BigIntegerField"
    totals = describe("totals")
    assert totals["total"].generated is not None
    assert totals["total"].generated.replace("`", "").replace(" ", "") == "a+b"
    assert totals["a"].generated is None
    assert totals["note"].collation == "utf8mb4_bin"  # not the table's default: reported
    assert totals["a"].collation is None and cs["name"].collation is None  # default collation: None
    assert field_type(describe("rs_keyed")["qty"]) == "IntegerField"


def test_get_storage_type_of_a_missing_table(s2: Any) -> None:
    assert _intro(s2, "get_storage_type", "no_such_table") is None
    assert _intro(s2, "get_storage_type", "rs_keyed") == "INMEMORY_ROWSTORE"


# --- Tables the backend's schema editor creates: introspected layout == resolve_layout(model) --------


def _models() -> list[type[models.Model]]:
    apps = Apps()

    def model(name: str, attrs: dict[str, Any], **meta: Any) -> type[models.Model]:
        meta_cls = type("Meta", (), {"app_label": "intro", "apps": apps, **meta})
        return type(name, (models.Model,), {"__module__": __name__, "Meta": meta_cls, **attrs})

    return [
        model("Plain", {"name": models.CharField(max_length=20)}),
        model(
            "Demoted",
            {"username": models.CharField(max_length=30, unique=True), "age": models.IntegerField()},
        ),
        model(
            "SharedCols",
            {
                "pk": CompositePrimaryKey("a", "id"),
                "id": models.BigIntegerField(),
                "a": models.IntegerField(),
                "b": models.IntegerField(),
            },
            unique_together=[("a", "b")],
        ),
        model(
            "Unrelated",
            {"code": models.CharField(max_length=5, primary_key=True), "slug": models.SlugField(unique=True)},
        ),
        model(
            "Keyed",
            {
                "tenant": models.IntegerField(),
                "created": models.DateTimeField(),
                "v": models.IntegerField(),
                "objects": models.Manager(),
                "storage": ModelStorageManager(table_storage_type="COLUMNSTORE"),
            },
            indexes=[
                ShardKey(fields=["tenant"]),
                SortKey(fields=["created"]),
                HashIndex(fields=["v"], name="keyed_v_hsh"),
            ],
        ),
        model(
            "Keyless",
            {"v": models.IntegerField()},
            indexes=[ShardKey(name="keyless_shk")],
        ),
        model(
            "Composite",
            {
                "pk": CompositePrimaryKey("tenant_id", "id"),
                "tenant_id": models.BigIntegerField(),
                "id": models.BigIntegerField(),
            },
            indexes=[ShardKey(fields=["tenant_id"])],
        ),
        model(
            "RowRef",
            {
                "x": models.IntegerField(),
                "objects": models.Manager(),
                "storage": ModelStorageManager(table_storage_type="ROWSTORE REFERENCE"),
            },
        ),
        model(
            "Ref",
            {
                "x": models.IntegerField(),
                "objects": models.Manager(),
                "storage": ModelStorageManager(table_storage_type="REFERENCE"),
            },
        ),
        model(
            "Row",
            {
                "x": models.IntegerField(db_index=True),
                "objects": models.Manager(),
                "storage": ModelStorageManager(table_storage_type="ROWSTORE"),
            },
        ),
    ]


def test_backend_tables_introspect_as_their_resolved_layout(make_alias: Callable[..., Any]) -> None:
    connection = make_alias("s2")
    built = _models()
    with connection.schema_editor() as editor:
        for model in built:
            editor.create_model(model)
    for model in built:
        expected = resolve_layout(model, connection)
        got = _intro(connection, "get_table_layout", model._meta.db_table)
        assert layout_signature(got) == layout_signature(expected), model.__name__
    rules = {resolve_layout(m, connection).label for m in built}
    # The automatic layout's branches (and its rowstore step) are all among them.
    assert {
        "primary key",
        "id demoted",
        "shared columns, rowstore",
        "reference",
        "declared shard key",
    } <= rules


def test_backend_demoted_table_reads_back_as_djangos_model(make_alias: Callable[..., Any]) -> None:
    connection = make_alias("s2")
    demoted = next(m for m in _models() if m.__name__ == "Demoted")
    with connection.schema_editor() as editor:
        editor.create_model(demoted)
    table = demoted._meta.db_table
    assert _intro(connection, "get_primary_key_column", table) == "id"
    constraints = _intro(connection, "get_constraints", table)
    uniques = [c["columns"] for c in constraints.values() if c["unique"]]
    assert uniques == [["username"]]
    # What Django's schema editor looks up to drop the unique (AlterField unique=False) is there.
    with connection.schema_editor() as editor:
        assert editor._constraint_names(demoted, ["username"], unique=True, primary_key=False)
        assert editor._constraint_names(demoted, primary_key=True) == []
    layout = _intro(connection, "get_table_layout", table)
    assert layout.unique_keys == (UniqueKey(layout.unique_keys[0].name, ("username",), True),)


def test_views_have_columns_but_no_layout_or_keys(s2: Any) -> None:
    with s2.cursor() as cursor:
        cursor.execute("CREATE VIEW member_names AS SELECT id, username FROM members")
    tables = {t.name: t for t in _intro(s2, "get_table_list")}
    assert tables["member_names"].type == "v" and tables["member_names"].storage_type is None
    assert [f.name for f in _intro(s2, "get_table_description", "member_names")] == ["id", "username"]
    assert _intro(s2, "get_constraints", "member_names") == {}
    assert _intro(s2, "get_primary_key_columns", "member_names") is None
    with pytest.raises(ValueError, match="view"):
        _intro(s2, "get_table_layout", "member_names")
    assert "member_names" not in s2.introspection.table_names()
    assert "member_names" in s2.introspection.table_names(include_views=True)


@pytest.mark.filterwarnings("ignore::django_singlestore.transactions.ChildAggregatorWarning")
def test_child_aggregator_reads_the_same_layouts(
    s2: Any, make_alias: Callable[..., Any], testbed: Any
) -> None:
    require_child(testbed)
    child = make_alias("s2child", same_as=s2, endpoint=testbed.child)
    for name in SHAPES:
        assert layout_signature(_intro(child, "get_table_layout", name)) == layout_signature(
            _intro(s2, "get_table_layout", name)
        ), name
        assert _intro(child, "get_constraints", name) == _intro(s2, "get_constraints", name), name
