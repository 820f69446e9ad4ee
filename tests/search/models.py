"""Models for the full-text tests (app label `s2search`; not an installed app, created per test)."""

from __future__ import annotations

from django.db import models

from django_singlestore.search import FullTextIndex, FullTextManager


class Article(models.Model):
    title = models.CharField(max_length=200)
    body = models.TextField()
    year = models.IntegerField(default=2020)

    objects = FullTextManager()

    class Meta:
        app_label = "s2search"
        db_table = "s2_article"
        indexes = [FullTextIndex(fields=["title", "body"], name="article_ft")]


class LegacyArticle(models.Model):
    """A version 1 (legacy) index: MATCH (cols) AGAINST (...)."""

    title = models.CharField(max_length=200)
    body = models.TextField()

    objects = FullTextManager()

    class Meta:
        app_label = "s2search"
        db_table = "s2_legacy_article"
        indexes = [FullTextIndex(fields=["title", "body"], name="legacy_ft", version=1)]


class Plain(models.Model):
    """No full-text index (the index is added and removed by the migration tests)."""

    title = models.CharField(max_length=200)
    body = models.TextField()

    class Meta:
        app_label = "s2search"
        db_table = "s2_plain"
