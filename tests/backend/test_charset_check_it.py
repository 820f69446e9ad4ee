"""singlestore.W002: a database whose default character set is SingleStore's 3-byte utf8 (the
server default) is reported before `migrate`, since its new tables cannot store emoji."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import DatabaseError, models
from django.test.utils import isolate_apps

from tests.dbtools import AliasFactory, database_name, drop_database, run_admin_sql
from tests.testbed import Testbed


@pytest.fixture
def utf8mb3_alias(request: pytest.FixtureRequest, testbed: Testbed) -> Iterator[Any]:
    """An alias on a database created with the server's default character set (no CHARACTER SET)."""
    name = database_name(request, "gw_charset")
    run_admin_sql(testbed.master, f"DROP DATABASE IF EXISTS `{name}`", f"CREATE DATABASE `{name}`")
    factory = AliasFactory(testbed.master, name)
    try:
        yield factory("s2_utf8mb3")
    finally:
        factory.close()
        drop_database(testbed.master, name)


def w002(connection: Any) -> list[Any]:
    return [issue for issue in connection.validation.check() if issue.id == "singlestore.W002"]


@pytest.mark.gateway_only  # the test bed's server default is utf8mb3, like SingleStore's
def test_a_utf8mb3_database_is_reported_and_really_refuses_emoji(utf8mb3_alias: Any) -> None:
    [warning] = w002(utf8mb3_alias)
    # SingleStore spells the 3-byte collation utf8_general_ci (the gateway reports it that way).
    assert "utf8_general_ci" in warning.msg and "emoji" in warning.msg
    assert "collation_server = 'utf8mb4_general_ci'" in warning.hint

    # What the warning is about: a table created there refuses a 4-byte character.
    with isolate_apps("tests.backend"):

        class Note(models.Model):
            text = models.CharField(max_length=20)

            class Meta:
                app_label = "backend"

        with utf8mb3_alias.schema_editor() as editor:
            editor.create_model(Note)
        with pytest.raises(DatabaseError):
            Note.objects.using("s2_utf8mb3").create(text="ok 👍")


def test_a_utf8mb4_database_is_not_reported(make_alias: Any) -> None:
    connection = make_alias("s2_utf8mb4")  # created CHARACTER SET utf8mb4 by the fixture
    assert w002(connection) == []
