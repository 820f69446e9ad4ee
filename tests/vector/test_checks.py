"""System checks for VectorField and VectorIndex (singlestore.E006-E009, W004), and the DDL they emit."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connections, models
from django.test.utils import isolate_apps

from django_singlestore.vector import (
    DotProduct,
    EuclideanDistance,
    QueryVector,
    VectorField,
    VectorIndex,
    vector_index_issues,
)
from tests.backend.conftest import register_unit_alias


def ids(issues: list[Any]) -> list[str]:
    return [i.id for i in issues]


@isolate_apps("tests.vector")
def test_field_check_e009() -> None:
    class Bad(models.Model):
        a = VectorField(dimensions=0)
        b = VectorField(dimensions=3, element_type="F8")
        c = VectorField(dimensions=3)

        class Meta:
            app_label = "vector"

    assert ids(Bad._meta.get_field("a").check()) == ["singlestore.E009"]
    assert ids(Bad._meta.get_field("b").check()) == ["singlestore.E009"]
    assert Bad._meta.get_field("c").check() == []


@isolate_apps("tests.vector")
def test_index_checks() -> None:
    class M(models.Model):
        v = VectorField(dimensions=3)
        w = VectorField(dimensions=3, element_type="F64")
        n = VectorField(dimensions=3, null=True)
        t = models.TextField()

        class Meta:
            app_label = "vector"
            indexes = [
                VectorIndex(fields=["v"], name="ok_vec"),
                VectorIndex(fields=["v", "n"], name="two_vec"),
                VectorIndex(fields=["w"], name="f64_vec"),
                VectorIndex(fields=["t"], name="text_vec"),
                VectorIndex(fields=["n"], name="null_vec"),
            ]

    assert ids(vector_index_issues(M, rowstore=False, version=(8, 9, 3))) == [
        "singlestore.E007",
        "singlestore.E008",
        "singlestore.E008",
    ]
    old = vector_index_issues(M, rowstore=False, version=(8, 5, 0))
    assert ids(old)[-1] == "singlestore.W004" and "null_vec" in old[-1].msg
    assert ids(vector_index_issues(M, rowstore=True, version=(8, 9))).count("singlestore.E006") == 5


def test_index_ddl_and_deconstruct() -> None:
    conn = register_unit_alias()
    index = VectorIndex(
        fields=["v"], name="vi", index_type="ivf_pqfs", metric="dot_product", options={"nlist": 8}
    )
    path, _args, kwargs = index.deconstruct()
    assert path == "django_singlestore.vector.VectorIndex"
    assert kwargs == {
        "fields": ["v"],
        "name": "vi",
        "index_type": "IVF_PQFS",
        "metric": "DOT_PRODUCT",
        "options": {"nlist": 8},
    }

    @isolate_apps("tests.vector")
    def sql() -> str:
        class T(models.Model):
            v = VectorField(dimensions=3)

            class Meta:
                app_label = "vector"
                db_table = "t'x"

        with conn.schema_editor(collect_sql=True) as editor:
            return str(index.create_sql(T, editor))

    assert sql() == (
        "ALTER TABLE `t'x` ADD VECTOR INDEX `vi` (`v`) INDEX_OPTIONS "
        '\'{"index_type":"IVF_PQFS","metric_type":"DOT_PRODUCT","nlist":8}\''
    )
    with pytest.raises(ValueError, match="index_type"):
        VectorIndex(fields=["v"], name="x", index_type="BTREE")


def test_expressions_are_cheap_and_comparable() -> None:
    q = [0.1, 0.2, 0.3]
    assert DotProduct("v", q) == DotProduct("v", list(q))
    assert DotProduct("v", q) != EuclideanDistance("v", q)
    assert hash(DotProduct("v", q)) == hash(DotProduct("v", q))
    assert QueryVector(q).json == "[0.1,0.2,0.3]"
    with pytest.raises(ValueError):
        QueryVector([float("nan")])
    assert connections  # the module imports the ORM only
