"""The async side of the SingleStore backend (aiomysql pool, native async ORM):
`ENGINE: "django_singlestore_async"`. It reuses `django_singlestore` and never the reverse."""

__version__ = "6.0.0.dev0"
