"""How the proxy carries out each engine decision, with a stand-in engine so the rules stay out of it.

The gateway runs in this process (its own event loop in a thread), in front of the session's MariaDB:
Reject / LocalOK / LocalResult answers as the drivers decode them, `after_ok` ordering, the session
state the proxy keeps for the engine, and a clean shutdown (no task or socket left behind).
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import aiomysql
import MySQLdb
import pytest

from tests.testbed import Endpoint
from tests.testbed.gateway import packets as p
from tests.testbed.gateway.client import AdminClient, ServerError, native_password_scramble
from tests.testbed.gateway.engine import (
    Decision,
    Forward,
    GatewayConfig,
    LocalOK,
    LocalResult,
    Reject,
    SessionState,
)
from tests.testbed.gateway.server import Gateway
from tests.testbed.mariadb import MariaDB

pytestmark = pytest.mark.gateway_only

REJECT = Reject(1706, "HY000", "Feature 'SAVEPOINT' is not supported by SingleStore")
LOCAL_ROWS: list[tuple[str | None, ...]] = [("1", None), ("é😀", "x" * 300)]


@dataclass
class StandInEngine:
    """Answers a few marker statements itself and forwards everything else unchanged."""

    events: list[str] = field(default_factory=list)
    sessions: list[SessionState] = field(default_factory=list)
    ended: list[SessionState] = field(default_factory=list)

    def on_session_start(self, session: SessionState) -> None:
        self.sessions.append(session)

    def on_session_end(self, session: SessionState) -> None:
        self.ended.append(session)

    async def handle_query(self, sql: bytes, session: SessionState) -> Decision:
        if sql == b"SELECT 'reject me'":
            return REJECT
        if sql == b"DO 'local ok'":
            return LocalOK(affected_rows=3)
        if sql == b"SHOW LOCAL THINGS":
            return LocalResult(["a", "b"], LOCAL_ROWS)
        if sql == b"SELECT 'crash'":
            raise RuntimeError("engine bug")
        if sql.startswith(b"CREATE TABLE"):

            async def catalog_update() -> None:
                self.events.append("hook start")
                await asyncio.sleep(0.3)
                self.events.append("hook end")

            return Forward(sql, catalog_update)
        return Forward(sql)


@dataclass
class InProcessGateway:
    gateway: Gateway
    engine: StandInEngine
    loop: asyncio.AbstractEventLoop
    master: Endpoint
    child: Endpoint

    def run(self, coro: object) -> object:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)  # type: ignore[arg-type]


@pytest.fixture
def inproc(mariadb: MariaDB) -> Iterator[InProcessGateway]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="gateway-loop", daemon=True)
    thread.start()
    engine = StandInEngine()
    gateway = Gateway(engine, GatewayConfig(), mariadb.host, mariadb.port)
    asyncio.run_coroutine_threadsafe(gateway.start(), loop).result(10)

    def ep(port: int) -> Endpoint:
        return Endpoint("127.0.0.1", port, mariadb.user, mariadb.password, mariadb.database)

    try:
        yield InProcessGateway(gateway, engine, loop, ep(gateway.master_port), ep(gateway.child_port))
    finally:
        asyncio.run_coroutine_threadsafe(gateway.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def test_reject_is_an_err_packet_with_sqlstate_and_the_session_goes_on(inproc: InProcessGateway) -> None:
    async def run() -> None:
        client = AdminClient("127.0.0.1", inproc.master.port, inproc.master.user, inproc.master.password)
        try:
            with pytest.raises(ServerError) as info:
                await client.query("SELECT 'reject me'")
            assert (info.value.code, info.value.sqlstate, info.value.message) == (
                REJECT.code,
                REJECT.sqlstate,
                REJECT.message,
            )
            assert await client.query("SELECT 'next'") == (["next"], [("next",)])
        finally:
            await client.close()

    asyncio.run(run())
    conn = MySQLdb.connect(**inproc.master.mysqldb_kwargs())
    with pytest.raises(MySQLdb.Error) as info, conn.cursor() as cur:
        cur.execute("SELECT 'reject me'")
    assert info.value.args == (REJECT.code, REJECT.message)
    conn.close()


def test_local_ok_and_result_with_mysqldb(inproc: InProcessGateway) -> None:
    conn = MySQLdb.connect(**inproc.master.mysqldb_kwargs(charset="utf8mb4"))
    with conn.cursor() as cur:
        cur.execute("DO 'local ok'")
        assert cur.rowcount == 3
        cur.execute("SHOW LOCAL THINGS")
        assert cur.fetchall() == tuple(LOCAL_ROWS)
        assert [d[0] for d in cur.description] == ["a", "b"]
        assert cur.description[0][1] == MySQLdb.constants.FIELD_TYPE.VAR_STRING
        # A local OK inside a transaction keeps the transaction flags the server last reported.
        conn.autocommit(False)
        cur.execute("SELECT 1")
        cur.execute("DO 'local ok'")
        assert conn.get_autocommit() is False
        conn.rollback()
    conn.close()


@pytest.mark.asyncio
async def test_local_ok_and_result_with_aiomysql(inproc: InProcessGateway) -> None:
    conn = await aiomysql.connect(**inproc.child.aiomysql_kwargs(charset="utf8mb4"))
    try:
        async with conn.cursor() as cur:
            await cur.execute("SHOW LOCAL THINGS")
            assert await cur.fetchall() == tuple(LOCAL_ROWS)
            await conn.begin()
            await cur.execute("SELECT 1")
            await cur.execute("DO 'local ok'")
            assert cur.rowcount == 3
            assert conn.get_transaction_status()  # IN_TRANS carried into the local OK
            await conn.rollback()
            await cur.execute("DO 'local ok'")
            assert not conn.get_transaction_status()
    finally:
        await conn.ensure_closed()


def test_engine_failure_becomes_an_error_not_a_dead_connection(inproc: InProcessGateway) -> None:
    conn = MySQLdb.connect(**inproc.master.mysqldb_kwargs())
    with pytest.raises(MySQLdb.Error) as info, conn.cursor() as cur:
        cur.execute("SELECT 'crash'")
    assert info.value.args[0] == 1105 and "engine bug" in info.value.args[1]
    with conn.cursor() as cur:
        cur.execute("SELECT 5")
        assert cur.fetchone() == (5,)
    conn.close()


def test_after_ok_runs_before_the_client_sees_ok_and_not_after_an_error(inproc: InProcessGateway) -> None:
    conn = MySQLdb.connect(**inproc.master.mysqldb_kwargs())
    with conn.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS gw_proxy_local_hook")
        cur.execute("CREATE DATABASE gw_proxy_local_hook")
        started = time.perf_counter()
        cur.execute("CREATE TABLE gw_proxy_local_hook.t (id INT PRIMARY KEY)")
        elapsed = time.perf_counter() - started
        assert inproc.engine.events == ["hook start", "hook end"]  # done before execute() returned
        assert elapsed >= 0.3
        with pytest.raises(MySQLdb.OperationalError):
            cur.execute("CREATE TABLE gw_proxy_local_hook.t (id INT PRIMARY KEY)")  # exists: ERR
        assert inproc.engine.events == ["hook start", "hook end"]
        cur.execute("DROP DATABASE gw_proxy_local_hook")
    conn.close()


def test_session_state_follows_the_server(inproc: InProcessGateway, mariadb: MariaDB) -> None:
    conn = MySQLdb.connect(**inproc.child.mysqldb_kwargs())
    session = inproc.engine.sessions[-1]
    assert (session.role, session.database) == ("child", mariadb.database)
    with conn.cursor() as cur:
        cur.execute("SELECT CONNECTION_ID()")
        assert cur.fetchone() == (session.connection_id,)
        cur.execute("USE mysql")
        assert session.database == "mysql"
        conn.select_db("information_schema")  # COM_INIT_DB
        cur.execute("SELECT 1")
        assert session.database == "information_schema"
        with pytest.raises(MySQLdb.OperationalError):
            cur.execute("USE no_such_database")
        assert session.database == "information_schema"
        assert not session.autocommit  # MySQLdb turns autocommit off when it connects
        conn.autocommit(True)
        assert session.autocommit and not session.in_transaction
        cur.execute("START TRANSACTION")
        assert session.in_transaction and session.autocommit
        cur.execute("SET autocommit = 0")
        cur.execute("COMMIT")
        assert not session.in_transaction and not session.autocommit
    conn.close()
    deadline = time.monotonic() + 5
    while session not in inproc.engine.ended and time.monotonic() < deadline:
        time.sleep(0.02)
    assert session in inproc.engine.ended


def test_close_leaves_no_tasks_or_connections(inproc: InProcessGateway) -> None:
    clients = [MySQLdb.connect(**inproc.master.mysqldb_kwargs()) for _ in range(5)]
    clients[0].close()
    assert len(inproc.gateway._connections) >= 4
    inproc.run(inproc.gateway.close())

    async def leftovers() -> list[asyncio.Task[object]]:
        return [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]

    assert inproc.run(leftovers()) == []
    assert inproc.gateway._connections == set()
    for client in clients[1:]:  # the gateway closed them: the drivers notice
        with pytest.raises(MySQLdb.OperationalError), client.cursor() as cur:
            cur.execute("SELECT 1")


class DeprecateEofClient:
    """A raw client that negotiates CLIENT_DEPRECATE_EOF (neither MySQLdb nor aiomysql does) by default."""

    CAPS = (
        p.CLIENT_LONG_PASSWORD | p.CLIENT_PROTOCOL_41 | p.CLIENT_SECURE_CONNECTION | p.CLIENT_PLUGIN_AUTH
        | p.CLIENT_TRANSACTIONS | p.CLIENT_MULTI_STATEMENTS | p.CLIENT_MULTI_RESULTS | p.CLIENT_DEPRECATE_EOF
    )  # fmt: skip

    def __init__(self, ep: Endpoint, caps: int = CAPS) -> None:
        self.sock = socket.create_connection((ep.host, ep.port), timeout=10)
        _, greeting = self.recv()
        hs = p.Handshake.parse(greeting)
        auth = native_password_scramble(ep.password, hs.scramble())
        body = struct.pack("<IIB", caps, 1 << 24, 45) + bytes(23) + ep.user.encode() + b"\x00"
        self.deprecate_eof = bool(caps & p.CLIENT_DEPRECATE_EOF)
        self.sock.sendall(p.frame(body + bytes((len(auth),)) + auth + b"mysql_native_password\x00", 1))
        assert self.recv()[1][:1] == b"\x00"

    def recv(self) -> tuple[int, bytes]:
        header = self.sock.recv(4, socket.MSG_WAITALL)
        length = int.from_bytes(header[:3], "little")
        return header[3], self.sock.recv(length, socket.MSG_WAITALL) if length else b""

    def query(self, sql: str) -> list[tuple[list[list[bytes | None]], int]]:
        """Run a COM_QUERY; returns every result as (rows, status of its final OK)."""
        self.sock.sendall(p.frame(b"\x03" + sql.encode(), 0))
        results: list[tuple[list[list[bytes | None]], int]] = []
        while True:
            _, first = self.recv()
            if first[:1] == b"\xff":
                raise AssertionError(p.parse_err(first))
            if first[:1] == b"\x00":
                status = p.ok_status(first)[0]
                results.append(([], status))
            else:
                count, _ = p.read_lenenc_int(first, 0)
                for _ in range(count or 0):
                    self.recv()  # column definitions
                if not self.deprecate_eof:
                    self.recv()  # the EOF after them
                rows = []
                while True:
                    _, row = self.recv()
                    if row[:1] == b"\xfe" and len(row) < p.MAX_CHUNK:
                        # DEPRECATE_EOF: an OK packet with header 0xFE; otherwise a classic EOF.
                        status = p.ok_status(row)[0] if self.deprecate_eof else p.eof_status(row)
                        break
                    values, pos = [], 0
                    for _ in range(count or 0):
                        value, pos = p.read_lenenc_str(row, pos)
                        values.append(value)
                    rows.append(values)
                results.append((rows, status))
            if not status & p.SERVER_MORE_RESULTS_EXISTS:
                return results


def test_deprecate_eof_clients_get_ok_terminated_results(inproc: InProcessGateway) -> None:
    client = DeprecateEofClient(inproc.master)
    results = client.query("SELECT 1; SELECT 'a', NULL UNION ALL SELECT 'b', 'c'; DO 1")
    assert [rows for rows, _ in results] == [[[b"1"]], [[b"a", None], [b"b", b"c"]], []]
    local = client.query("SHOW LOCAL THINGS")
    assert local[0][0] == [[v.encode() if v is not None else None for v in row] for row in LOCAL_ROWS]
    client.query("BEGIN")
    ((_, status),) = client.query("DO 'local ok'")
    assert status & p.SERVER_STATUS_IN_TRANS
    client.query("ROLLBACK")
    assert client.query("SELECT 2") == [([[b"2"]], p.SERVER_STATUS_AUTOCOMMIT)]
    client.sock.close()


@pytest.mark.parametrize("deprecate_eof", [False, True])
def test_prepared_statements_follow_the_binary_protocol(
    inproc: InProcessGateway, deprecate_eof: bool
) -> None:
    """COM_STMT_PREPARE / EXECUTE / CLOSE pass untouched and the tracker stays in step with them."""
    caps = DeprecateEofClient.CAPS if deprecate_eof else DeprecateEofClient.CAPS & ~p.CLIENT_DEPRECATE_EOF
    client = DeprecateEofClient(inproc.master, caps)
    eof = 0 if deprecate_eof else 1
    client.sock.sendall(p.frame(b"\x16SELECT ?, 'x' AS y", 0))  # COM_STMT_PREPARE
    _, prepared = client.recv()
    assert prepared[:1] == b"\x00"
    stmt_id, columns, params = struct.unpack_from("<IHH", prepared, 1)
    assert (columns, params) == (2, 1)
    for _ in range(params + eof + columns + eof):
        client.recv()
    # COM_STMT_EXECUTE: no cursor, 1 iteration, NULL bitmap, new-params-bound, one LONGLONG parameter.
    execute = (
        b"\x17" + struct.pack("<IBI", stmt_id, 0, 1) + b"\x00" + b"\x01" + b"\x08\x00" + struct.pack("<q", 41)
    )
    client.sock.sendall(p.frame(execute, 0))
    _, count = client.recv()
    assert count == b"\x02"
    for _ in range(columns + eof):
        client.recv()
    _, row = client.recv()
    assert row[:1] == b"\x00" and struct.pack("<q", 41) in row  # a binary-protocol row
    _, end = client.recv()
    assert end[:1] == b"\xfe"
    client.sock.sendall(p.frame(b"\x19" + struct.pack("<I", stmt_id), 0))  # COM_STMT_CLOSE: no answer
    assert client.query("SELECT 3") == [([[b"3"]], p.SERVER_STATUS_AUTOCOMMIT)]
    client.sock.close()
