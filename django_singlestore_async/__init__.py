"""The async side of the SingleStore backend (aiomysql pool, native async ORM):
`ENGINE: "django_singlestore_async"`. It reuses `django_singlestore` and never the reverse."""

__version__ = "6.0.0.dev0"

__all__ = ["run_orm"]


def __getattr__(name: str) -> object:
    # Lazy: importing the package (INSTALLED_APPS, ENGINE) must not import Django's database layer.
    if name == "run_orm":
        from django_singlestore_async.scope import run_orm

        return run_orm
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
