"""The gateway terminates TLS itself, so the drivers' `ssl` options are exercised for real.

MariaDB's side stays plain TCP, so `SHOW STATUS LIKE 'Ssl_cipher'` would say nothing; the tests look
at the client's end of the connection instead.
"""

from __future__ import annotations

import ctypes
import ssl

import aiomysql
import MySQLdb
import MySQLdb._mysql
import pytest

from tests.testbed import Endpoint, Testbed
from tests.testbed.gateway.process import GatewayProcess

pytestmark = pytest.mark.gateway_only


def endpoint(gw: GatewayProcess, bed: Testbed, role: str = "master") -> Endpoint:
    port = gw.master_port if role == "master" else gw.child_port
    return Endpoint("127.0.0.1", port, bed.master.user, bed.master.password, bed.master.database)


def mysqldb_cipher(conn: MySQLdb.Connection) -> str | None:
    """libmariadb's mysql_get_ssl_cipher() for a MySQLdb connection (MySQLdb has no wrapper for it)."""
    capsule = conn._get_native_connection()
    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype, get_name.argtypes = ctypes.c_char_p, [ctypes.py_object]
    get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
    get_pointer.restype, get_pointer.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    native = get_pointer(capsule, get_name(capsule))
    cipher = ctypes.CDLL(MySQLdb._mysql.__file__).mysql_get_ssl_cipher  # resolved in libmariadb
    cipher.restype, cipher.argtypes = ctypes.c_char_p, [ctypes.c_void_p]
    value = cipher(native)
    return value.decode() if value else None


@pytest.mark.parametrize("role", ["master", "child"])
def test_mysqldb_with_ca_gets_an_encrypted_session(
    tls_gateway: GatewayProcess, testbed: Testbed, role: str
) -> None:
    assert tls_gateway.tls_cert is not None
    ep = endpoint(tls_gateway, testbed, role)
    conn = MySQLdb.connect(**ep.mysqldb_kwargs(ssl={"ca": str(tls_gateway.tls_cert)}))
    assert mysqldb_cipher(conn)  # e.g. TLS_AES_256_GCM_SHA384
    assert conn.get_server_info() == "5.7.32"
    with conn.cursor() as cur:
        cur.execute("SELECT DATABASE(), %s", ("é😀" * 1000,))
        assert cur.fetchone() == (ep.database, "é😀" * 1000)
    conn.close()


def test_mysqldb_ssl_mode_required_and_plain_clients(tls_gateway: GatewayProcess, testbed: Testbed) -> None:
    ep = endpoint(tls_gateway, testbed)
    required = MySQLdb.connect(**ep.mysqldb_kwargs(ssl_mode="REQUIRED"))
    assert mysqldb_cipher(required)
    required.close()
    # TLS is offered, not forced: a client that does not ask for it gets a plain session.
    plain = MySQLdb.connect(**ep.mysqldb_kwargs())
    assert mysqldb_cipher(plain) is None
    with plain.cursor() as cur:
        cur.execute("SELECT 1")
        assert cur.fetchone() == (1,)
    plain.close()


def test_mysqldb_rejects_an_unknown_certificate(tls_gateway: GatewayProcess, testbed: Testbed) -> None:
    ep = endpoint(tls_gateway, testbed)
    with pytest.raises(MySQLdb.OperationalError) as info:
        MySQLdb.connect(
            **ep.mysqldb_kwargs(
                ssl={"ca": ssl.get_default_verify_paths().openssl_cafile}, ssl_mode="VERIFY_CA"
            )
        )
    assert info.value.args[0] == 2026  # the TLS handshake really checked the gateway's certificate


@pytest.mark.asyncio
async def test_aiomysql_with_ssl_context(tls_gateway: GatewayProcess, testbed: Testbed) -> None:
    assert tls_gateway.tls_cert is not None
    context = ssl.create_default_context(cafile=str(tls_gateway.tls_cert))  # verifies host 127.0.0.1
    ep = endpoint(tls_gateway, testbed)
    conn = await aiomysql.connect(**ep.aiomysql_kwargs(ssl=context))
    try:
        ssl_object = conn._writer.get_extra_info("ssl_object")
        assert ssl_object is not None and ssl_object.cipher() is not None
        assert ssl_object.getpeercert()["subject"] == ((("commonName", "127.0.0.1"),),)
        async with conn.cursor() as cur:
            await cur.execute("SELECT %s", (b"\x00\xff" * 100_000,))
            assert await cur.fetchone() == (b"\x00\xff" * 100_000,)
            await conn.begin()
            assert conn.get_transaction_status()
            await conn.rollback()
    finally:
        await conn.ensure_closed()
