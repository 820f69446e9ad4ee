"""Models for the transaction tests (app label `s2tx`; not an installed app, never migrated)."""

from __future__ import annotations

from django.db import models

from django_singlestore.schema import ModelStorageManager


class TxReference(models.Model):
    """Stored as a REFERENCE table: the child aggregator refuses writes to it inside transactions."""

    name = models.CharField(max_length=20)
    objects = ModelStorageManager(table_storage_type="REFERENCE")

    class Meta:
        app_label = "s2tx"
        db_table = "tx_ref_model"
