"""MySQL client/server protocol pieces the gateway needs, and nothing more.

A packet on the wire is a 3-byte little-endian payload length, a 1-byte sequence id and the payload.
A payload of 16 MiB - 1 (0xFFFFFF) or more is split into 0xFFFFFF-byte chunks followed by a shorter
(possibly empty) one, all with consecutive sequence ids.

The gateway relays the server's bytes untouched, so this module only parses what it must look at
(the handshake, the client's handshake response, the header fields of OK/EOF/ERR packets) and builds
the few packets the gateway answers on its own (ERR, OK, a text result set).
Reference: the MariaDB/MySQL client-server protocol documentation (mariadb.com/kb "Clientserver
Protocol", dev.mysql.com "Client/Server Protocol").
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass

MAX_CHUNK = 0xFFFFFF

# -- capability flags (the subset the gateway reads or changes) -------------------------------------
CLIENT_LONG_PASSWORD = 0x00000001  # MariaDB: "CLIENT_MYSQL"; unset by MariaDB servers → extended caps
CLIENT_FOUND_ROWS = 0x00000002
CLIENT_CONNECT_WITH_DB = 0x00000008
CLIENT_COMPRESS = 0x00000020
CLIENT_LOCAL_FILES = 0x00000080
CLIENT_PROTOCOL_41 = 0x00000200
CLIENT_SSL = 0x00000800
CLIENT_TRANSACTIONS = 0x00002000
CLIENT_SECURE_CONNECTION = 0x00008000
CLIENT_MULTI_STATEMENTS = 0x00010000
CLIENT_MULTI_RESULTS = 0x00020000
CLIENT_PLUGIN_AUTH = 0x00080000
CLIENT_CONNECT_ATTRS = 0x00100000
CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA = 0x00200000
CLIENT_SESSION_TRACK = 0x00800000
CLIENT_DEPRECATE_EOF = 0x01000000

# -- server status flags ----------------------------------------------------------------------------
SERVER_STATUS_IN_TRANS = 0x0001
SERVER_STATUS_AUTOCOMMIT = 0x0002
SERVER_MORE_RESULTS_EXISTS = 0x0008
SERVER_STATUS_CURSOR_EXISTS = 0x0040

# -- commands ---------------------------------------------------------------------------------------
COM_QUIT = 0x01
COM_INIT_DB = 0x02
COM_QUERY = 0x03
COM_FIELD_LIST = 0x04
COM_STATISTICS = 0x09
COM_PING = 0x0E
COM_CHANGE_USER = 0x11
COM_STMT_PREPARE = 0x16
COM_STMT_EXECUTE = 0x17
COM_STMT_SEND_LONG_DATA = 0x18
COM_STMT_CLOSE = 0x19
COM_STMT_FETCH = 0x1C
#: Commands the server never answers: the gateway must not wait for a response to them.
NO_RESPONSE_COMMANDS = frozenset({COM_QUIT, COM_STMT_SEND_LONG_DATA, COM_STMT_CLOSE})

# -- column types / charsets used in synthesized result sets -----------------------------------------
MYSQL_TYPE_VAR_STRING = 0xFD
MYSQL_TYPE_JSON = 0xF5  # 245
UTF8MB4_GENERAL_CI = 45


class ProtocolError(Exception):
    """The peer sent bytes that are not the MySQL protocol the gateway expects."""


# -- length-encoded integers and strings --------------------------------------------------------------
def lenenc_int(value: int) -> bytes:
    """Encode a length-encoded integer (1, 3, 4 or 9 bytes)."""
    if value < 0xFB:
        return bytes((value,))
    if value < 1 << 16:
        return b"\xfc" + value.to_bytes(2, "little")
    if value < 1 << 24:
        return b"\xfd" + value.to_bytes(3, "little")
    return b"\xfe" + value.to_bytes(8, "little")


def lenenc_str(value: bytes) -> bytes:
    return lenenc_int(len(value)) + value


def read_lenenc_int(buf: bytes | memoryview, pos: int) -> tuple[int | None, int]:
    """Decode a length-encoded integer at `pos`: (value, next position). 0xFB (SQL NULL) gives None."""
    first = buf[pos]
    if first < 0xFB:
        return first, pos + 1
    if first == 0xFB:
        return None, pos + 1
    if first == 0xFC:
        return int.from_bytes(buf[pos + 1 : pos + 3], "little"), pos + 3
    if first == 0xFD:
        return int.from_bytes(buf[pos + 1 : pos + 4], "little"), pos + 4
    if first == 0xFE:
        return int.from_bytes(buf[pos + 1 : pos + 9], "little"), pos + 9
    raise ProtocolError("0xFF is not a length-encoded integer")


def read_lenenc_str(buf: bytes, pos: int) -> tuple[bytes | None, int]:
    length, pos = read_lenenc_int(buf, pos)
    if length is None:
        return None, pos
    return buf[pos : pos + length], pos + length


def column_origin(payload: bytes) -> tuple[bytes, bytes, bytes] | None:
    """(schema, org_table, org_name) of a Protocol::ColumnDefinition41 payload; None when malformed.
    Its fixed tail is 13 bytes (0x0c, charset 2, length 4, type 1, flags 2, decimals 1, filler 2), so the
    type byte is ``payload[-6]`` (COM_QUERY answers carry no default value after it)."""
    try:
        _, pos = read_lenenc_str(payload, 0)  # catalog "def"
        schema, pos = read_lenenc_str(payload, pos)
        _, pos = read_lenenc_str(payload, pos)  # table alias
        org_table, pos = read_lenenc_str(payload, pos)
        _, pos = read_lenenc_str(payload, pos)  # column alias
        org_name, pos = read_lenenc_str(payload, pos)
    except (IndexError, ValueError, ProtocolError):
        return None
    if schema is None or org_table is None or org_name is None or len(payload) - pos != 13:
        return None
    return schema, org_table, org_name


def read_nul_str(buf: bytes, pos: int) -> tuple[bytes, int]:
    end = buf.index(b"\x00", pos)
    return buf[pos:end], end + 1


# -- framing ---------------------------------------------------------------------------------------------
def frame(payload: bytes, seq: int) -> bytes:
    """Frame one logical payload as packets starting at `seq`, splitting it into 16 MiB chunks."""
    if len(payload) < MAX_CHUNK:
        return struct.pack("<I", len(payload))[:3] + bytes((seq & 0xFF,)) + payload
    parts = []
    view = memoryview(payload)
    pos = 0
    while True:
        chunk = view[pos : pos + MAX_CHUNK]
        parts.append(struct.pack("<I", len(chunk))[:3] + bytes((seq & 0xFF,)))
        parts.append(bytes(chunk))
        seq += 1
        pos += len(chunk)
        if len(chunk) < MAX_CHUNK:
            return b"".join(parts)


def frame_count(payload_len: int) -> int:
    """How many packets `frame()` makes of a payload this long."""
    return payload_len // MAX_CHUNK + 1


async def read_packet(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Read one physical packet: (sequence id, payload). Raises IncompleteReadError at EOF."""
    header = await reader.readexactly(4)
    length = header[0] | header[1] << 8 | header[2] << 16
    return header[3], await reader.readexactly(length) if length else b""


async def read_logical_packet(reader: asyncio.StreamReader) -> tuple[int, bytes, int]:
    """Read a packet and, if it is 0xFFFFFF long, its continuation chunks.

    Returns (first sequence id, whole payload, number of physical packets).
    """
    seq, payload = await read_packet(reader)
    if len(payload) < MAX_CHUNK:
        return seq, payload, 1
    parts = [payload]
    count = 1
    while len(payload) == MAX_CHUNK:
        _, payload = await read_packet(reader)
        parts.append(payload)
        count += 1
    return seq, b"".join(parts), count


# -- handshake -------------------------------------------------------------------------------------------
@dataclass
class Handshake:
    """The server's initial handshake (protocol v10), split so that it can be rebuilt.

    `tail` is everything after the upper capability bytes (auth data length, the reserved bytes
    holding MariaDB's extended capabilities, scramble part 2, plugin name), kept verbatim except for
    the extended-capability word, which the gateway can clear.
    """

    server_version: bytes
    connection_id: int
    scramble1: bytes
    capabilities: int
    charset: int
    status: int
    tail: bytes

    @classmethod
    def parse(cls, payload: bytes) -> Handshake:
        if not payload or payload[0] != 10:
            raise ProtocolError(f"unsupported handshake protocol {payload[:1]!r}")
        version, pos = read_nul_str(payload, 1)
        (conn_id,) = struct.unpack_from("<I", payload, pos)
        scramble1 = payload[pos + 4 : pos + 12]
        pos += 13  # 8 scramble bytes + filler
        (cap_lo,) = struct.unpack_from("<H", payload, pos)
        if len(payload) <= pos + 2:  # a pre-4.1 server; nothing more to read
            return cls(version, conn_id, scramble1, cap_lo, 0, 0, b"")
        charset = payload[pos + 2]
        (status, cap_hi) = struct.unpack_from("<HH", payload, pos + 3)
        return cls(version, conn_id, scramble1, cap_lo | cap_hi << 16, charset, status, payload[pos + 7 :])

    def scramble(self) -> bytes:
        """The full auth-plugin data (scramble parts 1 and 2, without the trailing NUL)."""
        if not self.capabilities & CLIENT_SECURE_CONNECTION or len(self.tail) < 11:
            return self.scramble1
        part2_len = max(13, self.tail[0] - 8)
        return self.scramble1 + self.tail[11 : 11 + part2_len].rstrip(b"\x00")

    def plugin_name(self) -> str:
        if not self.capabilities & CLIENT_PLUGIN_AUTH or len(self.tail) < 11:
            return "mysql_native_password"
        part2_len = max(13, self.tail[0] - 8)
        name, _ = read_nul_str(self.tail + b"\x00", 11 + part2_len)
        return name.decode("ascii", "replace")

    def build(
        self,
        *,
        server_version: bytes | None = None,
        clear_caps: int = 0,
        set_caps: int = 0,
        clear_mariadb_ext: bool = True,
    ) -> bytes:
        """Re-encode the handshake with a new version string and capability changes.

        `clear_mariadb_ext` zeroes MariaDB's extended capabilities (bytes 7..10 of the reserved area,
        progress reports, bulk operations, extended metadata, metadata caching) and sets the MySQL
        capability bit, so clients speak plain MySQL protocol as they would to SingleStore; the
        response tracker then never meets MariaDB-only packet shapes (e.g. progress reports).
        """
        caps = (self.capabilities & ~clear_caps) | set_caps
        tail = self.tail
        if clear_mariadb_ext and len(tail) >= 11 and not self.capabilities & CLIENT_LONG_PASSWORD:
            tail = tail[:7] + b"\x00\x00\x00\x00" + tail[11:]
            caps |= CLIENT_LONG_PASSWORD
        return b"".join(
            (
                b"\x0a",
                server_version if server_version is not None else self.server_version,
                b"\x00",
                struct.pack("<I", self.connection_id),
                self.scramble1,
                b"\x00",
                struct.pack("<HBHH", caps & 0xFFFF, self.charset, self.status, caps >> 16),
                tail,
            )
        )


@dataclass
class HandshakeResponse:
    """What the gateway needs from the client's HandshakeResponse41 (or SSLRequest)."""

    capabilities: int
    user: bytes = b""
    database: bytes | None = None
    is_ssl_request: bool = False

    @classmethod
    def parse(cls, payload: bytes) -> HandshakeResponse:
        try:
            return cls._parse(payload)
        except (IndexError, ValueError, struct.error) as exc:
            raise ProtocolError(f"malformed handshake response: {exc}") from exc

    @classmethod
    def _parse(cls, payload: bytes) -> HandshakeResponse:
        if len(payload) < 4:
            raise ProtocolError("handshake response too short")
        (caps,) = struct.unpack_from("<I", payload, 0)
        if not caps & CLIENT_PROTOCOL_41:
            raise ProtocolError("pre-4.1 clients are not supported")
        if len(payload) == 32 and caps & CLIENT_SSL:
            return cls(caps, is_ssl_request=True)
        user, pos = read_nul_str(payload, 32)
        if caps & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA:
            auth_len, pos = read_lenenc_int(payload, pos)
            pos += auth_len or 0
        elif caps & CLIENT_SECURE_CONNECTION:
            pos += 1 + payload[pos]
        else:
            _, pos = read_nul_str(payload, pos)
        database = None
        if caps & CLIENT_CONNECT_WITH_DB and pos < len(payload):
            database, pos = read_nul_str(payload + b"\x00", pos)
        return cls(caps, user, database or None)


def with_capabilities_cleared(response: bytes, caps: int) -> bytes:
    """The client's handshake response with some capability bits cleared (auth data untouched)."""
    (old,) = struct.unpack_from("<I", response, 0)
    return struct.pack("<I", old & ~caps) + response[4:]


# -- OK / EOF / ERR parsing --------------------------------------------------------------------------------
def ok_status(payload: bytes) -> tuple[int, int]:
    """(status flags, warnings) of an OK packet (header 0x00, or 0xFE when it replaces EOF)."""
    _, pos = read_lenenc_int(payload, 1)  # affected rows
    _, pos = read_lenenc_int(payload, pos)  # last insert id
    if len(payload) < pos + 4:
        return 0, 0
    return struct.unpack_from("<HH", payload, pos)[0], struct.unpack_from("<H", payload, pos + 2)[0]


def eof_status(payload: bytes) -> int:
    """Status flags of a classic EOF packet (0xFE, warnings, status)."""
    return struct.unpack_from("<H", payload, 3)[0] if len(payload) >= 5 else 0


@dataclass
class ServerErrorPacket:
    code: int
    sqlstate: str
    message: str


def parse_err(payload: bytes) -> ServerErrorPacket:
    (code,) = struct.unpack_from("<H", payload, 1)
    if payload[3:4] == b"#":
        return ServerErrorPacket(
            code, payload[4:9].decode("ascii", "replace"), payload[9:].decode("utf-8", "replace")
        )
    return ServerErrorPacket(code, "HY000", payload[3:].decode("utf-8", "replace"))


# -- builders ---------------------------------------------------------------------------------------------
def err_payload(code: int, sqlstate: str, message: str) -> bytes:
    """An ERR packet payload with the SQLSTATE marker (every 4.1+ client reads it)."""
    if len(sqlstate) != 5:
        raise ValueError(f"SQLSTATE must have 5 characters: {sqlstate!r}")
    return b"\xff" + struct.pack("<H", code) + b"#" + sqlstate.encode("ascii") + message.encode("utf-8")


def ok_payload(
    *,
    affected_rows: int = 0,
    last_insert_id: int = 0,
    status: int = SERVER_STATUS_AUTOCOMMIT,
    warnings: int = 0,
    info: str = "",
    capabilities: int = CLIENT_PROTOCOL_41,
    header: int = 0x00,
) -> bytes:
    """An OK packet payload. `header=0xFE` makes the OK that ends a result set under DEPRECATE_EOF."""
    parts = [bytes((header,)), lenenc_int(affected_rows), lenenc_int(last_insert_id)]
    if capabilities & CLIENT_PROTOCOL_41:
        parts.append(struct.pack("<HH", status, warnings))
    elif capabilities & CLIENT_TRANSACTIONS:
        parts.append(struct.pack("<H", status))
    if info:
        encoded = info.encode("utf-8")
        # With SESSION_TRACK the info is a length-encoded string; otherwise it runs to the end.
        parts.append(lenenc_str(encoded) if capabilities & CLIENT_SESSION_TRACK else encoded)
    return b"".join(parts)


def eof_payload(status: int, warnings: int = 0) -> bytes:
    return b"\xfe" + struct.pack("<HH", warnings, status)


def column_definition(name: str) -> bytes:
    """A ColumnDefinition41 for a VAR_STRING utf8mb4 column of a synthesized result set."""
    encoded = name.encode("utf-8")
    return b"".join(
        (
            lenenc_str(b"def"),
            lenenc_str(b""),  # schema
            lenenc_str(b""),  # table
            lenenc_str(b""),  # org_table
            lenenc_str(encoded),
            lenenc_str(encoded),  # org_name
            b"\x0c",
            struct.pack("<HIBHB", UTF8MB4_GENERAL_CI, 1 << 24, MYSQL_TYPE_VAR_STRING, 0, 0),
            b"\x00\x00",
        )
    )


def result_set(
    columns: list[str],
    rows: list[tuple[str | None, ...]],
    *,
    status: int,
    capabilities: int,
    seq: int = 1,
) -> bytes:
    """A complete text-protocol result set, framed from `seq` on: count, definitions, [EOF], rows, end."""
    deprecate_eof = bool(capabilities & CLIENT_DEPRECATE_EOF)
    payloads = [lenenc_int(len(columns))]
    payloads.extend(column_definition(name) for name in columns)
    if not deprecate_eof:
        payloads.append(eof_payload(status))
    for row in rows:
        if len(row) != len(columns):
            raise ValueError(f"row has {len(row)} values for {len(columns)} columns")
        payloads.append(
            b"".join(b"\xfb" if value is None else lenenc_str(value.encode("utf-8")) for value in row)
        )
    if deprecate_eof:
        payloads.append(ok_payload(status=status, capabilities=capabilities, header=0xFE))
    else:
        payloads.append(eof_payload(status))
    out = []
    for payload in payloads:
        out.append(frame(payload, seq))
        seq += frame_count(len(payload))
    return b"".join(out)
