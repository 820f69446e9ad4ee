"""A first look at django-singlestore: Django's ORM on a SingleStore aggregator.

    python examples/quickstart.py mysql://USER:PASSWORD@HOST:PORT/NAME

A script for a first look without a Django project (`make demo` runs the example app,
examples/shop). It creates two tables with the automatic layout, writes and reads through the ORM,
renames a shard-key value (the row moves), and prints what SingleStore was asked to create.
It drops its tables at the end, unless DEMO_KEEP=1: then it keeps them and their rows, and says so.
"""

from __future__ import annotations

import os
import sys
from urllib.parse import unquote, urlsplit

import django
from django.conf import settings


def configure(url: str) -> None:
    parts = urlsplit(url)
    settings.configure(
        DATABASES={
            "default": {
                "ENGINE": "django_singlestore",
                "HOST": parts.hostname,
                "PORT": parts.port or 3306,
                "USER": unquote(parts.username or ""),
                "PASSWORD": unquote(parts.password or ""),
                "NAME": parts.path.lstrip("/"),
            }
        },
        INSTALLED_APPS=[],
        USE_TZ=True,
    )
    django.setup()


def main(url: str) -> int:
    configure(url)
    from django.db import connection, models, transaction

    class Author(models.Model):
        username = models.CharField(max_length=40, unique=True)  # a unique column beside the id

        class Meta:
            app_label = "quickstart"

    class Post(models.Model):
        author = models.ForeignKey(Author, on_delete=models.CASCADE)
        title = models.CharField(max_length=100)

        class Meta:
            app_label = "quickstart"

    data = connection.singlestore_server_data
    print(f"connected: SingleStore {data.version_string} ({data.aggregator_role} aggregator)")
    with connection.schema_editor() as editor:
        for model in (Post, Author):
            editor.execute(f"DROP TABLE IF EXISTS {editor.quote_name(model._meta.db_table)}")
        for model in (Author, Post):
            print(f"\n{model.__name__}: {editor.table_layout(model).describe()}")
            print("  " + editor.table_sql(model)[0])
            editor.create_model(model)

    with transaction.atomic():
        ada = Author.objects.create(username="ada")
        Post.objects.create(author=ada, title="Notes on the analytical engine")
    print(f"\nada's id: {ada.pk} (unique, not consecutive: SingleStore's AUTO_INCREMENT)")

    ada.username = "ada.lovelace"  # the shard key of `Author`: the backend moves the row
    ada.save()
    post = Post.objects.select_related("author").get(author__username="ada.lovelace")
    print(
        f"after the rename: {post.author.username!r} wrote {post.title!r}; id kept: {post.author.pk == ada.pk}"
    )

    if os.environ.get("DEMO_KEEP") == "1":
        print(f"\nDEMO_KEEP=1: kept in database {connection.settings_dict['NAME']!r}:")
        for model in (Author, Post):
            print(f"  {model._meta.db_table}: {model.objects.count()} row(s)")
        print("Drop them with DROP TABLE, or run the script again without DEMO_KEEP=1.")
        return 0
    with connection.schema_editor() as editor:
        for model in (Post, Author):
            editor.delete_model(model)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    raise SystemExit(main(sys.argv[1]))
