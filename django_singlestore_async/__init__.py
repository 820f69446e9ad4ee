"""The async side of the SingleStore backend (aiomysql pool, native async ORM):
`ENGINE: "django_singlestore_async"`. It reuses `django_singlestore` and never the reverse."""

__version__ = "6.0.0.dev0"

__all__ = ["async_atomic", "limit_connections", "new_connection", "on_commit", "run_orm"]


def __getattr__(name: str) -> object:
    # Lazy: importing the package (INSTALLED_APPS, ENGINE) must not import Django's database layer.
    if name in ("run_orm", "limit_connections"):
        from django_singlestore_async import scope

        return getattr(scope, name)
    if name in ("async_atomic", "new_connection", "on_commit"):
        from django_singlestore_async import transaction

        return getattr(transaction, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
