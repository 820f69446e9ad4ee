"""System checks for a SingleStore alias."""

from __future__ import annotations

import functools
import site
import sysconfig
from pathlib import Path

import django
from django.apps import AppConfig, apps
from django.core import checks
from django.db import router
from django.db.backends.mysql.validation import DatabaseValidation as MySQLDatabaseValidation

from django_singlestore.layout import resolve_layout


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
        collation = collation.decode() if isinstance(collation, bytes) else str(collation)
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
            layout = resolve_layout(model, self.connection)
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
                and layout.rule not in ("primary key", "shared columns")
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
