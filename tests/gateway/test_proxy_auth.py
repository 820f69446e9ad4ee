"""Authentication stays MariaDB's: auth switch, COM_CHANGE_USER and TLS renumbering go through intact."""

from __future__ import annotations

import socket
import ssl
import struct

import MySQLdb
import pytest

from tests.testbed import Endpoint, Testbed
from tests.testbed.gateway import packets as p
from tests.testbed.gateway.client import native_password_scramble
from tests.testbed.gateway.process import GatewayProcess

pytestmark = pytest.mark.gateway_only


class RawSession:
    """A hand-driven client socket (optionally upgraded to TLS after an SSLRequest)."""

    def __init__(self, ep: Endpoint, tls_ca: str | None = None) -> None:
        self.ep = ep
        self.sock: socket.socket = socket.create_connection((ep.host, ep.port), timeout=10)
        self.tls_ca = tls_ca

    def recv(self) -> tuple[int, bytes]:
        header = self._exactly(4)
        return header[3], self._exactly(int.from_bytes(header[:3], "little"))

    def _exactly(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            assert chunk, "connection closed"
            buf += chunk
        return buf

    def send(self, payload: bytes, seq: int) -> None:
        self.sock.sendall(p.frame(payload, seq))

    def login_with_wrong_first_plugin(self) -> tuple[list[int], bytes]:
        """Claim caching_sha2_password so MariaDB must switch us to mysql_native_password.

        Returns the sequence ids the client saw after its handshake response, and the final packet.
        """
        _, greeting = self.recv()
        hs = p.Handshake.parse(greeting)
        caps = (
            p.CLIENT_PROTOCOL_41 | p.CLIENT_SECURE_CONNECTION | p.CLIENT_PLUGIN_AUTH | p.CLIENT_LONG_PASSWORD
        ) | p.CLIENT_TRANSACTIONS
        seq = 1
        if self.tls_ca is not None:
            assert hs.capabilities & p.CLIENT_SSL
            self.send(struct.pack("<IIB", caps | p.CLIENT_SSL, 1 << 24, 45) + bytes(23), seq)
            context = ssl.create_default_context(cafile=self.tls_ca)
            self.sock = context.wrap_socket(self.sock, server_hostname="127.0.0.1")
            caps |= p.CLIENT_SSL
            seq = 2
        body = struct.pack("<IIB", caps, 1 << 24, 45) + bytes(23) + self.ep.user.encode() + b"\x00"
        body += b"\x20" + b"\x01" * 32 + b"caching_sha2_password\x00"
        self.send(body, seq)
        seen = []
        sseq, switch = self.recv()
        seen.append(sseq)
        assert switch[:1] == b"\xfe", switch  # AuthSwitchRequest
        plugin, pos = p.read_nul_str(switch, 1)
        assert plugin == b"mysql_native_password"
        self.send(native_password_scramble(self.ep.password, switch[pos:].rstrip(b"\x00")), sseq + 1)
        sseq, final = self.recv()
        seen.append(sseq)
        return seen, final

    def query(self, sql: str) -> bytes:
        self.send(b"\x03" + sql.encode(), 0)
        return self.recv()[1]


@pytest.mark.parametrize("target", ["direct", "gateway"])
def test_auth_switch_is_relayed(testbed: Testbed, target: str) -> None:
    ep = testbed.direct if target == "direct" else testbed.master
    assert ep is not None
    raw = RawSession(ep)
    seqs, final = raw.login_with_wrong_first_plugin()
    assert seqs == [2, 4]
    assert final[:1] == b"\x00"
    assert raw.query("SELECT 1")[:1] == b"\x01"  # a result set with one column
    raw.sock.close()


def test_auth_switch_over_tls_is_renumbered(tls_gateway: GatewayProcess, testbed: Testbed) -> None:
    """MariaDB never saw the SSLRequest, so the gateway shifts sequence ids by one each way."""
    ep = Endpoint("127.0.0.1", tls_gateway.master_port, testbed.master.user, testbed.master.password, "")
    raw = RawSession(ep, tls_ca=str(tls_gateway.tls_cert))
    seqs, final = raw.login_with_wrong_first_plugin()
    assert seqs == [3, 5]  # what a client expects after SSLRequest (1) and its response (2)
    assert final[:1] == b"\x00"
    assert isinstance(raw.sock, ssl.SSLSocket) and raw.sock.cipher() is not None
    assert raw.query("SELECT 1")[:1] == b"\x01"
    raw.sock.close()


def test_wrong_password_after_auth_switch_gets_mariadbs_error(testbed: Testbed) -> None:
    ep = Endpoint(testbed.master.host, testbed.master.port, testbed.master.user, "wrong", "")
    _, final = RawSession(ep).login_with_wrong_first_plugin()
    err = p.parse_err(final)
    assert (err.code, err.sqlstate) == (1045, "28000")
    assert "Access denied" in err.message


@pytest.mark.parametrize("role", ["master", "child"])
def test_change_user_through_the_gateway(testbed: Testbed, role: str) -> None:
    ep = testbed.master if role == "master" else testbed.child
    assert ep is not None
    conn = MySQLdb.connect(**ep.mysqldb_kwargs())
    with conn.cursor() as cur:
        cur.execute("SET @marker = 1")
    conn.change_user(ep.user, ep.password, "mysql")  # COM_CHANGE_USER resets the session
    with conn.cursor() as cur:
        cur.execute("SELECT @marker, DATABASE()")
        assert cur.fetchone() == (None, "mysql")
    with pytest.raises(MySQLdb.OperationalError) as info:
        conn.change_user(ep.user, "wrong", "mysql")
    assert info.value.args[0] == 1045
    conn.close()
