"""Bad input and lost peers: the gateway drops the offending connection and keeps serving the others."""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import time

import MySQLdb
import pytest

from tests.gateway.conftest import direct_conn, with_db
from tests.testbed import Endpoint, Testbed
from tests.testbed.gateway import packets as p
from tests.testbed.gateway.client import AdminClient

pytestmark = pytest.mark.gateway_only


def assert_serving(bed: Testbed) -> None:
    """A fresh client on each role still gets answers."""
    assert bed.child is not None
    for ep in (bed.master, bed.child):
        conn = MySQLdb.connect(**ep.mysqldb_kwargs(connect_timeout=10))
        with conn.cursor() as cur:
            cur.execute("SELECT 6 * 7")
            assert cur.fetchone() == (42,)
        conn.close()


def raw_greeting(ep: Endpoint) -> socket.socket:
    sock = socket.create_connection((ep.host, ep.port), timeout=10)
    header = sock.recv(4, socket.MSG_WAITALL)
    sock.recv(int.from_bytes(header[:3], "little"), socket.MSG_WAITALL)
    return sock


def closed_by_peer(sock: socket.socket, timeout: float = 10.0) -> bool:
    """True when the peer closes the connection (whatever it sent before) within `timeout` seconds."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not sock.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return False


def mariadb_threads(bed: Testbed) -> set[int]:
    conn = direct_conn(bed)
    with conn.cursor() as cur:
        cur.execute("SELECT ID FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID()")
        ids = {row[0] for row in cur.fetchall()}
    conn.close()
    return ids


def wait_gone(bed: Testbed, thread_id: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if thread_id not in mariadb_threads(bed):
            return True
        time.sleep(0.05)
    return False


def test_client_disconnecting_mid_handshake_packet(testbed: Testbed) -> None:
    sock = raw_greeting(testbed.master)
    sock.sendall(b"\x50\x00\x00\x01" + b"\x8d\xa6\x0f")  # announces 80 bytes, sends 3
    sock.close()
    assert_serving(testbed)


def test_garbage_handshake_response_is_dropped(testbed: Testbed) -> None:
    sock = raw_greeting(testbed.master)
    junk = os.urandom(60)
    sock.sendall(struct.pack("<I", len(junk))[:3] + b"\x01" + junk)
    assert closed_by_peer(sock)
    sock.close()
    assert_serving(testbed)


def test_garbage_with_a_huge_length_does_not_block_others(testbed: Testbed) -> None:
    assert testbed.child is not None
    sock = raw_greeting(testbed.child)
    sock.sendall(b"\xff\xff\xfe" + os.urandom(500))  # "16 MiB follow", then silence
    assert_serving(testbed)
    sock.close()
    assert_serving(testbed)


def test_ssl_request_to_a_plain_gateway_is_dropped(testbed: Testbed) -> None:
    sock = raw_greeting(testbed.master)
    caps = p.CLIENT_PROTOCOL_41 | p.CLIENT_SSL | p.CLIENT_SECURE_CONNECTION
    sock.sendall(p.frame(struct.pack("<IIB", caps, 1 << 24, 45) + bytes(23), 1))
    assert closed_by_peer(sock)
    sock.close()
    assert_serving(testbed)


async def authenticated(ep: Endpoint) -> AdminClient:
    client = AdminClient(ep.host, ep.port, ep.user, ep.password, ep.database, reconnect_window=0)
    await client.connect()
    return client


def test_client_disconnecting_mid_command_frees_its_mariadb_session(testbed: Testbed) -> None:
    async def run() -> int:
        client = await authenticated(testbed.master)
        _, rows = await client.query("SELECT CONNECTION_ID()")
        assert client._writer is not None
        client._writer.write(b"\xe8\x03\x00\x00\x03SELECT ")  # 1000 bytes announced, 8 sent
        await client._writer.drain()
        client._writer.transport.abort()
        return int(rows[0][0] or 0)

    thread_id = asyncio.run(run())
    assert wait_gone(testbed, thread_id)  # the gateway closed its MariaDB connection too
    assert_serving(testbed)


def test_unknown_command_is_forwarded_and_answered_as_direct(testbed: Testbed) -> None:
    assert testbed.direct is not None

    async def run(ep: Endpoint) -> tuple[bytes, list[tuple[str | None, ...]]]:
        client = await authenticated(ep)
        reader, writer = client._reader, client._writer
        assert reader is not None and writer is not None
        writer.write(p.frame(b"\x7fwhat is this", 0))
        _, answer = await p.read_packet(reader)
        _, rows = await client.query("SELECT 'still here'")
        await client.close()
        return answer, rows

    direct = asyncio.run(run(testbed.direct))
    assert direct[0][:1] == b"\xff"  # MariaDB: ERR 1047 Unknown command
    assert asyncio.run(run(testbed.master)) == direct
    assert_serving(testbed)


def test_out_of_order_packet_reaches_mariadb_which_closes_that_client(testbed: Testbed) -> None:
    async def run() -> bool:
        client = await authenticated(testbed.master)
        reader, writer = client._reader, client._writer
        assert reader is not None and writer is not None
        writer.write(p.frame(b"\x03SELECT 1", 5))  # sequence id 5 is not a command
        await writer.drain()
        try:
            while await asyncio.wait_for(reader.read(65536), 10):
                pass
        except (ConnectionError, TimeoutError):
            return False
        return True

    assert asyncio.run(run())
    assert_serving(testbed)


def test_mariadb_killing_a_session_closes_only_that_client(testbed: Testbed) -> None:
    victim = MySQLdb.connect(**testbed.master.mysqldb_kwargs())
    bystander = MySQLdb.connect(**testbed.master.mysqldb_kwargs())
    with victim.cursor() as cur:
        cur.execute("SELECT CONNECTION_ID()")
        (thread_id,) = cur.fetchone()
    killer = direct_conn(testbed)
    with killer.cursor() as cur:
        cur.execute(f"KILL {int(thread_id)}")
    killer.close()
    with pytest.raises(MySQLdb.OperationalError) as info, victim.cursor() as cur:
        cur.execute("SELECT 1")
    assert info.value.args[0] in (1927, 2006, 2013)  # killed / gone away / lost
    with bystander.cursor() as cur:
        cur.execute("SELECT 2")
        assert cur.fetchone() == (2,)
    bystander.close()
    assert_serving(testbed)


def test_many_aborted_connections_leave_no_mariadb_sessions_behind(testbed: Testbed) -> None:
    before = mariadb_threads(testbed)
    for _ in range(20):
        sock = raw_greeting(testbed.master)
        sock.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(mariadb_threads(testbed) - before) > 0:
        time.sleep(0.1)
    # Only the gateway's own sessions may remain (nothing per aborted client).
    assert len(mariadb_threads(testbed) - before) == 0
    assert_serving(testbed)


def gateway_fds(bed: Testbed) -> int:
    assert bed.gateway is not None and bed.gateway.pid is not None
    return len(os.listdir(f"/proc/{bed.gateway.pid}/fd"))


def test_no_sockets_leak_after_many_kinds_of_disconnects(testbed: Testbed) -> None:
    assert_serving(testbed)
    assert testbed.child is not None
    before = gateway_fds(testbed)
    for n in range(10):
        raw_greeting(testbed.master).close()  # gone before answering the greeting
        half = raw_greeting(testbed.child)
        half.sendall(b"\x50\x00\x00\x01abc")  # gone in the middle of a packet
        half.close()
        conn = MySQLdb.connect(**testbed.master.mysqldb_kwargs())
        with conn.cursor() as cur:
            cur.execute("SELECT %s", (n,))
        if n % 2:
            conn.close()  # COM_QUIT
        else:  # the TCP connection drops without COM_QUIT
            dup = socket.socket(fileno=os.dup(conn.fileno()))
            dup.shutdown(socket.SHUT_RDWR)
            dup.close()
            conn.close()
    deadline = time.monotonic() + 10
    while gateway_fds(testbed) > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gateway_fds(testbed) <= before


def test_mariadb_sigkill_ends_sessions_cleanly_and_the_gateway_recovers(
    testbed: Testbed, proxy_db: str
) -> None:
    """Runs last in this module: it SIGKILLs and restarts the session's MariaDB."""
    assert testbed.mariadb is not None
    before = MySQLdb.connect(**testbed.master.mysqldb_kwargs(read_timeout=30))
    testbed.mariadb.restart(kill=True)
    with pytest.raises(MySQLdb.OperationalError) as info, before.cursor() as cur:
        cur.execute("SELECT 1")  # an error at once, not a hang
    assert info.value.args[0] in (2006, 2013)
    before.close()
    assert_serving(testbed)
    # The engine's own connection (client.AdminClient) reconnects by itself: DDL through the gateway,
    # which makes the engine touch its catalog, works again.
    conn = MySQLdb.connect(**with_db(testbed.master, proxy_db).mysqldb_kwargs())
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE after_crash (id BIGINT PRIMARY KEY, v INT)")
        cur.execute("INSERT INTO after_crash VALUES (1, 2)")
        cur.execute("SELECT v FROM after_crash")
        assert cur.fetchone() == (2,)
    conn.close()
