"""SingleStore's table keys, declared the Django way: in `Meta.indexes`, recorded by migrations.

    class Order(models.Model):
        tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
        created = models.DateTimeField()

        class Meta:
            indexes = [
                ShardKey(fields=["tenant"]),       # SHARD KEY (tenant_id)
                SortKey(fields=["created"]),       # SORT KEY (created)  -- columnstore only
                HashIndex(fields=["created"]),     # KEY (created) USING HASH
            ]

`ShardKey()` with no fields is keyless (random) sharding: `SHARD KEY ()`. Shard and sort keys are
part of CREATE TABLE: SingleStore cannot add or change them on an existing table, so adding or
removing one later creates the table again with every row (django_singlestore.rebuild).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Index

__all__ = ["HashIndex", "ShardKey", "SortKey", "TableKey"]


class TableKey(Index):
    """A key that lives in CREATE TABLE only; `fields` may be empty (`SHARD KEY ()`, `SORT KEY ()`)."""

    keyword = ""
    suffix = ""

    def __init__(self, *, fields: Sequence[str] = (), name: str | None = None) -> None:
        if fields:
            super().__init__(fields=list(fields), name=name)
            return
        # Index refuses an empty field list; an empty key is meaningful here, so set the same
        # attributes Index.__init__ would.
        if name is None:
            raise ValueError(f"{type(self).__name__}() without fields needs a name.")
        self.fields: list[str] = []
        self.fields_orders: list[tuple[str, str]] = []
        self.name = name
        self.db_tablespace = None
        self.opclasses = ()
        self.condition = None
        self.include = ()
        self.expressions = ()

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        path = f"{self.__class__.__module__}.{self.__class__.__name__}"
        return path, (), {"fields": list(self.fields), "name": self.name}

    def set_name_with_model(self, model: Any) -> None:
        if self.fields:
            super().set_name_with_model(model)
        else:
            self.name = f"{model._meta.db_table[:40]}_{self.suffix}"

    def create_sql(self, model: Any, schema_editor: Any, using: str = "", **kwargs: Any) -> Any:
        return None  # a clause of CREATE TABLE (DatabaseSchemaEditor.table_layout_sql)

    def remove_sql(self, model: Any, schema_editor: Any, **kwargs: Any) -> Any:
        return None  # adding or removing one creates the table again (DatabaseSchemaEditor.add_index)


class ShardKey(TableKey):
    """`SHARD KEY (fields)`: which columns place a row on a partition. Every unique key, the primary
    key included, must contain all of them. No fields: keyless (random) sharding."""

    keyword = "SHARD KEY"
    suffix = "shk"


class SortKey(TableKey):
    """`SORT KEY (fields)`: the columnstore's on-disk order (columnstore tables only)."""

    keyword = "SORT KEY"
    suffix = "srk"


class HashIndex(Index):
    """`KEY name (fields) USING HASH`: the secondary index columnstore tables support."""

    suffix = "hsh"

    def create_sql(self, model: Any, schema_editor: Any, using: str = "", **kwargs: Any) -> Any:
        return super().create_sql(model, schema_editor, using=" USING HASH", **kwargs)
