"""The shard-key columns compiler.py protects in an UPDATE, for the models migrations and proxies hand it
(issue 19: mutation testing found these paths untested). No server: the `unit` alias points nowhere.

A column counted as a shard-key column only costs a row move; one missed sends an UPDATE SingleStore
refuses (1706), so a historical model takes the installed model's keys too, when it is the same table.
"""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.migrations.state import ModelState, ProjectState

from django_singlestore.compiler import shard_key_columns
from django_singlestore.layout import resolve_layout

CONTENT_TYPE_KEY = {"app_label", "model"}


class ContentTypeProxy(ContentType):
    class Meta:
        proxy = True
        app_label = "s2backend_suite"


def _historical(*states: ModelState) -> ProjectState:
    project = ProjectState()
    for state in states:
        project.add_model(state)
    return project


def _without_unique_together(model: type[models.Model], **options: object) -> ModelState:
    """The model's migration state before its AlterUniqueTogether (so its own layout lacks that key)."""
    state = ModelState.from_model(model)
    state.options.pop("unique_together", None)
    state.options.update(options)
    return state


def test_a_proxy_updates_with_its_concrete_models_shard_key(unit):
    assert shard_key_columns(unit, ContentType) == CONTENT_TYPE_KEY
    assert shard_key_columns(unit, ContentTypeProxy) == CONTENT_TYPE_KEY


def test_a_historical_model_with_a_computed_table_name_takes_the_installed_keys(unit):
    """Permission names no db_table: the historical model computes the same name again."""
    project = _historical(ModelState.from_model(ContentType), _without_unique_together(Permission))
    historical = project.apps.get_model("auth", "Permission")
    installed = shard_key_columns(unit, Permission)
    assert installed == {"content_type_id", "codename"}
    assert shard_key_columns(unit, historical) >= installed


def test_a_historical_model_of_another_table_keeps_its_own_keys(unit):
    """Same app and model name as an installed model, another table: the installed keys do not apply."""
    for table in ("zz_content_type", "a_content_type"):
        project = _historical(_without_unique_together(ContentType, db_table=table))
        historical = project.apps.get_model("contenttypes", "ContentType")
        own = set(resolve_layout(historical, unit).shard_key or ())
        assert not own >= CONTENT_TYPE_KEY, "the test needs a state whose own layout lacks that key"
        assert shard_key_columns(unit, historical) == own, table


def test_a_historical_model_of_an_app_no_longer_installed_keeps_its_own_keys(unit):
    fields = [
        ("id", models.BigAutoField(primary_key=True)),
        ("code", models.CharField(max_length=10, unique=True)),
    ]
    historical = _historical(ModelState("s2gone", "Thing", fields)).apps.get_model("s2gone", "Thing")
    assert shard_key_columns(unit, historical) == set(resolve_layout(historical, unit).shard_key or ())


def test_only_a_sliced_compound_query_is_wrapped_for_its_limit(unit):
    """SingleStore applies a trailing LIMIT to the last member of a UNION: a sliced compound query is
    wrapped in a derived table; an unsliced or ordered one is sent as Django writes it."""
    from tests.backend.models import Item

    both = Item.objects.filter(count=1).union(Item.objects.filter(count=2))
    plain, _ = both.query.get_compiler("unit").as_sql()
    assert not plain.startswith("SELECT * FROM (") and " LIMIT " not in plain
    sliced, params = both[:3].query.get_compiler("unit").as_sql()
    assert sliced.startswith("SELECT * FROM ( ") and sliced.endswith(" ) LIMIT 3"), sliced
    assert sliced.count("LIMIT") == 1 and params == (1, 2)
    ordered, _ = both.order_by("name")[:3].query.get_compiler("unit").as_sql()
    assert ordered.count("SELECT * FROM (") == 1 and ordered.endswith("LIMIT 3"), ordered
    unlimited, _ = both[:3].query.get_compiler("unit").as_sql(with_limits=False)
    assert "LIMIT" not in unlimited


def test_a_plain_select_is_djangos_mysql_select(unit):
    """Outside the nodes SingleStore spells differently, a SELECT is what Django's MySQL backend sends
    (no column aliases a caller did not ask for)."""
    from django.db.backends.mysql.compiler import SQLCompiler as MySQLCompiler

    from tests.backend.models import Item

    query = Item.objects.filter(count=1).order_by("name")[:5].query
    ours = query.get_compiler("unit").as_sql()
    assert ours == MySQLCompiler(query, unit, "unit").as_sql()
    assert " AS " not in ours[0]
