"""The gateway's protocol layer: framing, handshake rewrite, packet builders, response tracking."""

from __future__ import annotations

import asyncio
import hashlib
import socket
import struct

import pytest

from tests.testbed.gateway import packets as p
from tests.testbed.gateway.client import AdminClient, ServerError, native_password_scramble
from tests.testbed.gateway.engine import SessionState
from tests.testbed.gateway.responses import Pending, ResponseTracker, skip_rows
from tests.testbed.gateway.server import use_target
from tests.testbed.mariadb import MariaDB


def split_packets(data: bytes) -> list[tuple[int, bytes]]:
    """(seq, payload) of every physical packet in a byte string."""
    out = []
    pos = 0
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 3], "little")
        out.append((data[pos + 3], data[pos + 4 : pos + 4 + length]))
        pos += 4 + length
    assert pos == len(data)
    return out


@pytest.mark.parametrize("value", [0, 1, 250, 251, 0xFFFF, 0x10000, 0xFFFFFF, 0x1000000, 2**64 - 1])
def test_lenenc_int_round_trips(value: int) -> None:
    encoded = p.lenenc_int(value)
    assert p.read_lenenc_int(encoded + b"tail", 0) == (value, len(encoded))


def test_lenenc_null_and_string() -> None:
    assert p.read_lenenc_int(b"\xfb", 0) == (None, 1)
    assert p.read_lenenc_str(p.lenenc_str(b"\x00\xff abc") + b"x", 0) == (b"\x00\xff abc", 7)


@pytest.mark.parametrize("size", [0, 10, p.MAX_CHUNK - 1, p.MAX_CHUNK, p.MAX_CHUNK + 5, 2 * p.MAX_CHUNK])
def test_frame_splits_at_16_mib(size: int) -> None:
    payload = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    framed = p.frame(payload, 0)
    packets = split_packets(framed)
    assert len(packets) == p.frame_count(size)
    assert [seq for seq, _ in packets] == list(range(len(packets)))
    assert all(len(chunk) == p.MAX_CHUNK for _, chunk in packets[:-1])
    assert len(packets[-1][1]) < p.MAX_CHUNK  # a payload of exactly n*16 MiB ends with an empty packet
    assert b"".join(chunk for _, chunk in packets) == payload


def test_read_logical_packet_reassembles() -> None:
    payload = b"\x03" + b"y" * (p.MAX_CHUNK + 100)

    async def run() -> tuple[int, bytes, int]:
        reader = asyncio.StreamReader(limit=1 << 26)
        reader.feed_data(p.frame(payload, 0))
        reader.feed_eof()
        return await p.read_logical_packet(reader)

    seq, whole, count = asyncio.run(run())
    assert (seq, count) == (0, 2)
    assert whole == payload


def real_greeting(server: MariaDB) -> bytes:
    with socket.create_connection((server.host, server.port), timeout=10) as s:
        header = s.recv(4, socket.MSG_WAITALL)
        return s.recv(int.from_bytes(header[:3], "little"), socket.MSG_WAITALL)


def test_handshake_rewrite_keeps_everything_but_version_and_caps(mariadb: MariaDB) -> None:
    raw = real_greeting(mariadb)
    hs = p.Handshake.parse(raw)
    assert b"MariaDB" in hs.server_version
    assert len(hs.scramble()) == 20
    assert hs.plugin_name() == "mysql_native_password"
    # Rebuilding without changes gives MariaDB's bytes back.
    assert hs.build(clear_mariadb_ext=False) == raw
    new = p.Handshake.parse(
        hs.build(server_version=b"5.7.32", clear_caps=p.CLIENT_SSL | p.CLIENT_COMPRESS, set_caps=p.CLIENT_SSL)
    )
    assert new.server_version == b"5.7.32"
    assert new.connection_id == hs.connection_id
    assert new.scramble() == hs.scramble()
    assert new.plugin_name() == "mysql_native_password"
    assert new.capabilities & p.CLIENT_SSL
    assert not new.capabilities & p.CLIENT_COMPRESS
    assert new.capabilities & p.CLIENT_LONG_PASSWORD  # plain MySQL: no MariaDB extended capabilities
    assert new.tail[7:11] == b"\x00\x00\x00\x00"
    assert new.capabilities & ~(p.CLIENT_SSL | p.CLIENT_COMPRESS | p.CLIENT_LONG_PASSWORD) == (
        hs.capabilities & ~(p.CLIENT_SSL | p.CLIENT_COMPRESS | p.CLIENT_LONG_PASSWORD)
    )


def test_handshake_response_parse() -> None:
    caps = p.CLIENT_PROTOCOL_41 | p.CLIENT_SECURE_CONNECTION | p.CLIENT_CONNECT_WITH_DB | p.CLIENT_PLUGIN_AUTH
    body = struct.pack("<IIB", caps, 1 << 24, 45) + bytes(23) + b"bob\x00" + b"\x14" + b"s" * 20 + b"mydb\x00"
    parsed = p.HandshakeResponse.parse(body + b"mysql_native_password\x00")
    assert (parsed.user, parsed.database, parsed.is_ssl_request) == (b"bob", b"mydb", False)
    ssl_request = p.HandshakeResponse.parse(struct.pack("<IIB", caps | p.CLIENT_SSL, 1 << 24, 45) + bytes(23))
    assert ssl_request.is_ssl_request
    cleared = p.with_capabilities_cleared(struct.pack("<I", caps | p.CLIENT_SSL) + b"rest", p.CLIENT_SSL)
    assert cleared == struct.pack("<I", caps) + b"rest"


def test_err_packet_carries_sqlstate() -> None:
    payload = p.err_payload(1706, "HY000", "Feature 'SAVEPOINT' is not supported by SingleStore")
    assert payload[:4] == b"\xff\xaa\x06#"
    err = p.parse_err(payload)
    assert (err.code, err.sqlstate, err.message) == (
        1706,
        "HY000",
        "Feature 'SAVEPOINT' is not supported by SingleStore",
    )
    with pytest.raises(ValueError):
        p.err_payload(1, "HY0", "x")


def test_ok_packet_fields() -> None:
    ok = p.ok_payload(
        affected_rows=300, last_insert_id=2**40, status=0x0003, warnings=2, info="Rows matched: 1"
    )
    affected, pos = p.read_lenenc_int(ok, 1)
    insert_id, pos = p.read_lenenc_int(ok, pos)
    assert (affected, insert_id) == (300, 2**40)
    assert p.ok_status(ok) == (0x0003, 2)
    assert ok.endswith(b"Rows matched: 1")
    tracked = p.ok_payload(info="x", capabilities=p.CLIENT_PROTOCOL_41 | p.CLIENT_SESSION_TRACK)
    assert tracked.endswith(b"\x01x")


@pytest.mark.parametrize("deprecate_eof", [False, True])
def test_result_set_shape(deprecate_eof: bool) -> None:
    caps = p.CLIENT_PROTOCOL_41 | (p.CLIENT_DEPRECATE_EOF if deprecate_eof else 0)
    data = p.result_set(
        ["Table", "Create Table"], [("t", "CREATE TABLE t (a int)"), ("u", None)], status=3, capabilities=caps
    )
    packets = split_packets(data)
    assert [seq for seq, _ in packets] == list(range(1, len(packets) + 1))
    assert packets[0][1] == b"\x02"
    coldef = packets[1][1]
    pos = 0
    fields = []
    for _ in range(6):
        value, pos = p.read_lenenc_str(coldef, pos)
        fields.append(value)
    assert fields[0] == b"def" and fields[4] == b"Table"
    charset, _, col_type = struct.unpack_from("<HIB", coldef, pos + 1)
    assert (charset, col_type) == (p.UTF8MB4_GENERAL_CI, p.MYSQL_TYPE_VAR_STRING)
    rows_at = 3 if deprecate_eof else 4
    if not deprecate_eof:
        assert packets[3][1][:1] == b"\xfe" and p.eof_status(packets[3][1]) == 3
    assert packets[rows_at][1] == p.lenenc_str(b"t") + p.lenenc_str(b"CREATE TABLE t (a int)")
    assert packets[rows_at + 1][1] == p.lenenc_str(b"u") + b"\xfb"
    end = packets[-1][1]
    assert end[:1] == b"\xfe"
    assert (p.ok_status(end)[0] if deprecate_eof else p.eof_status(end)) == 3
    assert len(packets) == rows_at + 3


# -- the response tracker ------------------------------------------------------------------------------
def feed(tracker: ResponseTracker, payloads: list[bytes]) -> list[object]:
    """Run payloads through the tracker as the relay does; returns the hooks it asked to await."""
    hooks: list[object] = []
    for payload in payloads:
        first = payload[0] if payload else 0
        wanted = tracker.needs_payload(first, len(payload))
        hook = tracker.on_packet(first, payload if wanted else None)
        if hook is not None:
            hooks.append(hook)
    tracker.settle()
    return hooks


def coldef(name: str) -> bytes:
    return p.column_definition(name)


async def _hook() -> None:
    return None


@pytest.mark.parametrize("deprecate_eof", [False, True])
def test_tracker_follows_multi_results_and_flags(deprecate_eof: bool) -> None:
    async def run() -> None:
        session = SessionState(role="master", connection_id=1, database=None)
        caps = p.CLIENT_PROTOCOL_41 | (p.CLIENT_DEPRECATE_EOF if deprecate_eof else 0)
        tracker = ResponseTracker(session, caps)
        tracker.expect(Pending(p.COM_QUERY, _hook))
        assert not tracker.idle.is_set()
        more = p.SERVER_MORE_RESULTS_EXISTS | p.SERVER_STATUS_IN_TRANS
        end_rows = (
            p.ok_payload(status=more, header=0xFE, capabilities=caps)
            if deprecate_eof
            else p.eof_payload(more)
        )
        first_result = [b"\x01", coldef("a")] + ([] if deprecate_eof else [p.eof_payload(more)])
        first_result += [b"\x011", b"\x012", end_rows]
        # The first result set announces another one: no hook yet, still busy.
        assert feed(tracker, first_result) == []
        assert not tracker.idle.is_set()
        assert session.in_transaction and not session.autocommit
        # Then an OK without MORE_RESULTS ends the response: the hook is due.
        assert feed(tracker, [p.ok_payload(affected_rows=1, status=p.SERVER_STATUS_AUTOCOMMIT)]) == [_hook]
        assert tracker.idle.is_set()
        assert session.autocommit and not session.in_transaction

    asyncio.run(run())


def test_tracker_error_skips_hook_and_local_infile_waits() -> None:
    async def run() -> None:
        session = SessionState(role="child", connection_id=1, database="a")
        tracker = ResponseTracker(session, p.CLIENT_PROTOCOL_41)
        tracker.expect(Pending(p.COM_QUERY, _hook, database="b"))
        assert feed(tracker, [p.err_payload(1146, "42S02", "no table")]) == []
        assert session.database == "a"  # USE failed: the schema stays
        tracker.expect(Pending(p.COM_QUERY, _hook, database="b"))
        assert feed(tracker, [b"\xfbdata.csv"]) == []
        assert tracker.infile and not tracker.idle.is_set()
        assert feed(tracker, [p.ok_payload(affected_rows=3)]) == [_hook]
        assert session.database == "b"

    asyncio.run(run())


def test_tracker_prepare_and_no_response_commands() -> None:
    async def run() -> None:
        session = SessionState(role="master", connection_id=1, database=None)
        tracker = ResponseTracker(session, p.CLIENT_PROTOCOL_41)
        tracker.expect(Pending(p.COM_STMT_CLOSE))  # never answered
        assert tracker.idle.is_set()
        tracker.expect(Pending(p.COM_STMT_PREPARE))
        tracker.expect(Pending(p.COM_PING))
        prepare_ok = b"\x00" + struct.pack("<IHHBH", 1, 1, 2, 0, 0)  # 1 column, 2 params
        feed(tracker, [prepare_ok, coldef("?"), coldef("?"), p.eof_payload(2), coldef("c")])
        assert tracker.pending[0].command == p.COM_STMT_PREPARE  # the column EOF is still due
        feed(tracker, [p.eof_payload(2)])
        assert [x.command for x in tracker.pending] == [p.COM_PING]
        feed(tracker, [p.ok_payload(status=p.SERVER_STATUS_IN_TRANS)])
        assert tracker.idle.is_set() and session.in_transaction

    asyncio.run(run())


def test_tracker_survives_empty_and_truncated_packets() -> None:
    async def run() -> None:
        tracker = ResponseTracker(
            SessionState(role="master", connection_id=1, database=None), p.CLIENT_PROTOCOL_41
        )
        tracker.expect(Pending(p.COM_QUERY, _hook))
        tracker.expect(Pending(p.COM_QUERY, _hook))
        assert feed(tracker, [b""]) == []  # nonsense ends that response as failed, without a hook
        # An EOF cut short after the definitions is taken as an EOF without status.
        assert feed(tracker, [b"\x01", coldef("a"), b"\xfe\x00", b"\x011", p.eof_payload(2)]) == [_hook]
        assert not tracker.pending and tracker.idle.is_set()

    asyncio.run(run())


def test_skip_rows_stops_where_the_tracker_must_look() -> None:
    rows = p.frame(b"\x011", 1) + p.frame(b"\xfb\x012", 2) + p.frame(p.lenenc_str(b"z" * 300), 3)
    end = p.frame(p.eof_payload(2), 4)
    data = rows + end
    assert skip_rows(data, 0, len(data)) == (len(rows), 0)  # stops at the EOF
    assert skip_rows(data, 0, len(rows) - 100) == (len(rows) - 100, 100)  # last row cut by the read
    assert skip_rows(data, 0, 3) == (0, 0)  # a header cut by the read
    err = p.frame(p.err_payload(1317, "70100", "Query execution was interrupted"), 5)
    assert skip_rows(rows + err, 0, len(rows) + len(err)) == (len(rows), 0)


def test_use_target() -> None:
    assert use_target(b"USE foo") == "foo"
    assert use_target(b"  use `a``b` ; ") == "a`b"
    assert use_target(b"USE foo; DROP TABLE x") is None
    assert use_target(b"SELECT 1") is None


# -- the admin client ------------------------------------------------------------------------------------
def test_native_password_scramble_passes_the_servers_check() -> None:
    # The server stores SHA1(SHA1(pw)) (MariaDB: PASSWORD('secret') = '*14E655...') and accepts a
    # scramble s when SHA1(s XOR SHA1(salt + stored)) == stored.
    stored = bytes.fromhex("14E65567ABDB5135D0CFD9A70B3032C179A49EE7")
    salt = bytes(range(1, 21))
    scramble = native_password_scramble("secret", salt)
    mask = hashlib.sha1(salt + stored).digest()
    assert hashlib.sha1(bytes(a ^ b for a, b in zip(scramble, mask, strict=True))).digest() == stored
    assert native_password_scramble("", salt) == b""


@pytest.mark.gateway_only
def test_admin_client_queries_errors_and_reconnects(mariadb: MariaDB) -> None:
    async def run() -> None:
        admin = AdminClient(mariadb.host, mariadb.port, mariadb.admin_user, mariadb.admin_password)
        killer = AdminClient(mariadb.host, mariadb.port, mariadb.admin_user, mariadb.admin_password)
        try:
            cols, rows = await admin.query("SELECT 1 AS a, NULL AS b, _utf8mb4'é😀' AS c")
            assert cols == ["a", "b", "c"] and rows == [("1", None, "é😀")]
            await admin.execute("CREATE DATABASE IF NOT EXISTS gw_proxy_admin")
            await admin.execute(
                "CREATE TABLE gw_proxy_admin.t (id BIGINT AUTO_INCREMENT PRIMARY KEY, v TEXT)"
            )
            assert await admin.execute("INSERT INTO gw_proxy_admin.t (v) VALUES ('x'), ('y')") == (2, 1)
            with pytest.raises(ServerError) as info:
                await admin.query("SELECT * FROM gw_proxy_admin.missing")
            assert (info.value.code, info.value.sqlstate) == (1146, "42S02")
            # The connection dies under it (as when MariaDB restarts): the next statement reconnects.
            old_id = admin.connection_id
            await killer.execute(f"KILL {old_id}")
            await asyncio.sleep(0.2)
            _, rows = await admin.query("SELECT COUNT(*) FROM gw_proxy_admin.t")
            assert rows == [("2",)]
            assert admin.connection_id != old_id
        finally:
            await killer.execute("DROP DATABASE IF EXISTS gw_proxy_admin")
            await admin.close()
            await killer.close()

    asyncio.run(run())


@pytest.mark.gateway_only
def test_admin_client_wrong_password_is_refused(mariadb: MariaDB) -> None:
    admin = AdminClient(mariadb.host, mariadb.port, mariadb.admin_user, "wrong", reconnect_window=0)
    with pytest.raises(ServerError) as info:
        asyncio.run(admin.query("SELECT 1"))
    assert (info.value.code, info.value.sqlstate) == (1045, "28000")
