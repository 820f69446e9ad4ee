"""`manage.py dbshell`: SingleStore's `singlestore` client if installed, else `mysql` or `mariadb`.

All three take MySQL-style options. TLS: the `ssl` dict's files become `--ssl-ca/--ssl-capath/
--ssl-cert/--ssl-key/--ssl-cipher`, and any TLS setting (including `ssl=True`, `ssl_mode`) asks for
an encrypted session: `--ssl` for MariaDB-derived clients (`singlestore`, `mariadb`, a `mysql`
that is MariaDB's), `--ssl-mode=...` for Oracle's `mysql`. The password travels in MYSQL_PWD,
never on the command line.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

from django.db.backends.mysql.client import DatabaseClient as MySQLDatabaseClient

from django_singlestore.options import parse_options

#: Preference order of the shell executables.
CLIENT_EXECUTABLES = ("singlestore", "mysql", "mariadb")
#: TLS flags Django's MySQL client does not write (it writes --ssl-ca, --ssl-cert, --ssl-key).
_SSL_EXTRA_FLAGS = {"capath": "--ssl-capath", "cipher": "--ssl-cipher"}


def find_client_executable() -> str:
    for name in CLIENT_EXECUTABLES:
        if shutil.which(name):
            return name
    return CLIENT_EXECUTABLES[0]  # let the subprocess report "not found" with the preferred name


def _is_mariadb_client(executable: str) -> bool:
    if executable in ("singlestore", "mariadb"):
        return True
    path = shutil.which(executable)
    return path is not None and "mariadb" in os.path.realpath(path)


class DatabaseClient(MySQLDatabaseClient):
    """Django's MySQL client (user, host or socket, port, defaults file, `--ssl-ca/cert/key`, the
    database, MYSQL_PWD) plus the executable choice, the other TLS flags and the connect timeout."""

    executable_name = "singlestore"

    @classmethod
    def settings_to_cmd_args_env(cls, settings_dict: dict[str, Any], parameters: list[str]):
        options = parse_options(settings_dict.get("OPTIONS"), allow_pool=True).driver_kwargs
        ssl = options.get("ssl")
        ssl_files = ssl if isinstance(ssl, dict) else {}
        # Django's reader takes `ssl` as a dict and the charset as given; the backend always uses utf8mb4.
        django_options = {**options, "ssl": ssl_files, "charset": "utf8mb4"}
        args, env = super().settings_to_cmd_args_env({**settings_dict, "OPTIONS": django_options}, [])
        args[0] = executable = find_client_executable()
        extra = [f"{flag}={ssl_files[key]}" for key, flag in _SSL_EXTRA_FLAGS.items() if ssl_files.get(key)]
        ssl_mode = options.get("ssl_mode")
        if ssl or ssl_mode not in (None, "DISABLED"):
            if _is_mariadb_client(executable):
                extra.append("--ssl")
                if ssl_mode in ("VERIFY_CA", "VERIFY_IDENTITY"):
                    extra.append("--ssl-verify-server-cert")
            else:
                extra.append(f"--ssl-mode={ssl_mode or 'REQUIRED'}")
        if options.get("connect_timeout"):
            extra.append(f"--connect-timeout={options['connect_timeout']}")
        # Options go before the database name, which Django's client writes last.
        at = len(args) - 1 if settings_dict.get("NAME") else len(args)
        args[at:at] = extra
        return [*args, *parameters], env
