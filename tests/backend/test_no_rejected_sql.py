"""The ORM's normal operations never emit what SingleStore refuses, nor MySQL-only spellings.

The patterns are the statements the gateway rejects (issue 2's rule list, from SingleStore's docs)
plus the MySQL/MariaDB-only spellings Django's MySQL backend would emit. The SQL comes from
compiling queries, inserts, updates, deletes and DDL on the `unit` alias: no server involved.
"""

from __future__ import annotations

import re

import pytest
from django.core.management.color import no_style
from django.db import models
from django.db.models import Count, F, Q, Sum, Value, Window
from django.db.models.constants import OnConflict
from django.db.models.fields.json import KT
from django.db.models.functions import (
    Cast,
    Chr,
    Concat,
    ExtractIsoYear,
    ExtractQuarter,
    JSONObject,
    Lag,
    Length,
    Now,
    Ord,
    Rank,
    TruncDate,
    TruncMonth,
    TruncQuarter,
    TruncTime,
    TruncWeek,
    TruncYear,
)
from django.db.models.sql import DeleteQuery, InsertQuery, UpdateQuery

from tests.backend.models import Child, Computed, Counter, Documented, Item

REFUSED = {
    "SAVEPOINT (1706)": r"\bSAVEPOINT\b",
    "CHECK constraint": r"\bCHECK\s*\(",
    "FOREIGN KEY": r"\bFOREIGN\s+KEY\b|\bREFERENCES\b",
    "RETURNING": r"\bRETURNING\b",
    "DEFAULT (expr)": r"\bDEFAULT\s*\(",
    "FOR UPDATE NOWAIT / SKIP LOCKED / OF": r"\bNOWAIT\b|\bSKIP\s+LOCKED\b|\bFOR\s+UPDATE\s+OF\b",
    "CUME_DIST": r"\bCUME_DIST\b",
    "CREATE COLUMNSTORE TABLE": r"\bCOLUMNSTORE\s+TABLE\b",
    "RENAME INDEX": r"\bRENAME\s+INDEX\b",
    "fractional seconds other than 0 or 6": r"\b(?:DATETIME|TIME|TIMESTAMP)\s*\(\s*[1-57-9]\s*\)",
    "ALTER TABLE ... AUTO_INCREMENT =": r"\bAUTO_INCREMENT\s*=",
    "AUTO_INCREMENT that is not BIGINT": r"\b(?:integer|int|smallint|mediumint|tinyint)\b(?:\s+UNSIGNED)?\s+AUTO_INCREMENT\b",
    "ALTER TABLE ... COMMENT": r"\bALTER\s+TABLE\s+\S+\s+COMMENT\b",
    "DESC index column": r"CREATE\s+INDEX[^;]*\bDESC\b",
    "SET TRANSACTION ISOLATION": r"\bSET\s+(?:SESSION\s+)?TRANSACTION\b",
}
MYSQL_ONLY = {
    "JSON_EXTRACT with a $ path": r"\bJSON_EXTRACT\s*\(",
    "JSON_CONTAINS / JSON_CONTAINS_PATH": r"\bJSON_CONTAINS(?:_PATH)?\s*\(",
    "JSON_UNQUOTE": r"\bJSON_UNQUOTE\b",
    "->> / ->": r"->",
    "JSON_OBJECT": r"\bJSON_OBJECT\s*\(",
    "REGEXP_LIKE / REGEXP BINARY": r"\bREGEXP_LIKE\b|\bREGEXP\s+BINARY\b",
    "VERSION()": r"\bVERSION\s*\(",
    "EXPLAIN FORMAT=": r"\bFORMAT\s*=",
    "CHAR(... USING ...)": r"\bUSING\s+utf16\b",
    "INSERT ... AS new": r"\bAS\s+new\b",
    "GENERATED ALWAYS AS ... STORED": r"\bGENERATED\s+ALWAYS\b",
    "SET FOREIGN_KEY_CHECKS": r"\bFOREIGN_KEY_CHECKS\b",
    "CHAR_LENGTH": r"\bCHAR_LENGTH\s*\(",
    "ORD()": r"\bORD\s*\(",
    "CAST(... AS JSON)": r"\bAS\s+JSON\s*\)",
}


def select_sql(unit):
    querysets = [
        Item.objects.all(),
        Item.objects.filter(name="a").order_by("-id")[:5],
        Item.objects.filter(Q(name__iexact="A") | Q(note__icontains="b"), count__gte=1),
        Item.objects.filter(name__istartswith="a", note__iendswith=F("name")),
        Item.objects.filter(name__regex=r"^a", note__iregex="b$"),
        Item.objects.filter(data__a__b="x", data__k__in=[1, "y"], data__n__lt=3),
        Item.objects.filter(data__has_key="a", data__has_keys=["a", "b"], data__has_any_keys=["c"]),
        Item.objects.filter(data__a__isnull=True).exclude(data__b__isnull=False),
        Item.objects.filter(data={"a": [1, 2]}).exclude(data__isnull=True),
        Item.objects.filter(data__a__icontains="X", data__s__startswith="y"),
        Item.objects.annotate(t=KT("data__a__0")).values("t"),
        Item.objects.annotate(c=Cast("count", models.FloatField()), j=Cast("name", models.JSONField())),
        Item.objects.annotate(
            y=TruncYear("created"),
            q=TruncQuarter("created"),
            m=TruncMonth("day"),
            w=TruncWeek("created"),
            d=TruncDate("created"),
            t=TruncTime("created"),
            iy=ExtractIsoYear("created"),
            eq=ExtractQuarter("day"),
        ),
        Item.objects.filter(created__year=2024, created__week_day=2, day__iso_week_day=1, created__hour=3),
        Item.objects.annotate(
            r=Window(Rank(), order_by=F("count").desc()), lg=Window(Lag("count"), order_by="id")
        ),
        Item.objects.annotate(
            n=Now(),
            l=Length("name"),
            o=Ord("name"),
            c=Chr("count"),
            s=Concat("name", Value("-"), output_field=models.CharField()),
            jo=JSONObject(a="name", b="count"),
        ),
        Item.objects.values("name").annotate(n=Count("id"), s=Sum("count")).filter(n__gt=1).order_by("name"),
        Item.objects.filter(id__in=Child.objects.filter(position__gt=1).values("item_id")),
        Child.objects.select_related("item").filter(item__name__contains="z"),
    ]
    return [qs.query.get_compiler("unit").as_sql()[0] for qs in querysets]


def dml_sql(unit):
    out = []
    objs = [Counter(key="a", value=1, label="x"), Counter(key="b", value=2, label="y")]
    fields = [Counter._meta.get_field(n) for n in ("key", "value", "label")]
    for on_conflict, update_fields in (
        (None, None),
        (OnConflict.IGNORE, None),
        (OnConflict.UPDATE, fields[1:]),
    ):
        query = InsertQuery(Counter, on_conflict=on_conflict, update_fields=update_fields, unique_fields=[])
        query.insert_values(fields, objs)
        out.extend(sql for sql, _ in query.get_compiler("unit").as_sql())
    item_fields = [f for f in Item._meta.concrete_fields if not f.primary_key]
    query = InsertQuery(Item)
    query.insert_values(item_fields, [Item(name="n", data={"a": 1})])
    out.extend(sql for sql, _ in query.get_compiler("unit").as_sql())
    update = Item.objects.filter(data__a=1).query.chain(UpdateQuery)
    update.add_update_values({"count": F("count") + 1, "note": "x"})
    out.append(update.get_compiler("unit").as_sql()[0])
    delete = DeleteQuery(Item)
    delete.add_q(Q(name__startswith="x"))
    out.append(delete.get_compiler("unit").as_sql()[0])
    out.extend(unit.ops.sql_flush(no_style(), ["s2_item", "s2_child"], reset_sequences=True))
    out.append(unit.ops.explain_query_prefix("JSON"))
    out.append(unit.ops.for_update_sql())
    return out


def ddl_sql(unit):
    with unit.schema_editor(collect_sql=True) as editor:
        for model in (Item, Counter, Documented, Computed, Child):
            editor.create_model(model)
        new = models.IntegerField(null=True, db_comment="added")
        new.set_attributes_from_name("extra")
        editor.add_field(Item, new)
        editor.add_index(Item, models.Index(fields=["name", "count"], name="s2_item_name_count"))
        editor.remove_index(Item, models.Index(fields=["name", "count"], name="s2_item_name_count"))
        editor.delete_model(Child)
    return editor.collected_sql


@pytest.fixture
def emitted(unit):
    return select_sql(unit) + dml_sql(unit) + ddl_sql(unit)


@pytest.mark.parametrize("label", sorted(REFUSED) + sorted(MYSQL_ONLY))
def test_never_emitted(emitted, label, unit):
    pattern = re.compile(REFUSED.get(label) or MYSQL_ONLY[label], re.IGNORECASE)
    offenders = [sql for sql in emitted if pattern.search(sql)]
    assert not offenders, f"{label}: {offenders}"
    assert unit.connection is None


def test_the_battery_covers_the_singlestore_spellings(emitted):
    text = "\n".join(emitted)
    for spelling in (
        "JSON_EXTRACT_JSON(",
        "JSON_EXTRACT_STRING(",
        "JSON_EXTRACT_DOUBLE(",
        "JSON_MATCH_ANY_EXISTS(",
        ":> JSON)",
        "DATE_TRUNC('quarter'",
        "REGEXP_INSTR(",
        "INSERT IGNORE INTO",
        "ON DUPLICATE KEY UPDATE",
        "PERSISTED bigint",
        "JSON_BUILD_OBJECT(",
        "EXPLAIN JSON",
    ):
        assert spelling in text, spelling


#: For each pattern: a statement it must catch (what SingleStore refuses, or the MySQL/MariaDB spelling
#: Django's MySQL backend emits) and the SingleStore spelling it must let through. Without these a
#: pattern with a typo would match nothing and `test_never_emitted` would pass vacuously.
EXAMPLES: dict[str, tuple[str, str]] = {
    "SAVEPOINT (1706)": ("SAVEPOINT `s140_x1`", "START TRANSACTION"),
    "CHECK constraint": (
        "CREATE TABLE `t` (`n` integer UNSIGNED NOT NULL CHECK (`n` >= 0))",
        "CREATE TABLE `t` (`n` integer UNSIGNED NOT NULL)",
    ),
    "FOREIGN KEY": (
        "ALTER TABLE `c` ADD CONSTRAINT `c_p_fk` FOREIGN KEY (`p_id`) REFERENCES `p` (`id`)",
        "CREATE INDEX `c_p_id` ON `c` (`p_id`)",
    ),
    "RETURNING": ("INSERT INTO `t` (`a`) VALUES (1) RETURNING `t`.`id`", "INSERT INTO `t` (`a`) VALUES (1)"),
    "DEFAULT (expr)": ("ALTER TABLE `t` ADD COLUMN `d` datetime(6) DEFAULT (NOW())", "`a` integer DEFAULT 2"),
    "FOR UPDATE NOWAIT / SKIP LOCKED / OF": (
        "SELECT `t`.`id` FROM `t` FOR UPDATE SKIP LOCKED",
        "SELECT `t`.`id` FROM `t` FOR UPDATE",
    ),
    "CUME_DIST": (
        "SELECT CUME_DIST() OVER (ORDER BY `t`.`a`) FROM `t`",
        "SELECT RANK() OVER (ORDER BY `t`.`a`) FROM `t`",
    ),
    "CREATE COLUMNSTORE TABLE": ("CREATE COLUMNSTORE TABLE `t` (`a` int)", "CREATE TABLE `t` (`a` int)"),
    "RENAME INDEX": ("ALTER TABLE `t` RENAME INDEX `a` TO `b`", "ALTER TABLE `t` RENAME TO `u`"),
    "fractional seconds other than 0 or 6": ("`d` datetime(3) NOT NULL", "`d` datetime(6) NOT NULL"),
    "ALTER TABLE ... AUTO_INCREMENT =": (
        "ALTER TABLE `t` AUTO_INCREMENT = 1000",
        "`id` bigint AUTO_INCREMENT NOT NULL",
    ),
    "AUTO_INCREMENT that is not BIGINT": (
        "`id` integer AUTO_INCREMENT NOT NULL PRIMARY KEY",
        "`id` bigint AUTO_INCREMENT NOT NULL",
    ),
    "ALTER TABLE ... COMMENT": ("ALTER TABLE `t` COMMENT = 'x'", "CREATE TABLE `t` (`a` int COMMENT 'x')"),
    "DESC index column": ("CREATE INDEX `t_a` ON `t` (`a` DESC)", "CREATE INDEX `t_a` ON `t` (`a`)"),
    "SET TRANSACTION ISOLATION": (
        "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
        "SET SESSION autocommit = 1",
    ),
    "JSON_EXTRACT with a $ path": (
        "SELECT JSON_EXTRACT(`t`.`data`, '$.\"k\"') FROM `t`",
        "SELECT JSON_EXTRACT_JSON(`t`.`data`, 'k') FROM `t`",
    ),
    "JSON_CONTAINS / JSON_CONTAINS_PATH": (
        "WHERE JSON_CONTAINS_PATH(`t`.`data`, 'one', '$.\"k\"')",
        "WHERE JSON_MATCH_ANY_EXISTS(`t`.`data`, 'k')",
    ),
    "JSON_UNQUOTE": ("JSON_UNQUOTE(JSON_EXTRACT(`t`.`data`, '$.k'))", "JSON_EXTRACT_STRING(`t`.`data`, 'k')"),
    "->> / ->": ("SELECT `t`.`data` ->> '$.k' FROM `t`", "SELECT `t`.`data`::$k FROM `t`"),
    "JSON_OBJECT": (
        "SELECT JSON_OBJECT('n', `t`.`name`) FROM `t`",
        "SELECT JSON_BUILD_OBJECT('n', `t`.`name`) FROM `t`",
    ),
    "REGEXP_LIKE / REGEXP BINARY": (
        "WHERE REGEXP_LIKE(`t`.`name`, 'a', 'c')",
        "WHERE REGEXP_INSTR(`t`.`name`, 'a') > 0",
    ),
    "VERSION()": ("SELECT VERSION()", "SELECT @@memsql_version"),
    "EXPLAIN FORMAT=": ("EXPLAIN FORMAT=JSON SELECT 1", "EXPLAIN JSON SELECT 1"),
    "CHAR(... USING ...)": ("SELECT CHAR(`t`.`n` USING utf16)", "SELECT CHAR(`t`.`n`)"),
    "INSERT ... AS new": (
        "INSERT INTO `t` (`a`) VALUES (1) AS new ON DUPLICATE KEY UPDATE `a` = new.`a`",
        "INSERT INTO `t` (`a`) VALUES (1) ON DUPLICATE KEY UPDATE `a` = VALUES(`a`)",
    ),
    "GENERATED ALWAYS AS ... STORED": (
        "`area` integer GENERATED ALWAYS AS ((`w` * `h`)) STORED",
        "`area` AS (`w` * `h`) PERSISTED bigint",
    ),
    "SET FOREIGN_KEY_CHECKS": ("SET FOREIGN_KEY_CHECKS = 0", "SET SESSION sql_mode = 'STRICT_ALL_TABLES'"),
    "CHAR_LENGTH": ("SELECT CHAR_LENGTH(`t`.`name`)", "SELECT CHARACTER_LENGTH(`t`.`name`)"),
    "ORD()": ("SELECT ORD(`t`.`name`)", "SELECT ASCII(`t`.`name`)"),
    "CAST(... AS JSON)": ("SELECT CAST(`t`.`v` AS JSON)", "SELECT (`t`.`v` :> JSON)"),
}


def test_every_pattern_has_an_example():
    assert set(EXAMPLES) == set(REFUSED) | set(MYSQL_ONLY)


@pytest.mark.parametrize("label", sorted(EXAMPLES))
def test_pattern_catches_its_known_bad_statement_and_lets_the_singlestore_spelling_through(label):
    pattern = re.compile(REFUSED.get(label) or MYSQL_ONLY[label], re.IGNORECASE)
    bad, good = EXAMPLES[label]
    assert pattern.search(bad), f"{label}: the pattern does not catch {bad!r}"
    assert not pattern.search(good), f"{label}: the pattern also catches {good!r}"
