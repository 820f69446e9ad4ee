"""The test models' app (label `s2async`), installed by the module fixture with override_settings so
that reverse relations (author.books, tag.books) resolve."""

from django.apps import AppConfig


class AsyncOrmTestsConfig(AppConfig):
    name = "tests.async_orm"
    label = "s2async"
