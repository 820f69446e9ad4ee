from django.db import models


class Ticket(models.Model):
    code = models.CharField(max_length=20, unique=True)

    class Meta:
        app_label = "resetapp"
