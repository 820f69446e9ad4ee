"""System checks singlestore.E010 to E012: the FullTextIndex shapes SingleStore refuses, before migrate;
and the SQL the search expressions compile to (no server: the `unit` alias)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.db import models
from django.test.utils import isolate_apps

from django_singlestore.schema import ModelStorageManager
from django_singlestore.search import FullTextIndex, scoped_query


def run_checks(unit: Any, model: type[models.Model]) -> list[str]:
    config = SimpleNamespace(get_models=lambda: [model])
    return [i.id for i in unit.validation._check_table_layouts(app_configs=[config]) if i.obj is model]


def make(name: str, indexes: list[Any], storage: str = "", **fields: Any) -> type[models.Model]:
    attrs: dict[str, Any] = {
        "__module__": __name__,
        "Meta": type("Meta", (), {"app_label": "search", "indexes": indexes}),
        "title": models.CharField(max_length=10),
        "body": models.TextField(),
        **fields,
    }
    if storage:
        attrs["storage"] = ModelStorageManager(table_storage_type=storage)
    return type(name, (models.Model,), attrs)


@isolate_apps("tests.search")
def test_a_columnstore_model_with_one_text_index_passes(unit: Any) -> None:
    model = make("Good", [FullTextIndex(fields=["title", "body"], name="good_ft")], data=models.JSONField())
    assert run_checks(unit, model) == []


@pytest.mark.parametrize("storage", ["ROWSTORE", "ROWSTORE REFERENCE"])
def test_fulltext_on_a_rowstore_table_is_e010(unit: Any, storage: str) -> None:
    with isolate_apps("tests.search"):
        model = make("Rs", [FullTextIndex(fields=["body"], name="rs_ft")], storage=storage)
        assert run_checks(unit, model) == ["singlestore.E010"]


@isolate_apps("tests.search")
def test_a_columnstore_reference_table_may_have_one(unit: Any) -> None:
    model = make("Ref", [FullTextIndex(fields=["body"], name="ref_ft")], storage="REFERENCE")
    assert run_checks(unit, model) == []


@isolate_apps("tests.search")
def test_two_fulltext_indexes_is_e011(unit: Any) -> None:
    model = make(
        "Two", [FullTextIndex(fields=["title"], name="two_a"), FullTextIndex(fields=["body"], name="two_b")]
    )
    assert run_checks(unit, model) == ["singlestore.E011"]


@isolate_apps("tests.search")
def test_a_non_text_field_is_e012(unit: Any) -> None:
    model = make("Num", [FullTextIndex(fields=["body", "n"], name="num_ft")], n=models.IntegerField())
    assert run_checks(unit, model) == ["singlestore.E012"]


def test_index_arguments_are_validated_and_deconstructed() -> None:
    with pytest.raises(ValueError, match="version"):
        FullTextIndex(fields=["a"], name="x", version=3)
    with pytest.raises(ValueError, match="at least one field"):
        FullTextIndex(fields=[], name="x")
    path, args, kwargs = FullTextIndex(fields=["a"], name="x", version=1).deconstruct()
    assert (path, args, kwargs) == (
        "django_singlestore.search.FullTextIndex",
        (),
        {"fields": ["a"], "name": "x", "version": 1},
    )
    assert "version" not in FullTextIndex(fields=["a"], name="x").deconstruct()[2]


def test_scoped_query() -> None:
    assert scoped_query("+a -b", ["body"]) == "body:(+a -b)"
    assert scoped_query("a", ["title", "body"]) == "(title:(a) OR body:(a))"
    assert scoped_query("title:a b", ["body"]) == "title:a b"  # already names its fields
    assert scoped_query('"x:y"', ["body"]) == 'body:("x:y")'


def test_match_lookup_only_on_the_fields_of_a_fulltext_index() -> None:
    """`__match` is registered on the indexed fields themselves: other text fields keep Django's
    lookups only (a class-wide lookup broke Django's expressions test that applies every CharField
    lookup to a subquery)."""
    from django.core.exceptions import FieldError

    from tests.search.models import Article, Plain

    assert "match" in Article._meta.get_field("title").get_lookups()
    assert "match" in Article._meta.get_field("body").get_lookups()
    assert "match" not in Plain._meta.get_field("title").get_lookups()
    assert "match" not in models.CharField.get_lookups()
    assert "match" not in models.TextField.get_lookups()
    with pytest.raises(FieldError, match="Unsupported lookup 'match'"):
        Plain.objects.filter(title__match="x")
