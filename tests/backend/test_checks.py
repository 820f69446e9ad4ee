"""System checks for model shapes SingleStore cannot hold (singlestore.E002 to E005), before migrate."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.db import models
from django.test.utils import isolate_apps

from django_singlestore.validation import model_shape_issues


def ids(model: type[models.Model]) -> list[str]:
    return [issue.id for issue in model_shape_issues(model)]


def run_checks(unit: Any, model: type[models.Model]) -> list[Any]:
    """The alias's database checks over just `model` (isolated models are not in the app registry)."""
    config = SimpleNamespace(get_models=lambda: [model])
    return [
        issue for issue in unit.validation._check_table_layouts(app_configs=[config]) if issue.obj is model
    ]


@isolate_apps("tests.backend")
def test_an_ordinary_model_passes() -> None:
    class Plain(models.Model):
        name = models.CharField(max_length=10, db_index=True)

        class Meta:
            app_label = "backend"

    assert ids(Plain) == []


@pytest.mark.parametrize(
    ("db_table", "column", "said"),
    [
        ("`t` (id INT); DROP TABLE x; -- `", "c", "not one correctly quoted identifier"),
        ("t", "a\x00b", "NUL character"),
        ("t" * 257, "c", "257 characters long; SingleStore allows 256"),
        ("t", "c" * 300, "300 characters long"),
    ],
)
def test_names_singlestore_cannot_take_are_e002(unit: Any, db_table: str, column: str, said: str) -> None:
    with isolate_apps("tests.backend"):

        class Named(models.Model):
            value = models.IntegerField(db_column=column)

            class Meta:
                app_label = "backend"

    Named._meta.db_table = db_table
    (issue,) = run_checks(unit, Named)
    assert issue.id == "singlestore.E002" and said in issue.msg
    assert issue.hint and "1 to 256 characters without NUL" in issue.hint


@isolate_apps("tests.backend")
def test_more_than_63_keys_is_e003() -> None:
    fields = {f"f{i}": models.IntegerField(db_index=True) for i in range(63)}
    Many = type(
        "Many",
        (models.Model,),
        {"__module__": __name__, "Meta": type("Meta", (), {"app_label": "backend"}), **fields},
    )
    (issue,) = model_shape_issues(Many)
    assert issue.id == "singlestore.E003" and "64 keys" in issue.msg and "63" in issue.msg


@isolate_apps("tests.backend")
def test_more_than_32_columns_in_a_key_is_e004() -> None:
    fields = {f"f{i}": models.IntegerField() for i in range(33)}
    meta = type(
        "Meta", (), {"app_label": "backend", "indexes": [models.Index(fields=list(fields), name="wide_idx")]}
    )
    Wide = type("Wide", (models.Model,), {"__module__": __name__, "Meta": meta, **fields})
    (issue,) = model_shape_issues(Wide)
    assert issue.id == "singlestore.E004" and "'wide_idx' has 33 columns" in issue.msg


@isolate_apps("tests.backend")
def test_more_than_4096_columns_is_e005() -> None:
    fields = {f"f{i}": models.IntegerField() for i in range(4096)}
    Huge = type(
        "Huge",
        (models.Model,),
        {"__module__": __name__, "Meta": type("Meta", (), {"app_label": "backend"}), **fields},
    )
    (issue,) = model_shape_issues(Huge)
    assert issue.id == "singlestore.E005" and "4097 columns" in issue.msg


@pytest.mark.parametrize(("db_table", "column"), [("a%%b", "c"), ("t", "v%s")])
def test_a_percent_sign_in_a_name_is_w002(unit: Any, db_table: str, column: str) -> None:
    with isolate_apps("tests.backend"):

        class Percent(models.Model):
            value = models.IntegerField(db_column=column)

            class Meta:
                app_label = "backend"

    Percent._meta.db_table = db_table
    (issue,) = run_checks(unit, Percent)
    assert issue.id == "singlestore.W003" and "parameter placeholder" in issue.msg
