from django.db import models

from django_singlestore.vector import VectorField, VectorManager

DIMENSIONS = 128


class Item(models.Model):
    id = models.BigAutoField(primary_key=True)
    label = models.CharField(max_length=32)
    embedding = VectorField(dimensions=DIMENSIONS)

    objects = VectorManager()

    class Meta:
        app_label = "benchknn"
