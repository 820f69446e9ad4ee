"""Column changes SingleStore's ALTER refuses on a columnstore table, emulated column by column (add a
temporary column, copy, verify, drop the old one, rename) with every value kept; AUTO_INCREMENT and key
columns through the table rebuild."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import DataError, IntegrityError, migrations, models
from django.test.utils import CaptureQueriesContext

from django_singlestore.indexes import SortKey
from tests.alter.conftest import APP, Scenario, ddl
from tests.conftest import require_child
from tests.testbed import Testbed

TMP = "__s2tmp"


def _item(connection: Any, **extra: Any) -> Scenario:
    fields = [("id", models.BigAutoField(primary_key=True)), ("name", models.CharField(max_length=20))]
    fields += list(extra.items())
    return Scenario(connection, "Item", fields)


def _is_columnstore(scenario: Scenario) -> bool:
    with scenario.connection.cursor() as cursor:
        return scenario.connection.introspection.get_table_layout(cursor, scenario.table).is_columnstore


def test_int_to_bigint_keeps_values_and_moves_the_column_last(make_alias: Callable[..., Any]) -> None:
    s = _item(make_alias("s2"), n=models.IntegerField(null=True), tail=models.IntegerField(default=0))
    s.create()
    assert _is_columnstore(s)
    values = [(1, "a", 2**31 - 1, 7), (2, "b", None, 8), (3, "c", -(2**31), 9)]
    s.insert(["id", "name", "n", "tail"], values)
    queries = s.run(migrations.AlterField("Item", "n", models.BigIntegerField(null=True)))
    statements = ddl(queries)
    assert statements == [
        "ALTER TABLE `alt_item` ADD COLUMN `n__s2tmp` bigint NULL",
        "UPDATE `alt_item` SET `n__s2tmp` = `n`",
        # Catch up with writes made during the copy, then fence writes off and reconcile the rest.
        "UPDATE `alt_item` SET `n__s2tmp` = `n` WHERE NOT (`n__s2tmp` <=> `n`)",
        "ALTER TABLE `alt_item` RENAME TO `alt_item__s2_fence`",
        "UPDATE `alt_item__s2_fence` SET `n__s2tmp` = `n` WHERE NOT (`n__s2tmp` <=> `n`)",
        "ALTER TABLE `alt_item__s2_fence` DROP COLUMN `n`",
        "ALTER TABLE `alt_item__s2_fence` CHANGE `n__s2tmp` `n`",
        "ALTER TABLE `alt_item__s2_fence` RENAME TO `alt_item`",
    ]
    assert s.rows("id", "name", "n", "tail") == values
    columns = s.columns()
    assert list(columns) == ["id", "name", "tail", "n"]  # the replaced column is last
    assert columns["n"].startswith("bigint")
    # Bigger values fit now.
    s.insert(["id", "name", "n", "tail"], [(4, "d", 2**40, 0)])
    assert s.rows("n")[-1] == (2**40,)


def test_varchar_length_keeps_values(make_alias: Callable[..., Any]) -> None:
    s = _item(make_alias("s2"), code=models.CharField(max_length=5, db_index=True))
    s.create()
    values = [(1, "a", "abcde"), (2, "b", "x"), (3, "c", "")]
    s.insert(["id", "name", "code"], values)
    s.run(migrations.AlterField("Item", "code", models.CharField(max_length=50, db_index=True)))
    assert s.rows("id", "name", "code") == values
    assert s.columns()["code"].startswith("varchar(50)")
    # The field's index was dropped with the old column and created again on the new one.
    with s.connection.cursor() as cursor:
        constraints = s.connection.introspection.get_constraints(cursor, s.table)
    assert [c["columns"] for c in constraints.values() if c["index"] and not c["primary_key"]] == [["code"]]
    s.insert(["id", "name", "code"], [(4, "d", "y" * 50)])


def test_text_to_varchar_refuses_truncation_and_keeps_the_column(make_alias: Callable[..., Any]) -> None:
    s = _item(make_alias("s2"), note=models.TextField())
    s.create()
    values = [(1, "a", "short"), (2, "b", "much longer than ten")]
    s.insert(["id", "name", "note"], values)
    before = s.columns()
    with pytest.raises(DataError) as info:
        s.run(migrations.AlterField("Item", "note", models.CharField(max_length=10)))
    assert "alt.Item.note" in str(info.value)
    assert s.columns() == before  # original column intact, no temporary column left
    assert s.rows("id", "name", "note") == values
    # Without the long value the change goes through.
    with s.connection.cursor() as cursor:
        cursor.execute("DELETE FROM alt_item WHERE id = 2")
    s.run(migrations.AlterField("Item", "note", models.CharField(max_length=10)))
    assert s.rows("id", "note") == [(1, "short")]
    assert s.columns()["note"].startswith("varchar(10)")


def test_null_to_not_null_without_null_rows(make_alias: Callable[..., Any]) -> None:
    s = _item(make_alias("s2"), score=models.IntegerField(null=True))
    s.create()
    s.insert(["id", "name", "score"], [(1, "a", 5), (2, "b", 0)])
    s.run(migrations.AlterField("Item", "score", models.IntegerField()))
    assert s.rows("id", "score") == [(1, 5), (2, 0)]
    assert "NOT NULL" in s.columns()["score"]
    with pytest.raises(IntegrityError):
        s.insert(["id", "name", "score"], [(3, "c", None)])


def test_null_to_not_null_with_null_rows_and_no_default_is_refused_before_ddl(
    make_alias: Callable[..., Any],
) -> None:
    s = _item(make_alias("s2"), score=models.IntegerField(null=True))
    s.create()
    s.insert(["id", "name", "score"], [(1, "a", 5), (2, "b", None)])
    before = s.columns()
    queries: list[str] = []
    with pytest.raises(IntegrityError) as info:
        s.run(
            migrations.AlterField("Item", "score", models.IntegerField()),
            on_execute=lambda n, sql: queries.append(sql),
        )
    assert "alt.Item.score" in str(info.value) and "1 row(s)" in str(info.value)
    assert queries == []  # no DDL ran
    assert s.columns() == before
    assert s.rows("id", "score") == [(1, 5), (2, None)]


def test_null_to_not_null_with_null_rows_fills_the_default(make_alias: Callable[..., Any]) -> None:
    s = _item(make_alias("s2"), score=models.IntegerField(null=True))
    s.create()
    s.insert(["id", "name", "score"], [(1, "a", 5), (2, "b", None)])
    s.run(migrations.AlterField("Item", "score", models.IntegerField(default=-1)))
    assert s.rows("id", "score") == [(1, 5), (2, -1)]
    assert "NOT NULL" in s.columns()["score"]


def test_type_change_and_rename_in_one_step(make_alias: Callable[..., Any]) -> None:
    s = _item(make_alias("s2"), n=models.IntegerField())
    s.create()
    s.insert(["id", "name", "n"], [(1, "a", 1), (2, "b", 2)])
    s.run(migrations.AlterField("Item", "n", models.BigIntegerField(db_column="amount")))
    assert s.rows("id", "amount") == [(1, 1), (2, 2)]
    assert "n" not in s.columns() and s.columns()["amount"].startswith("bigint")


def test_auto_increment_drop_and_add_rebuild_the_table(make_alias: Callable[..., Any]) -> None:
    s = _item(make_alias("s2"))
    s.create()
    s.insert(["name"], [("a",), ("b",), ("c",)])
    ids = s.rows("id", "name")
    # Dropping AUTO_INCREMENT (a primary key column): the table is rebuilt, ids kept.
    s.run(migrations.AlterField("Item", "id", models.BigIntegerField(primary_key=True)))
    s.fields[0] = ("id", models.BigIntegerField(primary_key=True))
    assert s.rows("id", "name") == ids
    assert "AUTO_INCREMENT" not in s.columns()["id"].upper()
    assert not any(t.endswith("__s2_rebuild") for t in s.tables())
    s.insert(["id", "name"], [(1000, "d")])
    # Adding it back: rebuilt again, ids kept, and the counters synced past the copied ids.
    queries = s.run(migrations.AlterField("Item", "id", models.BigAutoField(primary_key=True)))
    assert any(q.startswith("AGGREGATOR SYNC AUTO_INCREMENT ON") for q in queries)
    assert s.rows("id", "name") == sorted([*ids, (1000, "d")])
    assert "AUTO_INCREMENT" in s.columns()["id"].upper()
    s.insert(["name"], [("e",)])
    new_id = s.rows("id", "name")[-1]
    assert new_id[1] == "e" and new_id[0] > max(i for i, _ in ids)


def test_a_sort_key_column_type_change_rebuilds_with_values_kept(make_alias: Callable[..., Any]) -> None:
    s = _item(make_alias("s2"), day=models.IntegerField())
    s.options = {"indexes": [SortKey(fields=["day"], name="item_sort")]}
    s.create()
    values = [(1, "a", 3), (2, "b", 1)]
    s.insert(["id", "name", "day"], values)
    queries = s.run(migrations.AlterField("Item", "day", models.BigIntegerField()))
    assert not any(TMP in q for q in queries)
    assert any(q.startswith("INSERT INTO `alt_item__s2_rebuild`") for q in queries)
    assert s.rows("id", "name", "day") == values
    assert s.columns()["day"].startswith("bigint")
    with s.connection.cursor() as cursor:
        assert s.connection.introspection.get_table_layout(cursor, s.table).sort_key == ("day",)


def test_making_a_column_unique_rebuilds_with_values_kept(make_alias: Callable[..., Any]) -> None:
    s = _item(make_alias("s2"), tail=models.IntegerField(default=0))
    s.create()
    values = [(1, "a", 5), (2, "b", 6)]
    s.insert(["id", "name", "tail"], values)
    s.run(migrations.AlterField("Item", "name", models.CharField(max_length=20, unique=True)))
    assert s.rows("id", "name", "tail") == values
    assert list(s.columns()) == ["id", "name", "tail"]  # the rebuild keeps the column order
    assert not any(t.endswith(("__s2_rebuild", "__s2_fence")) for t in s.tables())
    with s.connection.cursor() as cursor:
        layout = s.connection.introspection.get_table_layout(cursor, s.table)
    assert [k.columns for k in layout.unique_keys] == [("name",)]
    with pytest.raises(IntegrityError):
        s.insert(["id", "name", "tail"], [(3, "a", 0)])


def test_a_rowstore_table_is_altered_in_place(make_alias: Callable[..., Any]) -> None:
    from django_singlestore.schema import ModelStorageManager

    s = _item(make_alias("s2"), n=models.IntegerField())
    s.managers = [
        ("objects", models.Manager()),
        ("storage", ModelStorageManager(table_storage_type="ROWSTORE")),
    ]
    s.create()
    s.insert(["id", "name", "n"], [(1, "a", 1)])
    queries = s.run(migrations.AlterField("Item", "n", models.BigIntegerField()))
    assert [q for q in ddl(queries)] == ["ALTER TABLE `alt_item` MODIFY `n` bigint NOT NULL"]
    assert list(s.columns()) == ["id", "name", "n"] and s.rows("n") == [(1,)]


def test_a_meta_index_on_the_column_is_created_again(make_alias: Callable[..., Any]) -> None:
    s = _item(make_alias("s2"), n=models.IntegerField())
    s.options = {"indexes": [models.Index(fields=["n"], name="item_n_idx")]}
    s.create()
    s.insert(["id", "name", "n"], [(1, "a", 4), (2, "b", 5)])
    queries = s.run(migrations.AlterField("Item", "n", models.BigIntegerField()))
    assert any(TMP in q for q in queries)  # replaced column by column
    with s.connection.cursor() as cursor:
        constraints = s.connection.introspection.get_constraints(cursor, s.table)
    assert constraints["item_n_idx"]["columns"] == ["n"]
    assert s.rows("id", "n") == [(1, 4), (2, 5)]


def test_the_verification_catches_a_silent_truncation(make_alias: Callable[..., Any]) -> None:
    """A server that truncates instead of failing (no strict mode): the verification step finds the
    changed value, drops the temporary column and keeps the original."""
    s = _item(make_alias("s2"), note=models.TextField())
    s.create()
    values = [(1, "a", "short"), (2, "b", "much longer than ten")]
    s.insert(["id", "name", "note"], values)
    before = s.columns()
    with s.connection.cursor() as cursor:
        cursor.execute("SET SESSION sql_mode = ''")
    with pytest.raises(DataError) as info:
        s.run(migrations.AlterField("Item", "note", models.CharField(max_length=10)))
    assert "alt.Item.note" in str(info.value) and "would change 1 value(s)" in str(info.value)
    assert s.columns() == before
    assert s.rows("id", "name", "note") == values


@pytest.mark.parametrize("db_column", [None, "amount"])
def test_running_a_finished_migration_again_changes_nothing(
    make_alias: Callable[..., Any], db_column: str | None
) -> None:
    """Interrupted after its last step but before `migrate` recorded it, the migration runs again: the
    column already has its new type (and name), so no statement is sent."""
    s = _item(make_alias("s2"), n=models.IntegerField(null=True, db_index=True))
    s.create()
    s.insert(["id", "name", "n"], [(1, "a", 1), (2, "b", None)])
    operation = migrations.AlterField(
        "Item", "n", models.BigIntegerField(null=True, db_index=True, db_column=db_column)
    )
    s.run(operation)
    after = s.columns()
    assert ddl(s.run(operation)) == []
    assert s.columns() == after
    assert s.rows("id", db_column or "n") == [(1, 1), (2, None)]


@pytest.mark.filterwarnings("ignore::django_singlestore.transactions.ChildAggregatorWarning")
def test_through_the_child_aggregator(make_alias: Callable[..., Any], testbed: Testbed) -> None:
    require_child(testbed)
    s = _item(make_alias("s2child", endpoint=testbed.child), n=models.IntegerField(null=True))
    s.create()
    s.insert(["id", "name", "n"], [(1, "a", 3), (2, "b", None)])
    queries = s.run(migrations.AlterField("Item", "n", models.BigIntegerField(null=True)))
    assert any(TMP in q for q in queries)
    assert s.rows("id", "name", "n") == [(1, "a", 3), (2, "b", None)]
    assert s.columns()["n"].startswith("bigint")


def test_the_introspected_storage_decides(make_alias: Callable[..., Any]) -> None:
    """The model's automatic layout says columnstore, the table in the database is a rowstore (created
    by hand): SingleStore's ALTER can change it in place, so it does."""
    s = _item(make_alias("s2"), n=models.IntegerField())
    with s.connection.cursor() as cursor:
        cursor.execute(
            "CREATE ROWSTORE TABLE alt_item (id bigint AUTO_INCREMENT NOT NULL PRIMARY KEY, "
            "name varchar(20) NOT NULL, n integer NOT NULL)"
        )
    s.insert(["id", "name", "n"], [(1, "a", 3)])
    queries = s.run(migrations.AlterField("Item", "n", models.BigIntegerField()))
    assert ddl(queries) == ["ALTER TABLE `alt_item` MODIFY `n` bigint NOT NULL"]
    assert list(s.columns()) == ["id", "name", "n"] and s.rows("n") == [(3,)]


@pytest.mark.parametrize("new", ["sort key bigint", "AUTO_INCREMENT dropped", "made unique"])
def test_running_a_finished_rebuild_again_copies_nothing(make_alias: Callable[..., Any], new: str) -> None:
    s = _item(make_alias("s2"), day=models.IntegerField())
    s.options = {"indexes": [SortKey(fields=["day"], name="item_sort")]}
    s.create()
    s.insert(["id", "name", "day"], [(1, "a", 3), (2, "b", 1)])
    if new == "sort key bigint":
        operation = migrations.AlterField("Item", "day", models.BigIntegerField())
    elif new == "AUTO_INCREMENT dropped":
        operation = migrations.AlterField("Item", "id", models.BigIntegerField(primary_key=True))
    else:
        operation = migrations.AlterField("Item", "name", models.CharField(max_length=20, unique=True))
    first = ddl(s.run(operation))
    assert any(q.startswith("INSERT INTO `alt_item__s2_rebuild`") for q in first), first
    after = s.columns()
    again = ddl(s.run(operation))
    assert [q for q in again if not q.startswith("AGGREGATOR SYNC")] == [], again
    assert s.columns() == after
    assert s.rows("id", "name", "day") == [(1, "a", 3), (2, "b", 1)]


def test_a_collation_change_with_a_type_change(make_alias: Callable[..., Any]) -> None:
    s = _item(make_alias("s2"), info=models.TextField())
    s.create()
    s.insert(["id", "name", "info"], [(1, "a", "Straße"), (2, "b", "ABC")])
    s.run(
        migrations.AlterField(
            "Item", "info", models.CharField(max_length=50, db_collation="utf8mb4_unicode_ci")
        )
    )
    assert s.rows("id", "info") == [(1, "Straße"), (2, "ABC")]
    assert "utf8mb4_unicode_ci" in s.columns()["info"]


def test_a_migration_stopped_part_way_names_what_was_applied_and_resumes(
    make_alias: Callable[..., Any],
) -> None:
    from django.test.utils import CaptureQueriesContext

    from tests.alter.conftest import APP

    s = _item(make_alias("s2"), a=models.IntegerField(null=True), b=models.TextField())
    s.create()
    s.insert(["id", "name", "a", "b"], [(1, "x", 1, "short"), (2, "y", 2, "much longer than ten")])
    operations = [
        migrations.AlterField("Item", "a", models.BigIntegerField(null=True)),
        migrations.AlterField("Item", "b", models.CharField(max_length=10)),
    ]

    def migrate() -> list[str]:
        """Both operations in one schema editor, as `migrate` applies one migration."""
        state = s.state()
        with CaptureQueriesContext(s.connection) as queries, s.connection.schema_editor() as editor:
            for operation in operations:
                new_state = state.clone()
                operation.state_forwards(APP, new_state)
                operation.database_forwards(APP, editor, state, new_state)
                state = new_state
        return [q["sql"] for q in queries.captured_queries]

    with pytest.raises(DataError) as info:
        migrate()
    # The error says what this operation did (nothing) and which one before it was applied.
    assert "alt.Item.b" in str(info.value) and "Nothing was changed" in str(info.value)
    notes = " ".join(getattr(info.value, "__notes__", []))
    assert "altering alt.Item.a" in notes and "resumes" in notes, notes
    columns = s.columns()
    assert columns["a"].startswith("bigint") and columns["b"].startswith(("longtext", "text")), columns
    # The data fixed, `migrate` again: the applied operation is recognised, the other one runs.
    with s.connection.cursor() as cursor:
        cursor.execute(f"UPDATE `{s.table}` SET `b` = 'long' WHERE `id` = 2")
    queries = migrate()
    assert not any("a__s2tmp" in q for q in queries), queries
    assert s.columns()["b"].startswith("varchar(10)")
    assert s.rows("id", "a", "b") == [(1, 1, "short"), (2, 2, "long")]


def test_a_rebuild_that_cannot_reconcile_restores_the_table(make_alias: Callable[..., Any]) -> None:
    s = _item(make_alias("s2"))
    s.create()
    s.insert(["id", "name"], [(1, "a"), (2, "b")])
    before = s.columns()
    # A row written during the copy breaks the new unique key: found while writes are fenced off.
    inserted: list[str] = []

    def hook(n: int, sql: str) -> None:
        if sql.startswith("INSERT INTO `alt_item__s2_rebuild`") and len(inserted) < 2:
            inserted.append(sql)
            if len(inserted) == 2:  # after the live reconciliation, before the fence
                with s.connection.copy().cursor() as cursor:
                    cursor.execute("INSERT INTO `alt_item` (`id`, `name`) VALUES (3, 'a')")

    with pytest.raises(IntegrityError) as info:
        s.run(migrations.AlterField("Item", "name", models.CharField(max_length=20, unique=True)), hook)
    assert "Nothing was changed" in str(info.value)
    assert s.columns() == before
    assert s.rows("id", "name") == [(1, "a"), (2, "b"), (3, "a")]
    assert not any(t.endswith(("__s2_rebuild", "__s2_fence")) for t in s.tables())


def test_a_column_replacement_that_cannot_reconcile_restores_the_column(
    make_alias: Callable[..., Any],
) -> None:
    s = _item(make_alias("s2"), note=models.TextField())
    s.create()
    s.insert(["id", "name", "note"], [(1, "a", "short")])
    before = s.columns()
    updates: list[str] = []

    def hook(n: int, sql: str) -> None:
        if sql.startswith("UPDATE `alt_item` SET") and "WHERE NOT" in sql and not updates:
            updates.append(sql)  # after the live reconciliation, before the fence: a value too long
            with s.connection.copy().cursor() as cursor:
                cursor.execute(
                    "INSERT INTO `alt_item` (`id`, `name`, `note`) VALUES (2, 'b', %s)", ["x" * 40]
                )

    with pytest.raises(DataError) as info:
        s.run(migrations.AlterField("Item", "note", models.CharField(max_length=10)), hook)
    assert "Nothing was changed" in str(info.value)
    assert s.columns() == before
    assert s.rows("id", "name", "note") == [(1, "a", "short"), (2, "b", "x" * 40)]
    assert not any(t.endswith("__s2_fence") for t in s.tables())


def test_sqlmigrate_of_null_to_not_null_prints_the_sql_and_reads_nothing(
    make_alias: Callable[..., Any],
) -> None:
    """sqlmigrate (collect_sql) shows the statements without looking at the rows: NULLs that would
    refuse the migration do not stop the printout."""
    s = _item(make_alias("s2"), score=models.IntegerField(null=True))
    s.create()
    s.insert(["id", "name", "score"], [(1, "a", None)])
    before, after = s.state(), s.state().clone()
    operation = migrations.AlterField("Item", "score", models.IntegerField())
    operation.state_forwards(APP, after)
    with CaptureQueriesContext(s.connection) as sent, s.connection.schema_editor(collect_sql=True) as editor:
        operation.database_forwards(APP, editor, before, after)
    assert any("score" in sql for sql in editor.collected_sql), editor.collected_sql
    assert [q["sql"] for q in sent.captured_queries if "COUNT" in q["sql"].upper()] == []
    assert s.rows("id", "score") == [(1, None)] and "NOT NULL" not in s.columns()["score"]


@pytest.mark.parametrize(("fields", "rebuilds"), [(["day", "name"], True), (["day"], False)])
def test_sqlmigrate_shows_the_rebuild_that_migrate_runs_for_a_column_of_a_meta_index(
    make_alias: Callable[..., Any], fields: list[str], rebuilds: bool
) -> None:
    """sqlmigrate reads no table, so the model's Meta.indexes tell it that a column of a multi-column
    index needs the table rebuilt (a one-column index is created again after a column replacement);
    its printout shows what migrate then does."""
    s = _item(make_alias("s2"), day=models.IntegerField(null=True))
    s.options = {"indexes": [models.Index(fields=fields, name="item_day_ix")]}
    s.create()
    s.insert(["id", "name", "day"], [(1, "a", 3)])
    before, after = s.state(), s.state().clone()
    operation = migrations.AlterField("Item", "day", models.BigIntegerField(null=True))
    operation.state_forwards(APP, after)
    with s.connection.schema_editor(collect_sql=True) as editor:
        operation.database_forwards(APP, editor, before, after)
    printed = " ".join(editor.collected_sql)
    assert ("CREATE TABLE `alt_item` (" in printed) is rebuilds, printed  # the table created again
    assert (TMP in printed) is not rebuilds, printed
    ran = s.run(operation)
    assert any("`alt_item__s2_rebuild`" in q for q in ran) is rebuilds, ran
    assert any(TMP in q for q in ran) is not rebuilds, ran
    assert s.rows("id", "name", "day") == [(1, "a", 3)] and s.columns()["day"].startswith("bigint")
