"""Regression tests for issue #14: a name that ended its quoting ran a second statement.

On the backend before the fix, each hostile name below dropped `canary` (quote_name neither doubled
backticks nor checked pre-quoted names, and both drivers allowed several statements per round trip).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, connection, models
from django.test.utils import isolate_apps

from django_singlestore.operations import InvalidIdentifier, quote_identifier
from tests.security.conftest import tables

#: Issue #14's name, word for word. It ends with a space, which no table name may (1103 Incorrect table
#: name), so the server refuses the quoted table; `HOSTILE_TABLE` is the same attack, ending in a letter.
ISSUE_TABLE = "t` (id INT); DROP TABLE canary; -- "
HOSTILE_TABLE = "t` (id INT); DROP TABLE canary; -- x"
HOSTILE_COLUMN = "c` INT); DROP TABLE canary; -- x"
HOSTILE_WHERE = "canary` WHERE 1; DROP TABLE canary; -- "


def hostile_model(db_table: str, column: str = "name") -> type[models.Model]:
    with isolate_apps("tests.security"):

        class Hostile(models.Model):
            label = models.CharField(max_length=20, db_column=column)

            class Meta:
                app_label = "security"

        Hostile._meta.db_table = db_table
        return Hostile


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ("plain", "`plain`"),
        ("a`b", "`a``b`"),
        (ISSUE_TABLE, "`t`` (id INT); DROP TABLE canary; -- `"),
        ("`already`", "`already`"),
        ("`with``tick`", "`with``tick`"),
        ("`", "````"),
    ],
)
def test_quote_identifier_doubles_backticks_and_keeps_correctly_quoted_names(name, quoted):
    assert quote_identifier(name) == quoted
    assert connection.ops.quote_name(name) == quoted


@pytest.mark.parametrize(
    "name", ["`t` (id INT); DROP TABLE canary; -- `", "`a`b`", "```", "`a` `b`", "`a```b`c`"]
)
def test_a_pre_quoted_name_that_is_not_one_identifier_is_refused(name):
    with pytest.raises(InvalidIdentifier, match="not one correctly quoted identifier"):
        connection.ops.quote_name(name)


@pytest.mark.parametrize("name", ["", "``", "a\x00b", "`\x00`"])
def test_names_no_identifier_can_hold_are_refused(name):
    with pytest.raises(InvalidIdentifier) as info:
        connection.ops.quote_name(name)
    assert isinstance(info.value, DatabaseError) and isinstance(info.value, ValueError)


def test_the_issues_db_table_is_refused_by_the_server_and_drops_nothing(s2: Any) -> None:
    model = hostile_model(ISSUE_TABLE)
    with pytest.raises(DatabaseError, match="Incorrect table name"), s2.schema_editor() as editor:
        editor.create_model(model)
    assert tables(s2) == {"canary"}


def test_hostile_db_table_creates_that_table_and_drops_nothing(s2: Any) -> None:
    model = hostile_model(HOSTILE_TABLE)
    with s2.schema_editor() as editor:
        editor.create_model(model)
    assert {"canary", HOSTILE_TABLE} <= tables(s2)
    model.objects.using(s2.alias).create(label="x")
    assert list(model.objects.using(s2.alias).values_list("label", flat=True)) == ["x"]
    with s2.schema_editor() as editor:
        editor.delete_model(model)
    assert tables(s2) == {"canary"}


def test_hostile_db_column_in_create_add_alter_and_remove_drops_nothing(s2: Any) -> None:
    model = hostile_model("plain_table", column=HOSTILE_COLUMN)
    with s2.schema_editor() as editor:
        editor.create_model(model)
    with s2.cursor() as cursor:
        columns = [c.name for c in s2.introspection.get_table_description(cursor, "plain_table")]
    assert HOSTILE_COLUMN in columns
    extra = models.IntegerField(null=True, db_column=HOSTILE_COLUMN + "2")
    extra.set_attributes_from_name("extra")
    extra.model = model
    with s2.schema_editor() as editor:
        editor.add_field(model, extra)
    wider = models.CharField(max_length=40, db_column=HOSTILE_COLUMN)
    wider.set_attributes_from_name("label")
    wider.model = model
    with s2.schema_editor() as editor:
        editor.alter_field(model, model._meta.get_field("label"), wider)
        editor.remove_field(model, extra)
    assert "canary" in tables(s2)
    with s2.cursor() as cursor:
        columns = {c.name: c for c in s2.introspection.get_table_description(cursor, "plain_table")}
    assert set(columns) == {"id", HOSTILE_COLUMN}


def test_hostile_name_in_a_raw_query_fails_without_dropping(s2: Any) -> None:
    with pytest.raises(DatabaseError), s2.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {s2.ops.quote_name(HOSTILE_WHERE)}")
    assert "canary" in tables(s2)
