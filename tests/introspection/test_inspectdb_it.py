"""inspectdb round trip: tables of every storage and key shape made with SingleStore DDL (shapes.py),
`inspectdb` on them, the generated models loaded and created in a second database by the backend's
schema editor, and the two databases compared: SHOW CREATE TABLE (columns in order, keys without
their names, storage, table comment), the introspected layouts and column descriptions.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.apps.registry import Apps
from django.core.management import call_command
from django.db import models
from django.test.utils import override_settings

from django_singlestore.layout import layout_signature, resolve_layout
from django_singlestore.management.commands.inspectdb import Command as SingleStoreInspectDB
from tests.introspection.shapes import SHAPES

APP_LABEL = "inspected"
#: DJANGO_SINGLESTORE_NOT_ENFORCED_UNIQUE_<APP> turns every single-field unique of an app UNENFORCED: the
#: table with an UNENFORCED unique key gets an app of its own.
UNENFORCED_APP_LABEL = "inspected_unenforced"
UNENFORCED_TABLES = {"contacts"}


def _inspectdb(alias: str, command: Any = None) -> str:
    out = io.StringIO()
    call_command(command or SingleStoreInspectDB(), database=alias, stdout=out)
    return out.getvalue()


def _load(code: str) -> dict[str, type[models.Model]]:
    """Execute inspectdb's module in an isolated app registry; {db_table: model}."""
    apps = Apps()

    def meta(m: re.Match[str]) -> str:
        label = UNENFORCED_APP_LABEL if m.group(2) in UNENFORCED_TABLES else APP_LABEL
        return f"{m.group(1)}        app_label = {label!r}\n        apps = _APPS\n"

    code, count = re.subn(r"(        db_table = '(\w+)'\n)", meta, code)
    assert count
    # inspectdb's own instruction for letting Django create the tables (unmanaged models get no indexes).
    code = code.replace("        managed = False\n", "")
    namespace: dict[str, Any] = {"__name__": "tests.introspection.inspected_models", "_APPS": apps}
    exec(compile(code, "<inspectdb>", "exec"), namespace)
    found = [v for v in namespace.values() if isinstance(v, type) and issubclass(v, models.Model)]
    return {m._meta.db_table: m for m in found if m is not models.Model}


def _show_create(connection: Any, table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW CREATE TABLE {connection.ops.quote_name(table)}")
        return cursor.fetchone()[1]


def _normalized(text: str) -> tuple[str, list[str], list[str], str]:
    """(header, column lines in order, key lines without key names sorted, table COMMENT)."""
    lines = [line.strip().rstrip(",").strip() for line in text.splitlines()]
    header = lines[0]
    columns = [line for line in lines[1:] if line.startswith("`")]
    keys = sorted(
        re.sub(r"^((?:, )?(?:PRIMARY|UNIQUE|SHARD|SORT|FULLTEXT)?\s*KEY) `(?:[^`]|``)*`", r"\1", line)
        for line in lines[1:]
        if not line.startswith(("`", ")")) and line
    )
    comment = re.search(r"COMMENT='((?:[^'\\]|\\.|'')*)'\s*$", lines[-1])
    return header, columns, keys, comment.group(1) if comment else ""


def _describe(connection: Any, table: str) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        return [
            (f.name, f.data_type, f.declared_type, f.null_ok, f.collation, f.comment, f.generated, f.extra)
            for f in connection.introspection.get_table_description(cursor, table)
        ]


def _layout(connection: Any, table: str) -> Any:
    with connection.cursor() as cursor:
        return connection.introspection.get_table_layout(cursor, table)


@pytest.fixture
def source(make_alias: Callable[..., Any]) -> Any:
    connection = make_alias("src")
    with connection.cursor() as cursor:
        for ddl in SHAPES.values():
            cursor.execute(ddl)
    return connection


def test_inspectdb_round_trip_every_shape(
    source: Any, make_alias: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    code = _inspectdb("src")
    generated = _load(code)
    assert set(generated) == set(SHAPES)

    # The models ask for the layout the source tables have, before anything is created.
    target = make_alias("dst")
    monkeypatch.setenv(f"DJANGO_SINGLESTORE_NOT_ENFORCED_UNIQUE_{UNENFORCED_APP_LABEL.upper()}", "1")
    for table, model in generated.items():
        assert layout_signature(resolve_layout(model, target)) == layout_signature(_layout(source, table)), (
            table
        )

    with target.schema_editor() as editor:
        for model in generated.values():
            editor.create_model(model)

    for table in SHAPES:
        assert _normalized(_show_create(target, table)) == _normalized(_show_create(source, table)), table
        assert layout_signature(_layout(target, table)) == layout_signature(_layout(source, table)), table
        assert _describe(target, table) == _describe(source, table), table


def test_inspectdb_writes_storage_and_keys(source: Any) -> None:
    code = _inspectdb("src")
    assert "import django_singlestore.indexes" in code and "import django_singlestore.schema" in code
    blocks = {
        m.group(1): m.group(0)
        for m in re.finditer(
            r"class \w+\(models\.Model\):\n(?:.*\n)*?        db_table = '(\w+)'\n(?:        .*\n)*", code
        )
    }
    assert set(blocks) == set(SHAPES)
    assert "table_storage_type='ROWSTORE REFERENCE'" in blocks["rref_pairs"]
    assert "table_storage_type='REFERENCE'" in blocks["ref_codes"]
    assert "table_storage_type='ROWSTORE'" in blocks["rs_keyed"]
    assert "table_storage_type='COLUMNSTORE'" in blocks["cs_plain"]
    assert "ShardKey(fields=['username'])" in blocks["members"]
    assert "id = models.BigAutoField(primary_key=True)" in blocks["members"]
    assert "KEY" not in blocks["members"].split("indexes")[1].replace("ShardKey", "")  # no KEY(id) index
    assert "ShardKey(name='events_shk')" in blocks["events"]
    assert "SortKey(fields=['created'])" in blocks["cs_plain"]
    assert "HashIndex(fields=['v'], name='tenant_items_v')" in blocks["tenant_items"]
    assert "pk = models.CompositePrimaryKey('tenant_id', 'id')" in blocks["tenant_items"]
    assert "models.Index(fields=['qty'], name='rs_keyed_qty')" in blocks["rs_keyed"]
    assert "HashIndex(fields=['code'], name='rs_keyed_code')" in blocks["rs_keyed"]
    assert "ShardKey" not in blocks["ref_codes"] and "ShardKey" not in blocks["rref_pairs"]
    assert "payload = models.JSONField(" in blocks["events"]
    assert "total = models.GeneratedField(" in blocks["totals"] and "db_persist=True" in blocks["totals"]
    assert "UNENFORCED" in blocks["contacts"]  # the field's note names the test-only switch
    assert "unique_together = (('a', 'b'),)" in blocks["rref_pairs"]
    assert "db_table_comment = 'plain columnstore'" in blocks["cs_plain"]
    assert "db_comment='the name'" in blocks["cs_plain"]


def test_djangos_own_inspectdb_uses_the_backend_introspection(source: Any) -> None:
    """Without "django_singlestore" in INSTALLED_APPS, `inspectdb` is Django's: no storage or keys,
    but fields, primary keys (composite, demoted id), uniques and JSON from the backend."""
    code = _inspectdb("src", "inspectdb")
    assert "django_singlestore" not in code
    assert "pk = models.CompositePrimaryKey('tenant_id', 'id')" in code
    assert "id = models.BigAutoField(primary_key=True)" in code
    assert "username = models.CharField(unique=True, max_length=30)" in code
    assert "payload = models.JSONField(blank=True, null=True)" in code
    assert _load(code)  # loads


def test_installed_app_replaces_djangos_inspectdb(source: Any) -> None:
    from django.conf import settings

    with override_settings(INSTALLED_APPS=[*settings.INSTALLED_APPS, "django_singlestore"]):
        code = _inspectdb("src", "inspectdb")
    assert "django_singlestore.schema.ModelStorageManager(table_storage_type='ROWSTORE')" in code
    assert "ShardKey(fields=['tenant_id'])" in code


def test_views_are_inspected_without_storage_or_keys(source: Any) -> None:
    with source.cursor() as cursor:
        cursor.execute("CREATE VIEW member_names AS SELECT id, username FROM members")
    out = io.StringIO()
    call_command(SingleStoreInspectDB(), database="src", include_views=True, stdout=out)
    code = out.getvalue()
    view = code[code.index("class MemberNames(models.Model):") :].split("\n\n\nclass ")[0]
    assert "Created from a view" in view
    assert "ModelStorageManager" not in view and "indexes" not in view
    assert "# Unable to inspect" not in code


def test_emulated_column_change_reads_back_at_the_end(make_alias: Callable[..., Any]) -> None:
    """The columnstore ALTER emulation (issue 6) rebuilds a column as add -> copy -> drop -> rename, which
    moves it to the end of the table: introspection and inspectdb list it there, and the round trip
    keeps that order."""
    source = make_alias("src")
    with source.cursor() as cursor:
        cursor.execute("CREATE TABLE moved (id BIGINT AUTO_INCREMENT PRIMARY KEY, b INT NULL, a INT NULL)")
        cursor.execute("INSERT INTO moved (b, a) VALUES (1, 2)")
        cursor.execute("ALTER TABLE moved ADD COLUMN b_new BIGINT NULL")
        cursor.execute("UPDATE moved SET b_new = b")
        cursor.execute("ALTER TABLE moved DROP COLUMN b")
        cursor.execute("ALTER TABLE moved CHANGE b_new b")
    assert [f[0] for f in _describe(source, "moved")] == ["id", "a", "b"]
    code = _inspectdb("src")
    block = code[code.index("class Moved(models.Model):") :]
    assert block.index("    a = ") < block.index("    b = models.BigIntegerField(")
    target = make_alias("dst")
    with target.schema_editor() as editor:
        for model in _load(code).values():
            editor.create_model(model)
    assert _normalized(_show_create(target, "moved")) == _normalized(_show_create(source, "moved"))
