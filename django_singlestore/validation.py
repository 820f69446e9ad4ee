"""System checks for a SingleStore alias: model shapes SingleStore cannot hold, caught before migrate.

* singlestore.E001 / I001: the table layout (unique keys vs. storage and shard key), see layout.py.
* singlestore.E002: a table, column, index or constraint name that is not one identifier SingleStore
  can take (empty, NUL, a malformed pre-quoted name, over 256 characters). singlestore.W003: a name
  with '%', which mysqlclient's and PyMySQL's pyformat parameters would rewrite.
* singlestore.E003: more than 63 keys on one table; E004: more than 32 columns in one key;
  E005: more than 4096 columns in one table.
* singlestore.E006-E008, W004: a VectorIndex SingleStore refuses (rowstore table, several columns, not
  VECTOR(n, F32)) or, before 8.7, a nullable indexed column; E009 is VectorField's own check
  (django_singlestore.vector).
* singlestore.E010: a FullTextIndex on a rowstore table; E011: more than one FullTextIndex on a model;
  E012: a FullTextIndex over a field that is not text (search.py; [doc] "Working with Full-Text Search":
  columnstore tables only, one full-text index per table, over CHAR, VARCHAR, TEXT, LONGTEXT and JSON).

The limits are SingleStore's [doc: reference/sql-reference/.../system-limits, v7.3 to v9.1 and cloud;
singlestore-semantics.md §1 Limits].
"""

from __future__ import annotations

import functools
import site
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import django
from django.apps import AppConfig, apps
from django.core import checks
from django.db import models, router
from django.db.backends.mysql.validation import DatabaseValidation as MySQLDatabaseValidation

from django_singlestore.errors import server_text
from django_singlestore.layout import resolve_layout
from django_singlestore.operations import InvalidIdentifier, quote_identifier
from django_singlestore.vector import vector_index_issues

#: SingleStore's documented limits (system-limits page).
IDENTIFIER_MAX_LENGTH = 256
KEYS_PER_TABLE = 63
COLUMNS_PER_KEY = 32
COLUMNS_PER_TABLE = 4096


def _keys(model: type[models.Model]) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(name, fields) of every key the schema editor writes for `model`: the primary key, unique and
    indexed fields, unique_together, Meta.indexes and unique constraints."""
    opts = model._meta
    if opts.pk is not None:
        yield "PRIMARY", (opts.pk.name,)
    for field in opts.local_concrete_fields:
        if not field.primary_key and (field.unique or field.db_index):
            yield field.name, (field.name,)
    for fields in opts.unique_together:
        yield ", ".join(fields), tuple(fields)
    for index in opts.indexes:
        yield index.name or "", tuple(index.fields) or tuple(str(e) for e in index.expressions)
    for constraint in opts.constraints:
        if isinstance(constraint, models.UniqueConstraint):
            yield constraint.name, tuple(constraint.fields) or tuple(str(e) for e in constraint.expressions)


def _names(model: type[models.Model]) -> Iterator[tuple[str, Any]]:
    """(what, name) of every identifier the model's table is written with."""
    opts = model._meta
    yield "db_table", opts.db_table
    for field in opts.local_concrete_fields:
        yield f"column of {field.name!r}", field.column
    for index in opts.indexes:
        if index.name:
            yield "index name", index.name
    for constraint in opts.constraints:
        yield "constraint name", constraint.name


def model_shape_issues(model: type[models.Model]) -> list[checks.CheckMessage]:
    """singlestore.E002 to E005 for one model (see the module docstring)."""
    label = model._meta.label
    issues: list[checks.CheckMessage] = []
    for what, name in _names(model):
        problem = None
        try:
            quote_identifier(name)
        except InvalidIdentifier as exc:
            problem = str(exc)
        if problem is None and len(name) > IDENTIFIER_MAX_LENGTH:
            problem = f"it is {len(name)} characters long; SingleStore allows {IDENTIFIER_MAX_LENGTH}"
        if problem is not None:
            issues.append(
                checks.Error(
                    f"{label}: the {what} {name!r} cannot be a SingleStore identifier: {problem}",
                    hint="Choose a name of 1 to 256 characters without NUL; write it unquoted "
                    "(the backend quotes every name, doubling backticks).",
                    obj=model,
                    id="singlestore.E002",
                )
            )
        elif "%" in name:
            issues.append(
                checks.Warning(
                    f"{label}: the {what} {name!r} contains '%'. SingleStore takes it, but mysqlclient and "
                    f"PyMySQL read '%' as a parameter placeholder in every statement with parameters, so "
                    f"ORM queries on it fail ('%s' takes a parameter) or address another name ('%%' "
                    f"becomes '%').",
                    hint="Rename it without '%' (only statements without parameters, such as the schema "
                    "editor's DDL, are safe).",
                    obj=model,
                    id="singlestore.W003",
                )
            )
    keys = list(_keys(model))
    if len(keys) > KEYS_PER_TABLE:
        issues.append(
            checks.Error(
                f"{label}: its table would have {len(keys)} keys; SingleStore allows {KEYS_PER_TABLE} "
                f"per table.",
                hint="Drop db_index from fields that are not filtered on, or merge indexes.",
                obj=model,
                id="singlestore.E003",
            )
        )
    for name, fields in keys:
        if len(fields) > COLUMNS_PER_KEY:
            issues.append(
                checks.Error(
                    f"{label}: the key {name!r} has {len(fields)} columns; SingleStore allows "
                    f"{COLUMNS_PER_KEY} per key.",
                    hint="Key on fewer columns (or on a computed column that combines them).",
                    obj=model,
                    id="singlestore.E004",
                )
            )
    columns = len(model._meta.local_concrete_fields)
    if columns > COLUMNS_PER_TABLE:
        issues.append(
            checks.Error(
                f"{label}: its table would have {columns} columns; SingleStore allows "
                f"{COLUMNS_PER_TABLE} per table.",
                hint="Split the model (a one-to-one model, or a JSONField for sparse attributes).",
                obj=model,
                id="singlestore.E005",
            )
        )
    return issues


def fulltext_issues(model: type[models.Model], storage: Any) -> list[checks.CheckMessage]:
    """singlestore.E010 to E012: the FullTextIndex shapes SingleStore refuses (module docstring)."""
    from django_singlestore.search import FULLTEXT_FIELD_TYPES, FullTextIndex

    label = model._meta.label
    indexes = [i for i in model._meta.indexes if isinstance(i, FullTextIndex)]
    issues: list[checks.CheckMessage] = []
    if indexes and storage.rowstore:
        issues.append(
            checks.Error(
                f"{label}: a FullTextIndex needs a columnstore table; this model's table is {storage}.",
                hint="SingleStore has full-text indexes on columnstore tables only: remove the rowstore storage "
                "(ModelStorageManager, OPTIONS['table_storage_type']) or the FullTextIndex.",
                obj=model,
                id="singlestore.E010",
            )
        )
    if len(indexes) > 1:
        issues.append(
            checks.Error(
                f"{label} has {len(indexes)} FullTextIndex entries ({', '.join(str(i.name) for i in indexes)}); "
                "SingleStore allows one full-text index per table.",
                hint="Put every searchable field into one FullTextIndex(fields=[...]).",
                obj=model,
                id="singlestore.E011",
            )
        )
    for index in indexes:
        for name in index.fields:
            try:
                field = model._meta.get_field(name)
            except Exception:
                continue  # Django's own check (models.E012) names the missing field
            if not isinstance(field, FULLTEXT_FIELD_TYPES):
                issues.append(
                    checks.Error(
                        f"{label}: FullTextIndex {index.name!r} names {name!r}, a {type(field).__name__}; "
                        "SingleStore indexes text columns only (CHAR, VARCHAR, TEXT, LONGTEXT, JSON).",
                        hint="Index CharField, TextField or JSONField fields.",
                        obj=model,
                        id="singlestore.E012",
                    )
                )
    return issues


class DatabaseValidation(MySQLDatabaseValidation):
    def check(self, **kwargs):
        return [
            *super().check(**kwargs),
            *self._check_character_set(**kwargs),
            *self._check_table_layouts(**kwargs),
        ]

    def _check_character_set(self, **kwargs):
        """singlestore.W002: the database's default character set is not utf8mb4 (SingleStore's server
        default is the 3-byte utf8), so its new tables' text columns refuse 4-byte characters (emoji)
        although the connection speaks utf8mb4. Run by `check --database` and before `migrate`."""
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT @@collation_database")
            (collation,) = cursor.fetchone()
        collation = server_text(collation)
        if collation.startswith("utf8mb4"):
            return []
        return [
            checks.Warning(
                f"The default collation of database '{self.connection.settings_dict['NAME']}' is "
                f"{collation}, a 3-byte character set: text columns of the tables Django creates there "
                "cannot store 4-byte characters such as emoji.",
                hint=(
                    "Make utf8mb4 the default before migrating. On SingleStore the default is "
                    "cluster-wide: SET GLOBAL collation_server = 'utf8mb4_general_ci' (or "
                    "'utf8mb4_bin'), then FLUSH CONNECTION POOLS on each aggregator and reconnect "
                    "(SingleStore docs: 'Specifying Character Set and Collation for Clusters'). Tables "
                    "created before keep their character set."
                ),
                id="singlestore.W002",
            )
        ]

    def _check_table_layouts(self, app_configs=None, **kwargs):
        """singlestore.E001: a model whose unique keys no valid layout of its configured storage can
        hold; singlestore.I001: the automatic layout moved a model off plain sharding on its primary
        key (id kept as a plain KEY, rowstore, or reference), and why. An explicit storage (a
        ModelStorageManager, OPTIONS, the env var) or a ShardKey silences I001. I001 is only for models
        the project can edit: not for installed apps (Django's contrib, third-party packages), where
        the automatic layout is the intended one and nothing needs declaring."""
        alias = self.connection.alias
        models_ = (
            [m for config in app_configs for m in config.get_models()]
            if app_configs is not None
            else apps.get_models()
        )
        issues = []
        for model in models_:
            opts = model._meta
            if not opts.managed or opts.proxy or not router.allow_migrate_model(alias, model):
                continue
            issues.extend(model_shape_issues(model))
            if any(issue.id == "singlestore.E002" for issue in issues if issue.obj is model):
                continue  # the layout reads names the server could not take
            layout = resolve_layout(model, self.connection)
            issues.extend(vector_index_issues(model, layout.storage.rowstore, self._server_version()))
            issues.extend(fulltext_issues(model, layout.storage))
            if layout.errors:
                issues.append(
                    checks.Error(
                        f"SingleStore cannot create the table of {opts.label} as {layout.storage} "
                        f"({layout.source}): {'; '.join(layout.errors)}.",
                        hint=(
                            "Every unique key of a sharded table must contain the shard key, and a "
                            "columnstore table holds one multi-column unique key at most. Use a reference "
                            "table (ModelStorageManager(table_storage_type='ROWSTORE REFERENCE') or "
                            "OPTIONS['app_table_storage_types']), drop or merge a unique constraint, or "
                            "leave the storage to the automatic layout."
                        ),
                        obj=model,
                        id="singlestore.E001",
                    )
                )
            elif (
                layout.source == "automatic"
                and (layout.rule not in ("primary key", "shared columns") or layout.fallback is not None)
                and not is_installed_app(opts.app_config)
            ):
                issues.append(
                    checks.Info(
                        f"{opts.label}: the automatic layout gives {opts.db_table} {layout.describe()} "
                        f"({layout.reason}).",
                        hint="Declare it (ModelStorageManager, ShardKey) to make it explicit and silence this.",
                        obj=model,
                        id="singlestore.I001",
                    )
                )
        return issues

    def _server_version(self) -> tuple[int, ...] | None:
        """The server's version when it can be read (W004 depends on it), else None."""
        try:
            return tuple(self.connection.get_database_version())
        except Exception:  # no server reachable: the check warns as for the oldest release
            return None

    def _check_sql_mode(self, **kwargs):
        if self.connection.sql_mode & {"STRICT_TRANS_TABLES", "STRICT_ALL_TABLES"}:
            return []
        return [
            checks.Warning(
                f"Strict mode is not set for SingleStore database connection '{self.connection.alias}'.",
                hint=(
                    "SingleStore's default sql_mode is STRICT_ALL_TABLES; without it, out-of-range and "
                    "truncated values are stored silently. Set sql_mode back to STRICT_ALL_TABLES."
                ),
                id="singlestore.W001",
            )
        ]


@functools.cache
def _package_roots() -> tuple[Path, ...]:
    """Where installed packages live: site-packages (every flavour) and Django itself, which may be
    an editable checkout outside them."""
    paths = {sysconfig.get_paths()[key] for key in ("purelib", "platlib")}
    paths.update(site.getsitepackages())
    paths.add(site.getusersitepackages())
    paths.add(str(Path(django.__file__).parent))
    return tuple(Path(p).resolve() for p in paths if p)


def is_installed_app(app_config: AppConfig) -> bool:
    """Whether `app_config` is an installed package (contrib, third-party) rather than the project's
    own code: its models cannot be edited to declare a storage or a shard key."""
    path = Path(app_config.path).resolve()
    return any(path.is_relative_to(root) for root in _package_roots())
