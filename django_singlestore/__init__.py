"""Django database backend for SingleStore (sync, mysqlclient): `ENGINE: "django_singlestore"`.

The backend is Django's MySQL backend (`django.db.backends.mysql`) plus its differences from it: one
module per concern, as in Django's own backends. `MINIMUM_SINGLESTORE_VERSION` is the one place that
says which SingleStore releases are supported; the connection refuses an older server.
"""

__version__ = "6.0.0.dev0"

#: The oldest SingleStore release this backend supports (compared with `@@memsql_version`).
#: 8.5 is the oldest release whose documented SQL covers everything the backend emits
#: (6-argument REGEXP_INSTR, DATE_TRUNC, JSON_EXTRACT_<type>, JSON_MATCH_ANY_EXISTS, `:>`, PERSISTED
#: computed columns, FOREIGN KEY-free DDL); the gateway reports an 8.9-style version by default.
MINIMUM_SINGLESTORE_VERSION: tuple[int, ...] = (8, 5)
