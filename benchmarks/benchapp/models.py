from django.db import models


class Item(models.Model):
    id = models.BigAutoField(primary_key=True)
    name = models.CharField(max_length=64)
    value = models.IntegerField(default=0)
    note = models.CharField(max_length=200, default="")

    class Meta:
        app_label = "benchapp"
