"""The shop's tables, each showing one way to lay out a table on SingleStore.

* `Brand`: a REFERENCE table (a full copy on every leaf), declared with `ModelStorageManager`.
* `Tag`: nothing declared, the automatic layout: `id` plus a unique `name` becomes a columnstore
  table sharded on `name` with `id` kept as a plain key.
* `Product`: a ROWSTORE table (point reads and stock updates), sharded on its primary key;
  `tags` is a many-to-many whose auto-created table also gets the automatic layout.
* `Order` / `OrderLine`: columnstore tables with a declared shard key (an order's lines live on the
  same partition as the order) and a sort key on the order time.
The contrib apps' tables (auth, sessions, admin) take the automatic layout with no configuration.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from django_singlestore.indexes import ShardKey, SortKey
from django_singlestore.schema import ModelStorageManager


class Brand(models.Model):
    name = models.CharField(max_length=60, unique=True)

    objects = models.Manager()
    storage = ModelStorageManager(table_storage_type="REFERENCE")

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    name = models.CharField(max_length=30, unique=True)

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="products")
    name = models.CharField(max_length=100)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    stock = models.IntegerField(default=0)
    sold = models.IntegerField(default=0)
    tags = models.ManyToManyField(Tag, blank=True, related_name="products")

    objects = models.Manager()
    storage = ModelStorageManager(table_storage_type="ROWSTORE")

    def __str__(self) -> str:
        return self.name


class Order(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="orders")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="orders")  # the first line's
    created = models.DateTimeField(default=timezone.now)
    total = models.DecimalField(max_digits=12, decimal_places=2, default=0)

    class Meta:
        indexes = [
            ShardKey(fields=["user"], name="order_shard"),  # SHARD KEY (user_id); `id` stays a plain key
            SortKey(fields=["created"], name="order_sort"),  # SORT KEY (created)
        ]

    def __str__(self) -> str:
        return f"order {self.pk}"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(default=1)
    price = models.DecimalField(max_digits=10, decimal_places=2, default=0)

    class Meta:
        indexes = [ShardKey(fields=["order"], name="orderline_shard")]  # with its order's rows
