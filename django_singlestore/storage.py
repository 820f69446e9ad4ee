"""A table's storage: columnstore or rowstore, sharded or reference (`CREATE [ROWSTORE] [REFERENCE] TABLE`).

One value type for every place that reads or writes a storage: the settings (options.py), the layout
rules (layout.py), introspection and DDL. It is a `str` enum, so it compares equal to, formats as and
hashes and reprs like the spelling SingleStore's grammar and the settings use ("ROWSTORE REFERENCE").
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import models

__all__ = ["ModelStorageManager", "Storage"]


class Storage(StrEnum):
    """Columnstore or rowstore, sharded or reference. Columnstore is the server default."""

    COLUMNSTORE = "COLUMNSTORE"
    ROWSTORE = "ROWSTORE"
    REFERENCE = "REFERENCE"  # a columnstore reference table
    ROWSTORE_REFERENCE = "ROWSTORE REFERENCE"

    def __repr__(self) -> str:
        # As its spelling, so that generated code (inspectdb's managers) and messages read as before.
        return repr(self.value)

    @classmethod
    def of(cls, *, rowstore: bool, reference: bool) -> Storage:
        return cls(
            " ".join(word for word, on in (("ROWSTORE", rowstore), ("REFERENCE", reference)) if on)
            or "COLUMNSTORE"
        )

    @classmethod
    def parse(cls, value: Any, where: str) -> Storage:
        """`"rowstore  reference"` -> ROWSTORE_REFERENCE; anything else undocumented is refused with
        ImproperlyConfigured naming `where` (the setting, env var or manager it came from)."""
        if isinstance(value, str):
            normal = " ".join(value.upper().split())
            if normal in cls._value2member_map_:
                return cls(normal)
        raise ImproperlyConfigured(f"{where} must be one of {[s.value for s in cls]}, not {value!r}.")

    @classmethod
    def from_information_schema(cls, storage_type: str, *, reference: bool) -> Storage:
        """From information_schema.TABLES.STORAGE_TYPE ("COLUMNSTORE", "INMEMORY_ROWSTORE") and whether
        SHOW CREATE TABLE says REFERENCE."""
        return cls.of(rowstore=storage_type.upper() != "COLUMNSTORE", reference=reference)

    @property
    def rowstore(self) -> bool:
        return self.value.startswith("ROWSTORE")

    @property
    def columnstore(self) -> bool:
        return not self.rowstore

    @property
    def reference(self) -> bool:
        return self.value.endswith("REFERENCE")

    @property
    def as_rowstore(self) -> Storage:
        return Storage.of(rowstore=True, reference=self.reference)

    @property
    def prefix(self) -> str:
        """What goes between CREATE and TABLE: nothing for columnstore (SingleStore's grammar has no
        COLUMNSTORE keyword), else the keywords and a space."""
        return "" if self is Storage.COLUMNSTORE else self.value + " "

    @property
    def key_using(self) -> str:
        """The index type of a secondary key: a columnstore table's keys are hash keys (` USING HASH`),
        a rowstore table's are its default (skiplist)."""
        return " USING HASH" if self.columnstore else ""


class ModelStorageManager(models.Manager):
    """A model's own table storage, kept from the original backend and recorded by migrations:

        class Food(models.Model):
            objects = models.Manager()
            storage = ModelStorageManager(table_storage_type="REFERENCE")

    `table_storage_type`: "COLUMNSTORE", "ROWSTORE", "REFERENCE" or "ROWSTORE REFERENCE" (also "", the
    server default). It takes precedence over every setting (django_singlestore.layout). Also
    importable as `django_singlestore.schema.ModelStorageManager`, the path older migrations name."""

    use_in_migrations = True

    def __init__(self, table_storage_type: str = "") -> None:
        super().__init__()
        self.table_storage_type: Storage | str = (
            Storage.parse(table_storage_type, "ModelStorageManager(table_storage_type=...)")
            if table_storage_type
            else ""
        )
