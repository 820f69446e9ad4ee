"""Models for the native async ORM tests (app label `s2async`; not an installed app, tables created by
the fixtures with the schema editor)."""

from __future__ import annotations

from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=50, unique=True)
    age = models.IntegerField(default=0)

    class Meta:
        app_label = "s2async"
        ordering = ["id"]


class Tag(models.Model):
    name = models.CharField(max_length=50)

    class Meta:
        app_label = "s2async"
        ordering = ["id"]


class Note(models.Model):
    """Generic relation target (contrib.contenttypes' related manager)."""

    text = models.CharField(max_length=50)
    content_type = models.ForeignKey(ContentType, models.CASCADE)
    object_id = models.BigIntegerField()
    target = GenericForeignKey("content_type", "object_id")

    class Meta:
        app_label = "s2async"
        ordering = ["id"]


class Book(models.Model):
    title = models.CharField(max_length=50)
    pages = models.IntegerField(default=0)
    author = models.ForeignKey(Author, models.CASCADE, related_name="books")
    tags = models.ManyToManyField(Tag, related_name="books")
    notes = GenericRelation(Note)

    class Meta:
        app_label = "s2async"
        ordering = ["id"]


MODELS = [Author, Tag, Book, Note]
