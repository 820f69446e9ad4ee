"""Django database backend for SingleStore (sync, mysqlclient): `ENGINE: "django_singlestore"`."""

__version__ = "0.1.0.dev0"
