"""DDL for simple tables (collect_sql: no server)."""

from __future__ import annotations

import pytest
from django.db import NotSupportedError, models

from tests.backend.models import Child, Computed, Counter, Documented, Item


def ddl(connection, *models_):
    with connection.schema_editor(collect_sql=True) as editor:
        for model in models_:
            editor.create_model(model)
    return editor.collected_sql


def test_auto_fields_are_bigint_auto_increment(unit):
    (create,) = ddl(unit, Item)
    assert create.startswith("CREATE TABLE `s2_item` (`id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY, ")
    for field in (models.AutoField, models.SmallAutoField, models.BigAutoField):
        assert field(primary_key=True).db_type(unit) == "bigint AUTO_INCREMENT"


def test_foreign_keys_get_an_index_and_no_constraint(unit):
    statements = ddl(unit, Child)
    text = "\n".join(statements)
    assert "FOREIGN KEY" not in text and "REFERENCES" not in text and "CONSTRAINT" not in text
    assert any(s.startswith("CREATE INDEX ") and "(`item_id`)" in s for s in statements)


def test_positive_integers_have_no_check_constraint(unit):
    text = "\n".join(ddl(unit, Child))
    assert "CHECK" not in text
    assert "`position` integer UNSIGNED NOT NULL" in text


def test_defaults_comments_and_computed_column(unit):
    create, computed = ddl(unit, Documented, Computed)
    assert "`size` integer DEFAULT 5 NOT NULL" in create
    assert "`kind` varchar(10) DEFAULT 'plain' NOT NULL" in create
    assert "`stamped` datetime(6) DEFAULT CURRENT_TIMESTAMP(6) NOT NULL" in create
    assert "DEFAULT (" not in create
    assert "COMMENT 'the title, shown to users'" in create
    assert "`area` AS ((`width` * `height`)) PERSISTED bigint" in computed
    assert "GENERATED" not in computed and "STORED" not in computed
    assert create.endswith(") COMMENT 'models with comments and database defaults';")


def test_table_comment_cannot_change_after_create(unit):
    with unit.schema_editor(collect_sql=True) as editor:
        with pytest.raises(NotSupportedError, match="table comment"):
            editor.alter_db_table_comment(Documented, "old", "new")
        editor.alter_db_table_comment(Documented, "same", "same")
        assert editor.collected_sql == []


def test_virtual_generated_fields_are_refused(unit):
    class Virtual(models.Model):
        a = models.IntegerField()
        b = models.GeneratedField(
            expression=models.F("a") + 1, output_field=models.IntegerField(), db_persist=False
        )

        class Meta:
            app_label = "s2backend"
            db_table = "s2_virtual"

    with pytest.raises(NotSupportedError, match="db_persist=True"):
        ddl(unit, Virtual)


def test_string_default_is_quoted_without_a_connection(unit):
    with unit.schema_editor(collect_sql=True) as editor:
        assert editor.quote_value("it's \\ ok") == "'it\\'s \\\\ ok'"
        assert editor.quote_value(None) == "NULL"
        assert editor.quote_value(True) == "1"
        assert editor.quote_value(b"\x00\xff") == "X'00ff'"
    assert unit.connection is None


def test_rename_column_and_table_use_singlestore_syntax(unit):
    with unit.schema_editor(collect_sql=True) as editor:
        editor.alter_db_table(Counter, "s2_counter", "s2_counter_new")
        old = Counter._meta.get_field("label")
        new = models.CharField(max_length=50, default="")
        new.set_attributes_from_name("caption")
        new.model = Counter
        editor.execute(editor._rename_field_sql(Counter._meta.db_table, old, new, "varchar(50)"))
    assert editor.collected_sql[0] == "ALTER TABLE `s2_counter` RENAME TO `s2_counter_new`;"
    assert editor.collected_sql[1] == "ALTER TABLE `s2_counter` CHANGE `label` `caption`;"
