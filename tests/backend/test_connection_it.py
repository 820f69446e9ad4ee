"""The connection through the gateway (or SINGLESTORE_URL): server facts, version gate, options."""

from __future__ import annotations

import shutil
from pathlib import Path

import MySQLdb
import pytest
from django.db import NotSupportedError, OperationalError

from django_singlestore.base import forget_server_data
from tests import testbed as tb
from tests.dbtools import AliasFactory, database_name, run_admin_sql
from tests.gateway.test_proxy_tls import mysqldb_cipher


def test_server_data_comes_from_memsql_version(s2):
    data = s2.singlestore_server_data
    assert data.version >= (8, 5)
    assert data.version_string.startswith(".".join(map(str, data.version[:2])))
    with s2.cursor() as cursor:
        cursor.execute("SELECT @@memsql_version")
        assert cursor.fetchone()[0] == data.version_string
    assert s2.get_database_version() == data.version


def test_connects_with_utf8mb4_and_stores_four_byte_characters(s2):
    with s2.cursor() as cursor:
        cursor.execute("CREATE TABLE emoji (id BIGINT PRIMARY KEY, t VARCHAR(20) CHARACTER SET utf8mb4)")
        cursor.execute("INSERT INTO emoji VALUES (%s, %s)", [1, "snake \U0001f40d"])
        cursor.execute("SELECT t FROM emoji WHERE id = 1")
        assert cursor.fetchone()[0] == "snake \U0001f40d"
        cursor.execute("SELECT @@character_set_client")
        assert cursor.fetchone()[0] == "utf8mb4"


def test_update_reports_matched_rows(s2):
    with s2.cursor() as cursor:
        cursor.execute("CREATE TABLE fr (id BIGINT PRIMARY KEY, v INT)")
        cursor.execute("INSERT INTO fr VALUES (1, 5)")
        cursor.execute("UPDATE fr SET v = 5 WHERE id = 1")
        assert cursor.rowcount == 1  # FOUND_ROWS: matched, not changed


def test_read_committed_is_the_isolation_level(s2):
    with s2.cursor() as cursor:
        cursor.execute("SELECT @@transaction_isolation")
        assert cursor.fetchone()[0].upper().replace("-", " ") == "READ COMMITTED"


def test_read_timeout_is_honoured(make_alias):
    conn = make_alias("s2_timeout", read_timeout=1)
    with pytest.raises(OperationalError), conn.cursor() as cursor:
        cursor.execute("SELECT SLEEP(3)")


@pytest.mark.gateway_only
def test_plain_mariadb_is_refused_with_a_clear_error(request, testbed: tb.Testbed):
    """Against MariaDB itself (no gateway): 1193 Unknown system variable 'memsql_version'."""
    if testbed.direct is None:
        pytest.skip("environment: no direct MariaDB endpoint")
    name = database_name(request, "gw_backend")
    run_admin_sql(testbed.direct, f"CREATE DATABASE IF NOT EXISTS `{name}`")
    factory = AliasFactory(testbed.direct, name)
    try:
        conn = factory("s2_mariadb")
        with pytest.raises(
            NotSupportedError, match=r"is not SingleStore: it has no @@memsql_version"
        ) as info:
            conn.ensure_connection()
        assert "django.db.backends.mysql" in str(info.value)
        assert info.value.__cause__.args[0] == 1193
    finally:
        factory.close()
        run_admin_sql(testbed.direct, f"DROP DATABASE IF EXISTS `{name}`")


@pytest.fixture(scope="module")
def old_gateway(testbed: tb.Testbed, testbed_root: Path):
    if not testbed.is_gateway:
        pytest.skip("gateway only: needs a gateway told to report an older @@memsql_version")
    assert testbed.mariadb is not None
    bed = tb.Testbed.embedded(testbed.mariadb, testbed_root / "gateway-old", ["--memsql-version=8.1.0"])
    yield bed
    bed.stop_gateway()


@pytest.fixture(scope="module")
def tls_gateway(testbed: tb.Testbed, testbed_root: Path):
    if not testbed.is_gateway:
        pytest.skip("gateway only: the gateway's TLS mode")
    assert testbed.mariadb is not None
    bed = tb.Testbed.embedded(testbed.mariadb, testbed_root / "gateway-tls", ["--tls"])
    yield bed
    bed.stop_gateway()


def test_older_singlestore_is_refused(request, old_gateway: tb.Testbed):
    name = database_name(request, "gw_backend")
    run_admin_sql(old_gateway.master, f"CREATE DATABASE IF NOT EXISTS `{name}`")
    factory = AliasFactory(old_gateway.master, name)
    try:
        conn = factory("s2_old")
        with pytest.raises(
            NotSupportedError, match=r"SingleStore 8\.5 or later is required \(found 8\.1\.0\)"
        ):
            conn.ensure_connection()
    finally:
        factory.close()
        forget_server_data()
        run_admin_sql(old_gateway.master, f"DROP DATABASE IF EXISTS `{name}`")


def _certificate(bed: tb.Testbed) -> Path:
    assert bed.gateway is not None and bed.gateway.tls_cert is not None, (
        "the TLS gateway reported no certificate"
    )
    return bed.gateway.tls_cert


def test_tls_through_the_gateways_tls_mode(request, tls_gateway: tb.Testbed):
    name = database_name(request, "gw_backend")
    run_admin_sql(tls_gateway.master, f"CREATE DATABASE IF NOT EXISTS `{name}`")
    factory = AliasFactory(tls_gateway.master, name)
    try:
        conn = factory("s2_tls", ssl={"ca": str(_certificate(tls_gateway))})
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
        # The same options against a certificate that does not sign the gateway's fail: TLS was on.
        bogus = Path(request.config.rootpath) / "tests" / "backend" / "__init__.py"
        failing = factory("s2_tls_bad", ssl={"ca": str(bogus)})
        with pytest.raises(OperationalError):
            failing.ensure_connection()
    finally:
        factory.close()
        run_admin_sql(tls_gateway.master, f"DROP DATABASE IF EXISTS `{name}`")


def test_mysqlclient_direct_tls_sanity(tls_gateway: tb.Testbed):
    """The raw driver with the same dict, to tell a backend bug from an environment problem."""
    cert = _certificate(tls_gateway)
    conn = MySQLdb.connect(**tls_gateway.master.mysqldb_kwargs(database="", ssl={"ca": str(cert)}))
    try:
        # The session is encrypted: libmariadb reports the negotiated cipher (the gateway terminates TLS,
        # so the server's Ssl_cipher status would describe the gateway's plain link to MariaDB instead).
        cipher = mysqldb_cipher(conn)
        assert cipher and ("AES" in cipher or "CHACHA20" in cipher), cipher
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
    finally:
        conn.close()
    plain = MySQLdb.connect(**tls_gateway.master.mysqldb_kwargs(database="", ssl_mode="DISABLED"))
    try:
        assert mysqldb_cipher(plain) is None  # the cipher check above can tell the two apart
    finally:
        plain.close()


def test_dbshell_runs_a_query_through_the_gateway(s2, testbed: tb.Testbed):
    if not (shutil.which("singlestore") or shutil.which("mysql") or shutil.which("mariadb")):
        pytest.skip("environment: no singlestore/mysql/mariadb client installed")
    import subprocess

    args, env = s2.client.settings_to_cmd_args_env(s2.settings_dict, ["-N", "-e", "SELECT @@memsql_version"])
    result = subprocess.run(
        args, env={**(env or {}), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == s2.singlestore_server_data.version_string


def test_connect_timeout_reaches_the_driver():
    """A listener that never sends the server greeting: the connection gives up after connect_timeout."""
    import socket
    import time

    from django_singlestore.base import DatabaseWrapper
    from tests.dbtools import alias_settings

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        silent = tb.Endpoint("127.0.0.1", port, "u", "p", "db")
        wrapper = DatabaseWrapper(alias_settings(silent, "db", connect_timeout=1), "s2_silent")
        started = time.monotonic()
        with pytest.raises(OperationalError):
            wrapper.ensure_connection()
        assert 0.5 <= time.monotonic() - started < 10  # it waited for the greeting, then gave up


def test_driver_options_pass_through(make_alias):
    conn = make_alias("s2_init", init_command="SET @django_singlestore_probe = 42")
    with conn.cursor() as cursor:
        cursor.execute("SELECT @django_singlestore_probe")
        assert cursor.fetchone()[0] == 42


def test_strict_mode_check_reads_the_servers_sql_mode(s2):
    assert "STRICT_ALL_TABLES" in s2.sql_mode
    assert [issue for issue in s2.validation.check() if issue.id == "singlestore.W001"] == []
