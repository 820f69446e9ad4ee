"""Every model shape the automatic layout handles (issue 4), for the schema test project."""

from django.conf import settings
from django.db import models

from django_singlestore.indexes import HashIndex, ShardKey, SortKey
from django_singlestore.schema import ModelStorageManager


class Plain(models.Model):
    """No unique key besides the id: sharded on the id."""

    name = models.CharField(max_length=50)


class Tagged(models.Model):
    """A unique column beside the id: the id becomes a plain KEY, sharded on `slug`."""

    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=100, blank=True)


class Pair(models.Model):
    """unique_together: sharded on (left, right), id a plain KEY."""

    left = models.IntegerField()
    right = models.IntegerField()
    note = models.CharField(max_length=50, blank=True)

    class Meta:
        unique_together = [("left", "right")]


class TwoUniques(models.Model):
    """Two unrelated unique columns: no sharded layout holds both, so ROWSTORE REFERENCE."""

    code = models.CharField(max_length=20, unique=True)
    email = models.CharField(max_length=100, unique=True)


class Event(models.Model):
    """Declared keys: shard on tenant, sort on created, a hash index on kind."""

    tenant = models.IntegerField()
    created = models.DateTimeField()
    kind = models.CharField(max_length=20)

    class Meta:
        indexes = [
            ShardKey(fields=["tenant"], name="shapes_event_shard"),
            SortKey(fields=["created"], name="shapes_event_sort"),
            HashIndex(fields=["kind"], name="shapes_event_kind"),
        ]


class Keyless(models.Model):
    """Keyless (random) sharding."""

    payload = models.CharField(max_length=50)

    class Meta:
        indexes = [ShardKey(name="shapes_keyless_shard")]


class TenantItem(models.Model):
    """Django 5.2's composite primary key (tenant_id, id): sharded on it."""

    pk = models.CompositePrimaryKey("tenant_id", "id")
    tenant_id = models.IntegerField()
    id = models.BigIntegerField()
    name = models.CharField(max_length=50)


class Food(models.Model):
    """The original README's per-model storage, as a second manager."""

    name = models.CharField(max_length=20, unique=True)

    objects = models.Manager()
    storage = ModelStorageManager(table_storage_type="REFERENCE")


class Author(models.Model):
    name = models.CharField(max_length=50)


class Book(models.Model):
    """An auto-created many-to-many table (keeps its id, sharded on the two foreign keys)."""

    title = models.CharField(max_length=100)
    authors = models.ManyToManyField(Author, related_name="books")


class Page(models.Model):
    number = models.IntegerField()


class Paragraph(models.Model):
    """The original README's explicit `through` model, with no hand DDL."""

    text = models.TextField()
    pages = models.ManyToManyField(Page, through="ParagraphPage")


class ParagraphPage(models.Model):
    paragraph = models.ForeignKey(Paragraph, on_delete=models.CASCADE)
    page = models.ForeignKey(Page, on_delete=models.CASCADE)

    class Meta:
        unique_together = [("paragraph", "page")]


class Profile(models.Model):
    """OneToOneField without primary_key=True: sharded on user_id, id a plain KEY."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    bio = models.CharField(max_length=100, blank=True)
