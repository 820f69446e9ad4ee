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

#: Preference order of the shell executables.
CLIENT_EXECUTABLES = ("singlestore", "mysql", "mariadb")
_SSL_FILE_FLAGS = {"ca": "--ssl-ca", "capath": "--ssl-capath", "cert": "--ssl-cert", "key": "--ssl-key"}


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
    executable_name = "singlestore"

    @classmethod
    def settings_to_cmd_args_env(cls, settings_dict: dict[str, Any], parameters: list[str]):
        options = settings_dict.get("OPTIONS") or {}
        executable = find_client_executable()
        user = settings_dict.get("USER")
        password = settings_dict.get("PASSWORD")
        host = settings_dict.get("HOST")
        port = settings_dict.get("PORT")
        args = [executable]
        if options.get("read_default_file"):
            args.append(f"--defaults-file={options['read_default_file']}")
        if user:
            args.append(f"--user={user}")
        if host:
            args.append(f"--socket={host}" if "/" in host else f"--host={host}")
        if port:
            args.append(f"--port={port}")
        ssl = options.get("ssl")
        ssl_mode = options.get("ssl_mode")
        if isinstance(ssl, dict):
            for key, flag in _SSL_FILE_FLAGS.items():
                if ssl.get(key):
                    args.append(f"{flag}={ssl[key]}")
            if ssl.get("cipher"):
                args.append(f"--ssl-cipher={ssl['cipher']}")
        wants_tls = bool(ssl) or (ssl_mode not in (None, "DISABLED"))
        if wants_tls:
            if _is_mariadb_client(executable):
                args.append("--ssl")
                if ssl_mode in ("VERIFY_CA", "VERIFY_IDENTITY"):
                    args.append("--ssl-verify-server-cert")
            else:
                args.append(f"--ssl-mode={ssl_mode or 'REQUIRED'}")
        if options.get("connect_timeout"):
            args.append(f"--connect-timeout={options['connect_timeout']}")
        args.append("--default-character-set=utf8mb4")
        if settings_dict.get("NAME"):
            args.append(settings_dict["NAME"])
        args.extend(parameters)
        env = {"MYSQL_PWD": password} if password else None
        return args, env
