"""dbshell: which client runs, and with which options (no client is started)."""

from __future__ import annotations

import pytest

from django_singlestore import client
from django_singlestore.client import DatabaseClient


def settings_dict(**options):
    return {
        "NAME": "app",
        "USER": "me",
        "PASSWORD": "secret",
        "HOST": "s2.example.com",
        "PORT": 3306,
        "OPTIONS": options,
    }


@pytest.fixture
def installed(monkeypatch):
    def install(*names, mariadb_mysql=False):
        def which(name):
            return f"/usr/bin/{name}" if name in names else None

        monkeypatch.setattr(client.shutil, "which", which)
        monkeypatch.setattr(
            client.os.path,
            "realpath",
            lambda p: "/usr/bin/mariadb" if mariadb_mysql and p.endswith("mysql") else p,
        )

    return install


def test_prefers_the_singlestore_client(installed):
    installed("singlestore", "mysql", "mariadb")
    args, env = DatabaseClient.settings_to_cmd_args_env(settings_dict(), [])
    assert args[0] == "singlestore"
    assert "--user=me" in args and "--host=s2.example.com" in args and "--port=3306" in args
    assert "--default-character-set=utf8mb4" in args and args[-1] == "app"
    assert env == {"MYSQL_PWD": "secret"}
    assert not any("secret" in a for a in args)


def test_falls_back_to_mysql_then_mariadb(installed):
    installed("mysql", "mariadb")
    assert DatabaseClient.settings_to_cmd_args_env(settings_dict(), [])[0][0] == "mysql"
    installed("mariadb")
    assert DatabaseClient.settings_to_cmd_args_env(settings_dict(), [])[0][0] == "mariadb"


def test_tls_options_for_a_mariadb_style_client(installed):
    installed("singlestore")
    args, _ = DatabaseClient.settings_to_cmd_args_env(
        settings_dict(ssl={"ca": "/ca.pem", "cert": "/c.pem", "key": "/k.pem"}, ssl_mode="VERIFY_CA"),
        ["-e", "x"],
    )
    assert {
        "--ssl-ca=/ca.pem",
        "--ssl-cert=/c.pem",
        "--ssl-key=/k.pem",
        "--ssl",
        "--ssl-verify-server-cert",
    } <= set(args)
    assert args[-2:] == ["-e", "x"]


def test_tls_for_oracle_mysql_client_uses_ssl_mode(installed):
    installed("mysql")
    args, _ = DatabaseClient.settings_to_cmd_args_env(settings_dict(ssl=True), [])
    assert "--ssl-mode=REQUIRED" in args and "--ssl" not in args
    installed("mysql", mariadb_mysql=True)
    args, _ = DatabaseClient.settings_to_cmd_args_env(settings_dict(ssl=True), [])
    assert "--ssl" in args


def test_no_tls_flags_without_tls_options(installed):
    installed("mariadb")
    args, _ = DatabaseClient.settings_to_cmd_args_env(settings_dict(connect_timeout=7), [])
    assert not any(a.startswith("--ssl") for a in args)
    assert "--connect-timeout=7" in args
