from django.db import models


class Row(models.Model):
    id = models.BigAutoField(primary_key=True)
    name = models.CharField(max_length=64)
    value = models.IntegerField()

    class Meta:
        app_label = "benchcrud"
