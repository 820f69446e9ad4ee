"""Models of the vector tests (app label `s2vector`; tables created by the fixtures' schema editor)."""

from __future__ import annotations

from django.db import models

from django_singlestore.vector import VectorField, VectorIndex, VectorManager


class Doc(models.Model):
    label = models.CharField(max_length=20)
    embedding = VectorField(dimensions=4)

    objects = VectorManager()

    class Meta:
        app_label = "s2vector"
        indexes = [
            VectorIndex(
                fields=["embedding"], name="doc_emb_vec", index_type="AUTO", metric="EUCLIDEAN_DISTANCE"
            )
        ]


class Loose(models.Model):
    """A nullable vector, numpy out, no index."""

    embedding = VectorField(dimensions=3, null=True, as_numpy=True)

    class Meta:
        app_label = "s2vector"


class DocExtra(models.Model):
    """Doc's table with one more field: what a migration adding `extra` works from (not created)."""

    label = models.CharField(max_length=20)
    embedding = VectorField(dimensions=4)
    extra = VectorField(dimensions=2, null=True)

    class Meta:
        app_label = "s2vector_extra"
        db_table = "s2vector_doc"


MODELS = [Doc, Loose]
