"""The gateway's proxy: one MariaDB connection per client, bytes relayed, COM_QUERY handed to the engine.

Per client connection (`ClientConnection`):

* **Handshake**: MariaDB's greeting is relayed with the version string replaced (SingleStore answers
  `5.7.32`) and CLIENT_COMPRESS, CLIENT_SSL and MariaDB's extended capabilities masked, so the stream
  stays plain MySQL protocol the gateway can follow. With TLS on, the gateway advertises CLIENT_SSL
  itself, upgrades the client side after the SSLRequest and renumbers the auth packets, because
  MariaDB (plain TCP) never saw that SSLRequest.
* **Authentication** is MariaDB's: packets are relayed untouched (auth switch included) until OK/ERR.
* **Commands**: every client packet with sequence id 0 starts a command. COM_QUERY goes through
  `engine.handle_query()`; everything else is forwarded as is. A 16 MiB+ command is reassembled
  first and split again when forwarded.
* **Fault injection** (`Gateway.stall`, `Gateway.cut_connections`; driven from another process by
  `faults.inject_fault`): a stall holds every new command and connection for some seconds, as a
  network that stops delivering does; a cut resets every client's TCP connection (and its MariaDB
  session) at once, as a crashed load balancer does.
* **Responses** are relayed untouched by `_relay_server`, which reads large chunks and looks only at
  packet headers (plus the few small OK/EOF/ERR payloads) through `responses.ResponseTracker`. One
  exception: when the engine names JSON columns a statement may return (`Forward.json_columns`), the
  column definitions are read and a JSON column's type byte becomes MYSQL_TYPE_JSON (245) where
  MariaDB says LONGTEXT/BLOB (252). That keeps the
  session's status flags current and finds the last packet of each response, so a `Forward.after_ok`
  hook (a catalog update) runs before the client sees the OK of its DDL.

The two listening ports (master and child aggregator roles) share one engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
import ssl
import struct
import subprocess
from pathlib import Path
from typing import Protocol

from tests.testbed.gateway import packets as p
from tests.testbed.gateway.engine import (
    Decision,
    Forward,
    GatewayConfig,
    LocalOK,
    LocalResult,
    Reject,
    SessionState,
)
from tests.testbed.gateway.responses import ROWS, Pending, ResponseTracker, skip_rows

log = logging.getLogger(__name__)

#: What the gateway answers while MariaDB cannot be reached: a server error (a client-side code such as
#: 2003 in an ERR packet makes libmariadb report "2027 Received malformed packet"). 1053
#: ER_SERVER_SHUTDOWN is MySQL's code for a server that cannot serve (assumption: SingleStore's own
#: refusal when it cannot serve is not documented; a stopped aggregator refuses the TCP connection).
SERVER_UNAVAILABLE = 1053


def handshake_refusal(message: str) -> bytes:
    """An ERR packet in place of the server greeting (sequence id 0). No `#SQLSTATE` marker: the
    client has not announced CLIENT_PROTOCOL_41 yet, so the MySQL protocol's handshake-phase ERR is
    code + message only [doc: dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_err_packet.html]."""
    return p.frame(b"\xff" + SERVER_UNAVAILABLE.to_bytes(2, "little") + message.encode("utf-8"), 0)


class QueryEngine(Protocol):
    """What the proxy needs from `engine.Engine` (tests may pass a stand-in)."""

    async def handle_query(self, sql: bytes, session: SessionState) -> Decision: ...

    def on_session_start(self, session: SessionState) -> None: ...

    def on_session_end(self, session: SessionState) -> None: ...


#: Status bits a locally made OK may carry over from the server's last answer (in-transaction,
#: autocommit, NO_BACKSLASH_ESCAPES, read-only transaction); the others describe one response only.
_SESSION_STATUS_BITS = p.SERVER_STATUS_IN_TRANS | p.SERVER_STATUS_AUTOCOMMIT | 0x0200 | 0x2000
_READ_SIZE = 256 * 1024
_AUTH_TIMEOUT = 30.0
_IDLE_TIMEOUT = 30.0
_USE_RE = re.compile(rb"\s*use\s+(?:`((?:[^`]|``)+)`|([A-Za-z0-9_$]+))\s*;?\s*\Z", re.IGNORECASE)


def use_target(sql: bytes) -> str | None:
    """The schema a plain `USE x` statement switches to (None for any other statement)."""
    if len(sql) > 400:
        return None
    m = _USE_RE.match(sql)
    if not m:
        return None
    name = m.group(1).replace(b"``", b"`") if m.group(1) is not None else m.group(2)
    return name.decode("utf-8", "surrogateescape")


# -- one client ----------------------------------------------------------------------------------------
class ClientConnection:
    """Serves one client: its MariaDB connection, the handshake, and the two relay directions."""

    def __init__(self, gateway: Gateway, role: str, sock: socket.socket) -> None:
        self.gateway = gateway
        self.role = role
        #: The client's socket; wrapped in streams (and TLS) once its first packet has been read.
        self.sock = sock
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.up_reader: asyncio.StreamReader | None = None
        self.up_writer: asyncio.StreamWriter | None = None
        self.session: SessionState | None = None
        self.tracker: ResponseTracker | None = None
        self.client_caps = 0

    async def run(self) -> None:
        engine = self.gateway.engine
        started = False
        self.gateway.clients.add(self)
        try:
            await self.gateway.unstalled()
            try:
                self.up_reader, self.up_writer = await asyncio.open_connection(
                    self.gateway.upstream_host, self.gateway.upstream_port, limit=1 << 20
                )
            except OSError as exc:
                refusal = handshake_refusal(
                    f"The server is unavailable: the SingleStore test bed's MariaDB at "
                    f"{self.gateway.upstream_host}:{self.gateway.upstream_port} cannot be reached "
                    f"({exc.strerror or exc})."
                )
                await asyncio.get_running_loop().sock_sendall(self.sock, refusal)
                return
            if not await asyncio.wait_for(self._authenticate(), _AUTH_TIMEOUT):
                return
            assert self.session is not None
            engine.on_session_start(self.session)
            started = True
            await self._relay()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError, TimeoutError) as exc:
            log.debug("client connection ended: %r", exc)
        except p.ProtocolError as exc:
            log.info("protocol error from a client, closing it: %s", exc)
        except Exception:
            log.exception("unexpected error in a client connection; closing it")
        finally:
            self.gateway.clients.discard(self)
            if started and self.session is not None:
                try:
                    engine.on_session_end(self.session)
                except Exception:
                    log.exception("engine.on_session_end failed")
            await _close(self.up_writer)
            if self.writer is not None:
                await _close(self.writer)
            else:
                self.sock.close()

    # -- handshake and authentication --------------------------------------------------------------------
    async def _authenticate(self) -> bool:
        """Relay handshake and auth; True once MariaDB said OK."""
        up_r, up_w = self.up_reader, self.up_writer
        assert up_r is not None and up_w is not None
        config = self.gateway.config
        loop = asyncio.get_running_loop()
        _, greeting = await p.read_packet(up_r)
        if greeting[:1] == b"\xff":  # e.g. too many connections: relay MariaDB's refusal
            await loop.sock_sendall(self.sock, p.frame(greeting, 0))
            return False
        hs = p.Handshake.parse(greeting)
        tls = self.gateway.tls
        mine = hs.build(
            server_version=config.handshake_version.encode("ascii"),
            clear_caps=p.CLIENT_COMPRESS | p.CLIENT_SSL,
            set_caps=p.CLIENT_SSL if tls is not None else 0,
        )
        await loop.sock_sendall(self.sock, p.frame(mine, 0))

        # The first client packet is read straight from the socket, byte-exact: after an SSLRequest
        # the TLS ClientHello follows at once, and a stream reader would swallow it into its buffer.
        seq, response = await _sock_read_packet(self.sock)
        parsed = p.HandshakeResponse.parse(response)
        shift = 0  # client seq - MariaDB seq during authentication
        if parsed.is_ssl_request and tls is None:
            raise p.ProtocolError("SSLRequest but the gateway does not offer TLS")
        self.reader, self.writer = await _wrap_socket(self.sock, tls if parsed.is_ssl_request else None)
        if parsed.is_ssl_request:
            seq, response = await p.read_packet(self.reader)
            parsed = p.HandshakeResponse.parse(response)
            shift = 1
        self.client_caps = parsed.capabilities
        database = parsed.database.decode("utf-8", "surrogateescape") if parsed.database else None
        self.session = SessionState(role=self.role, connection_id=hs.connection_id, database=database)
        self.tracker = ResponseTracker(self.session, self.client_caps)
        up_w.write(
            p.frame(p.with_capabilities_cleared(response, p.CLIENT_SSL | p.CLIENT_COMPRESS), seq - shift)
        )

        while True:
            seq, payload = await p.read_packet(up_r)
            self.writer.write(p.frame(payload, seq + shift))
            await self.writer.drain()
            head = payload[:1]
            if head == b"\x00":
                self.tracker.set_status(p.ok_status(payload)[0])
                return True
            if head == b"\xff":
                return False
            if payload == b"\x01\x03":  # "fast auth OK": the server goes on without a client packet
                continue
            seq, payload = await p.read_packet(self.reader)
            up_w.write(p.frame(payload, seq - shift))

    def cut(self) -> None:
        """Reset both TCP connections now (SO_LINGER 0: an RST, not a FIN), unflushed data dropped."""
        for writer in (self.writer, self.up_writer):
            if writer is None:
                continue
            sock = writer.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
        if self.writer is None:
            with contextlib.suppress(OSError):  # shutdown, not close: the loop may be reading it
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.sock.shutdown(socket.SHUT_RDWR)

    # -- command phase ---------------------------------------------------------------------------------------
    async def _relay(self) -> None:
        tasks = [
            asyncio.create_task(self._relay_client(), name="gateway-client-to-server"),
            asyncio.create_task(self._relay_server(), name="gateway-server-to-client"),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                raise result

    async def _relay_client(self) -> None:
        """Client → MariaDB: re-frame packets; hand commands (sequence id 0) to `_command`."""
        reader, up = self.reader, self.up_writer
        tracker = self.tracker
        assert reader is not None and up is not None and tracker is not None
        while True:
            try:
                header = await reader.readexactly(4)
            except asyncio.IncompleteReadError as exc:
                if exc.partial:
                    raise
                return  # the client closed between packets
            length = header[0] | header[1] << 8 | header[2] << 16
            payload = await reader.readexactly(length) if length else b""
            if header[3] != 0 or tracker.infile:
                # Not a command: LOCAL INFILE data (its sequence ids may wrap to 0), auth data of a
                # COM_CHANGE_USER, or garbage MariaDB will refuse. Forward as is.
                if tracker.infile and length == 0:
                    tracker.infile = False
                up.write(header + payload)
                await up.drain()
                continue
            if length == p.MAX_CHUNK:
                parts = [payload]
                chunk = payload
                while len(chunk) == p.MAX_CHUNK:
                    _, chunk = await p.read_packet(reader)
                    parts.append(chunk)
                payload = b"".join(parts)
            await self._command(payload)

    async def _command(self, payload: bytes) -> None:
        up, tracker, session = self.up_writer, self.tracker, self.session
        assert up is not None and tracker is not None and session is not None
        await self.gateway.unstalled()
        command = payload[0] if payload else -1
        if command != p.COM_QUERY:
            database = None
            if command == p.COM_INIT_DB:
                database = payload[1:].decode("utf-8", "surrogateescape")
            elif command == p.COM_CHANGE_USER:
                database = _change_user_database(payload, self.client_caps)
            tracker.expect(Pending(command, None, database))
            up.write(p.frame(payload, 0))
            await up.drain()
            return
        if self.gateway.latency:
            await asyncio.sleep(self.gateway.latency)
        sql = payload[1:]
        try:
            decision: Decision = await self.gateway.engine.handle_query(sql, session)
        except Exception as exc:
            log.exception("engine.handle_query failed for %r", sql[:200])
            decision = Reject(1105, "HY000", f"gateway internal error: {exc!r}")
        if isinstance(decision, Forward):
            tracker.expect(
                Pending(p.COM_QUERY, decision.after_ok, use_target(decision.sql), decision.json_columns)
            )
            up.write(p.frame(b"\x03" + decision.sql, 0))
            await up.drain()
            return
        answer = self._local_answer(decision)
        try:  # never interleave with a response still being relayed (a pipelining client)
            await asyncio.wait_for(tracker.idle.wait(), _IDLE_TIMEOUT)
        except TimeoutError:  # the tracker lost count (a command it does not know): answer anyway
            log.warning(
                "no end seen for %d pending response(s); answering locally anyway", len(tracker.pending)
            )
        assert self.writer is not None
        self.writer.write(answer)
        await self.writer.drain()

    def _local_answer(self, decision: Decision) -> bytes:
        assert self.session is not None
        status = self.session.status_flags & _SESSION_STATUS_BITS
        if isinstance(decision, Reject):
            return p.frame(p.err_payload(decision.code, decision.sqlstate, decision.message), 1)
        if isinstance(decision, LocalOK):
            ok = p.ok_payload(
                affected_rows=decision.affected_rows,
                status=status,
                info=decision.info,
                capabilities=self.client_caps,
            )
            return p.frame(ok, 1)
        if isinstance(decision, LocalResult):
            return p.result_set(decision.columns, decision.rows, status=status, capabilities=self.client_caps)
        raise TypeError(f"unknown engine decision {decision!r}")

    async def _relay_server(self) -> None:
        """MariaDB → client: pass bytes through in large chunks, parsing only packet headers.

        `skip` counts payload bytes of the current packet that nobody needs to look at (rows, column
        definitions, 16 MiB continuation chunks). Packets the tracker wants whole are small; one split
        across two reads is carried over to the next read.
        """
        reader, writer, tracker = self.up_reader, self.writer, self.tracker
        assert reader is not None and writer is not None and tracker is not None
        carry: bytes | bytearray = b""
        skip = 0
        continued = False  # the previous packet was a 0xFFFFFF chunk: this one continues it
        while True:
            data: bytes | bytearray = await reader.read(_READ_SIZE)
            if not data:
                if carry:
                    writer.write(carry)
                return
            if carry:
                data = carry + data
                carry = b""
            n = len(data)
            i = start = 0
            while i < n:
                if skip:
                    step = min(skip, n - i)
                    i += step
                    skip -= step
                    continue
                if tracker.state == ROWS and not continued:
                    i, skip = skip_rows(data, i, n)
                    if skip or i >= n:
                        continue
                if n - i < 4:
                    break
                length = data[i] | data[i + 1] << 8 | data[i + 2] << 16
                if length and n - i < 5:
                    break  # the first payload byte is still to come
                if continued:
                    continued = length == p.MAX_CHUNK
                    i += 4
                    skip = length
                    continue
                continued = length == p.MAX_CHUNK
                first = data[i + 4] if length else 0
                if tracker.needs_payload(first, length):  # (an empty packet gives b"")
                    end = i + 4 + length
                    if end > n:
                        continued = False
                        break
                    hook = tracker.on_packet(first, bytes(data[i + 4 : end]))
                    if tracker.retype_json:  # a JSON column's definition: SingleStore's wire type
                        tracker.retype_json = False
                        if not isinstance(data, bytearray):
                            data = bytearray(data)
                        data[end - 6] = p.MYSQL_TYPE_JSON
                    if hook is not None:
                        writer.write(data[start:i])
                        start = i
                        try:
                            await hook()
                        except Exception:
                            log.exception("after_ok hook failed; relaying the server's OK anyway")
                    i = end
                else:
                    tracker.on_packet(first, None)
                    i += 4
                    skip = length
            writer.write(data[start:i])
            if i < n:
                carry = data[i:]
            tracker.settle()
            await writer.drain()


def _change_user_database(payload: bytes, caps: int) -> str | None:
    """The schema named in a COM_CHANGE_USER (user, auth data, schema, ...)."""
    try:
        _, pos = p.read_nul_str(payload, 1)
        pos += (
            1 + payload[pos]
            if caps & p.CLIENT_SECURE_CONNECTION
            else len(p.read_nul_str(payload, pos)[0]) + 1
        )
        name, _ = p.read_nul_str(payload + b"\x00", pos)
    except (IndexError, ValueError):
        return None
    return name.decode("utf-8", "surrogateescape")


async def _sock_read_packet(sock: socket.socket) -> tuple[int, bytes]:
    """One packet read from a raw socket without reading a byte past it."""
    header = await _sock_read_exactly(sock, 4)
    return header[3], await _sock_read_exactly(sock, header[0] | header[1] << 8 | header[2] << 16)


async def _sock_read_exactly(sock: socket.socket, n: int) -> bytes:
    loop = asyncio.get_running_loop()
    buf = bytearray()
    while len(buf) < n:
        chunk = await loop.sock_recv(sock, n - len(buf))
        if not chunk:
            raise asyncio.IncompleteReadError(bytes(buf), n)
        buf += chunk
    return bytes(buf)


async def _wrap_socket(
    sock: socket.socket, tls: ssl.SSLContext | None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Stream reader/writer over an accepted socket, as the TLS server side when `tls` is given."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 20)
    protocol = asyncio.StreamReaderProtocol(reader)
    transport, _ = await loop.connect_accepted_socket(lambda: protocol, sock, ssl=tls)
    return reader, asyncio.StreamWriter(transport, protocol, reader, loop)


async def _close(writer: asyncio.StreamWriter | None) -> None:
    if writer is None:
        return
    with contextlib.suppress(Exception):
        writer.close()
        await asyncio.wait_for(writer.wait_closed(), 5)


# -- the gateway -------------------------------------------------------------------------------------------
class Gateway:
    """Two listening ports (master and child aggregator roles) in front of one MariaDB."""

    def __init__(
        self,
        engine: QueryEngine,
        config: GatewayConfig,
        upstream_host: str,
        upstream_port: int,
        *,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.engine = engine
        self.config = config
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self.tls = tls
        self.latency = config.latency_ms / 1000.0
        self._listeners: dict[str, socket.socket] = {}
        self._accept_tasks: list[asyncio.Task[None]] = []
        self._connections: set[asyncio.Task[None]] = set()
        #: The client connections being served (for `cut_connections`).
        self.clients: set[ClientConnection] = set()
        self._running = asyncio.Event()
        self._running.set()
        self._stall_end: asyncio.TimerHandle | None = None

    # -- fault injection -------------------------------------------------------------------------------------
    async def unstalled(self) -> None:
        """Return at once, or when the current stall ends."""
        if not self._running.is_set():
            await self._running.wait()

    def stall(self, seconds: float) -> None:
        """Hold every command and every new connection for `seconds` (bytes already sent to MariaDB
        are answered; the answers of held commands come after the stall). A new stall replaces one
        still running."""
        if self._stall_end is not None:
            self._stall_end.cancel()
        self._running.clear()
        self._stall_end = asyncio.get_running_loop().call_later(seconds, self._running.set)

    def cut_connections(self) -> int:
        """Reset every client's TCP connection and its MariaDB connection; returns how many."""
        clients = list(self.clients)
        for client in clients:
            client.cut()
        return len(clients)

    async def start(self, master_port: int = 0, child_port: int = 0, host: str = "127.0.0.1") -> None:
        """Listen on both ports. Accepting is done by hand (not `asyncio.start_server`) because the
        first client packet must be read from the raw socket (see `ClientConnection._authenticate`)."""
        for role, port in (("master", master_port), ("child", child_port)):
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((host, port))
            listener.listen(1024)
            listener.setblocking(False)
            self._listeners[role] = listener
            self._accept_tasks.append(asyncio.create_task(self._accept_loop(role, listener)))
        self.config.master_port = self.master_port

    def _port(self, role: str) -> int:
        return int(self._listeners[role].getsockname()[1])

    @property
    def master_port(self) -> int:
        return self._port("master")

    @property
    def child_port(self) -> int:
        return self._port("child")

    async def _accept_loop(self, role: str, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                sock, _ = await loop.sock_accept(listener)
            except OSError as exc:  # e.g. EMFILE: keep serving the connections we have
                log.warning("accept failed on the %s port: %s", role, exc)
                await asyncio.sleep(0.1)
                continue
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            task = asyncio.create_task(
                ClientConnection(self, role, sock).run(), name=f"gateway-{role}-client"
            )
            self._connections.add(task)
            task.add_done_callback(self._connections.discard)

    async def close(self) -> None:
        """Stop listening, end every client connection, and wait until all tasks are gone."""
        for task in self._accept_tasks:
            task.cancel()
        await asyncio.gather(*self._accept_tasks, return_exceptions=True)
        for listener in self._listeners.values():
            listener.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)


def make_tls_context(state_dir: Path) -> tuple[ssl.SSLContext, Path]:
    """A server context with a fresh self-signed certificate for 127.0.0.1/localhost (made by openssl).

    Returns (context, certificate path); clients trust the certificate itself as their CA.
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    cert, key = state_dir / "gateway-cert.pem", state_dir / "gateway-key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "7",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context, cert
