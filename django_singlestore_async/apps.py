"""`INSTALLED_APPS += ["django_singlestore_async"]`: routes Django's async ORM API natively."""

from __future__ import annotations

from django.apps import AppConfig


class NativeAsyncConfig(AppConfig):
    """Installs the routing (`routing.install()`) once the app registry is ready, after its self-check
    of the Django version and internals, and the `ASYNC_ATOMIC_REQUESTS` handler hook."""

    name = "django_singlestore_async"
    verbose_name = "SingleStore async engine"
    default = True

    def ready(self) -> None:
        from django_singlestore_async import handlers, routing

        routing.install()
        handlers.install()  # DATABASES[alias]["ASYNC_ATOMIC_REQUESTS"]
