"""The gateway as a process: ready line, restart on the same ports, SIGTERM / SIGKILL, parent death."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import MySQLdb
import pytest

from tests.testbed import Endpoint
from tests.testbed.gateway.errors import ERRORS
from tests.testbed.gateway.process import REPO_ROOT, GatewayProcess
from tests.testbed.mariadb import MariaDB

pytestmark = pytest.mark.gateway_only


def answers(mariadb: MariaDB, port: int) -> bool:
    ep = Endpoint("127.0.0.1", port, mariadb.user, mariadb.password, mariadb.database)
    conn = MySQLdb.connect(**ep.mysqldb_kwargs(connect_timeout=5))
    with conn.cursor() as cur:
        cur.execute("SELECT @@memsql_version")
        ok = cur.fetchone() is not None
    conn.close()
    return ok


def port_closed(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def wait_exit(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return True
        except ChildProcessError:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
        time.sleep(0.05)
    return False


def test_start_restart_and_stop(mariadb: MariaDB, tmp_path: Path) -> None:
    gw = GatewayProcess(mariadb.port, mariadb.admin_user, mariadb.admin_password, state_dir=tmp_path)
    gw.start()
    ports = (gw.master_port, gw.child_port)
    assert all(ports) and gw.pid is not None
    assert answers(mariadb, gw.master_port) and answers(mariadb, gw.child_port)
    first_pid = gw.pid
    gw.restart()
    assert (gw.master_port, gw.child_port) == ports and gw.pid != first_pid
    assert answers(mariadb, gw.master_port)
    gw.restart(kill=True)
    assert answers(mariadb, gw.child_port)
    gw.stop()
    assert gw.pid is None and port_closed(ports[0]) and port_closed(ports[1])
    assert "gateway ready" in gw.log_path.read_text()


def test_memsql_version_option_reaches_the_engine(mariadb: MariaDB, tmp_path: Path) -> None:
    with GatewayProcess(
        mariadb.port, mariadb.admin_user, mariadb.admin_password, state_dir=tmp_path, memsql_version="7.8.9"
    ) as gw:
        conn = MySQLdb.connect(
            **Endpoint("127.0.0.1", gw.master_port, mariadb.user, mariadb.password, "").mysqldb_kwargs()
        )
        with conn.cursor() as cur:
            cur.execute("SELECT @@memsql_version")
            assert cur.fetchone() == ("7.8.9",)
        conn.close()


def test_foreign_keys_option_reaches_the_engine(mariadb: MariaDB, tmp_path: Path) -> None:
    spec = ERRORS["foreign_key"]
    ddl = "CREATE TABLE child_fk (id BIGINT PRIMARY KEY, p BIGINT, FOREIGN KEY (p) REFERENCES parent_fk (id))"
    with GatewayProcess(
        mariadb.port, mariadb.admin_user, mariadb.admin_password, state_dir=tmp_path, foreign_keys="reject"
    ) as gw:
        conn = MySQLdb.connect(
            **Endpoint(
                "127.0.0.1", gw.master_port, mariadb.user, mariadb.password, mariadb.database
            ).mysqldb_kwargs()
        )
        with pytest.raises(MySQLdb.Error) as info, conn.cursor() as cur:
            cur.execute(ddl)
        assert info.value.args == (spec.code, spec.format())
        conn.close()


def test_cli_prints_one_json_line_and_exits_cleanly_on_sigterm(mariadb: MariaDB) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.testbed.gateway", f"--upstream-port={mariadb.port}",
         f"--admin-user={mariadb.admin_user}", f"--admin-password={mariadb.admin_password}",
         "--master-port=0", "--child-port=0"],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        ready = json.loads(proc.stdout.readline())
        assert set(ready) == {"master_port", "child_port", "pid"} and ready["pid"] == proc.pid
        assert answers(mariadb, ready["master_port"])
        proc.terminate()
        _, err = proc.communicate(timeout=15)
        assert proc.returncode == 0, err.decode()
        assert b"Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_gateway_exits_when_its_parent_goes_away(mariadb: MariaDB, tmp_path: Path) -> None:
    gw = GatewayProcess(mariadb.port, mariadb.admin_user, mariadb.admin_password, state_dir=tmp_path).start()
    proc = gw._proc
    assert proc is not None and proc.stdin is not None
    proc.stdin.close()  # what the parent's death does to the pipe
    assert wait_exit(proc.pid)
    assert port_closed(gw.master_port)
    gw.stop()
