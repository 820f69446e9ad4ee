"""A private MariaDB instance for the test bed: its own data dir, socket, free port and accounts.

The tests never rely on a MariaDB the machine may already run: each test session (and `make testbed`)
starts its own, so fault tests can SIGKILL and restart it freely. The server is configured to behave
like SingleStore where MariaDB can: READ COMMITTED, strict mode, UTC with the time-zone tables loaded,
1000+ connections, 100 MiB packets, and a utf8mb3 server default so that a backend that forgets to ask
for utf8mb4 is caught (SingleStore's server default is utf8). Durable settings
(`innodb_flush_log_at_trx_commit=1`) make a SIGKILL lose no committed row.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.testbed import udf

MARIADBD = shutil.which("mariadbd", path="/usr/sbin:/usr/bin:" + os.environ.get("PATH", "")) or "mariadbd"
INSTALL_DB = shutil.which("mariadb-install-db") or "mariadb-install-db"
CLIENT = shutil.which("mariadb") or "mariadb"
TZINFO_TO_SQL = shutil.which("mariadb-tzinfo-to-sql") or "mariadb-tzinfo-to-sql"

TEST_USER = "s2test"
TEST_PASSWORD = "s2test-Secret-1"
ADMIN_USER = "s2gw_admin"
ADMIN_PASSWORD = "s2gw-Admin-1"
DEFAULT_DATABASE = "s2test"


class MariaDBError(RuntimeError):
    """The private MariaDB could not be initialised, started or stopped."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MariaDB:
    """One private `mariadbd` process under `base_dir`.

    `collation_server="utf8mb4_bin"` starts it in SingleStore 9's default-collation mode (for the
    case-insensitive lookup tests); the default mode keeps SingleStore's utf8mb3 server default.
    """

    host = "127.0.0.1"
    user = TEST_USER
    password = TEST_PASSWORD
    admin_user = ADMIN_USER
    admin_password = ADMIN_PASSWORD
    database = DEFAULT_DATABASE

    def __init__(self, base_dir: Path | str, *, collation_server: str | None = None, port: int | None = None):
        self.base_dir = Path(base_dir).resolve()
        self.collation_server = collation_server
        self.datadir = self.base_dir / "data"
        self.socket = str(self.base_dir / "mariadb.sock")
        self.pid_file = self.base_dir / "mariadb.pid"
        self.log_file = self.base_dir / "mariadb.err"
        self.port_file = self.base_dir / "port"
        self.plugin_dir = self.base_dir / "plugin"
        #: Why the vector UDFs are missing (None: loaded).
        self.udf_error: str | None = None
        if port is None and self.port_file.exists():
            port = int(self.port_file.read_text())
        self.port = port or free_port()
        self._proc: subprocess.Popen[bytes] | None = None

    # -- state ---------------------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _alive(pid) else None

    def url(self, database: str | None = None) -> str:
        return f"mysql://{self.user}:{self.password}@{self.host}:{self.port}/{database or self.database}"

    # -- lifecycle -----------------------------------------------------------------------------
    def server_args(self) -> list[str]:
        charset, collation = "utf8mb3", "utf8mb3_general_ci"
        if self.collation_server:
            charset, collation = self.collation_server.split("_", 1)[0], self.collation_server
        args = [
            MARIADBD,
            "--no-defaults",
            f"--datadir={self.datadir}",
            f"--socket={self.socket}",
            f"--port={self.port}",
            "--bind-address=127.0.0.1",
            f"--pid-file={self.pid_file}",
            f"--log-error={self.log_file}",
            "--skip-name-resolve",
            "--skip-log-bin",
            "--performance-schema=OFF",
            "--transaction-isolation=READ-COMMITTED",
            "--sql-mode=STRICT_ALL_TABLES",
            "--default-time-zone=+00:00",
            "--max-connections=1200",
            "--max-allowed-packet=100M",
            f"--character-set-server={charset}",
            f"--collation-server={collation}",
            "--innodb-flush-log-at-trx-commit=1",
            "--innodb-buffer-pool-size=256M",
            "--innodb-log-file-size=64M",
            "--table-open-cache=4000",
            "--lower-case-table-names=0",
            # Full-text search (gateway/fulltext.py): index every token from one character on and keep
            # stopwords, as SingleStore's Lucene standard analyzer does (it has no minimum length and an
            # empty default stopword list [assumption: Lucene's StandardAnalyzer defaults]).
            "--innodb-ft-min-token-size=1",
            "--innodb-ft-enable-stopword=OFF",
            "--ft-min-word-len=1",
            # A private tmpdir: a starting mariadbd deletes every #sql* file in its tmpdir, so with the
            # shared /tmp one server's start removes another's live Aria temp tables (information_schema
            # queries) and that server dies with signal 11 in ha_maria::drop_table.
            f"--tmpdir={self.base_dir / 'tmp'}",
            # The instance's own plugin dir: the gateway's vector UDFs (tests/testbed/udf) live there.
            f"--plugin-dir={self.plugin_dir}",
        ]
        if os.geteuid() == 0:
            args.append("--user=root")
        return args

    def start(self, timeout: float = 60.0) -> None:
        """Start the server (initialising the data dir on first use) and wait until it accepts logins."""
        if self.pid is not None:
            return
        self.base_dir.mkdir(parents=True, exist_ok=True)
        (self.base_dir / "tmp").mkdir(exist_ok=True)
        fresh = not (self.datadir / "mysql").is_dir()
        if fresh:
            self._install_db()
        try:
            udf.install(self.plugin_dir)
        except (udf.UdfBuildError, OSError) as exc:
            self.udf_error = str(exc)
        self.port_file.write_text(str(self.port))
        with open(self.base_dir / "mariadb.stdout", "ab") as out:
            self._proc = subprocess.Popen(
                self.server_args(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._wait_ready(timeout)
        if fresh:
            self._bootstrap()
        if self.udf_error is None:
            self.mysql_cli(udf.plugin_sql(), database="mysql")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> None:
        """Stop the server with `sig` (SIGTERM: clean shutdown; SIGKILL: a crash) and wait for it."""
        pid = self.pid or (self._proc.pid if self._proc and self._proc.poll() is None else None)
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while _alive(pid):
            if self._proc is not None and self._proc.pid == pid:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._proc.wait(timeout=0.05)
            else:
                time.sleep(0.05)
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                deadline = time.monotonic() + timeout
        if sig == signal.SIGKILL:
            # mariadbd leaves its pid file and socket behind when killed.
            with contextlib.suppress(FileNotFoundError):
                self.pid_file.unlink()
        self._proc = None

    def kill(self) -> None:
        """SIGKILL: what a crash looks like. Committed rows survive (durable InnoDB settings)."""
        self.stop(signal.SIGKILL)

    def restart(self, kill: bool = False, timeout: float = 60.0) -> None:
        self.stop(signal.SIGKILL if kill else signal.SIGTERM)
        self.start(timeout=timeout)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.base_dir, ignore_errors=True)

    # -- helpers -------------------------------------------------------------------------------
    def mysql_cli(self, sql: str, database: str | None = None, timeout: float = 120.0) -> str:
        """Run `sql` as root over the socket with the `mariadb` client; returns its tab-separated output."""
        cmd = [CLIENT, "--no-defaults", "-uroot", f"--socket={self.socket}", "--batch", "--skip-column-names"]
        if database:
            cmd.append(database)
        res = subprocess.run(cmd, input=sql.encode(), capture_output=True, timeout=timeout)
        if res.returncode != 0:
            raise MariaDBError(f"mariadb client failed: {res.stderr.decode(errors='replace').strip()}")
        return res.stdout.decode()

    def _install_db(self) -> None:
        shutil.rmtree(self.datadir, ignore_errors=True)
        cmd = [
            INSTALL_DB,
            "--no-defaults",
            f"--datadir={self.datadir}",
            "--auth-root-authentication-method=socket",
            "--skip-test-db",
            # the private tmpdir here too: bootstrap temp tables in the shared /tmp collide with other
            # instances starting at the same time ("Unknown table 'mysql.tmp_proxies_priv'")
            f"--tmpdir={self.base_dir / 'tmp'}",
        ]
        if os.geteuid() == 0:
            cmd.append("--user=root")
        res = subprocess.run(cmd, capture_output=True)
        if res.returncode != 0:
            raise MariaDBError(f"mariadb-install-db failed:\n{res.stdout.decode()}{res.stderr.decode()}")

    def _bootstrap(self) -> None:
        """Accounts, the default utf8mb4 database and the time-zone tables (SingleStore knows IANA names)."""
        tz = subprocess.run([TZINFO_TO_SQL, "/usr/share/zoneinfo"], capture_output=True)
        if tz.returncode != 0:
            raise MariaDBError(f"mariadb-tzinfo-to-sql failed: {tz.stderr.decode(errors='replace')}")
        self.mysql_cli(tz.stdout.decode("utf-8", "replace"), database="mysql", timeout=300)
        self.mysql_cli(
            f"""
            CREATE USER '{TEST_USER}'@'%' IDENTIFIED VIA mysql_native_password
                USING PASSWORD('{TEST_PASSWORD}');
            GRANT ALL PRIVILEGES ON *.* TO '{TEST_USER}'@'%' WITH GRANT OPTION;
            CREATE USER '{ADMIN_USER}'@'%' IDENTIFIED VIA mysql_native_password
                USING PASSWORD('{ADMIN_PASSWORD}');
            GRANT ALL PRIVILEGES ON *.* TO '{ADMIN_USER}'@'%';
            CREATE DATABASE `{DEFAULT_DATABASE}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
            FLUSH PRIVILEGES;
            """
        )

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise MariaDBError(f"mariadbd exited with {self._proc.returncode}:\n{self._log_tail()}")
            if os.path.exists(self.socket) and _port_open(self.host, self.port):
                try:
                    self.mysql_cli("SELECT 1")
                    return
                except MariaDBError:
                    pass
            time.sleep(0.05)
        self.stop(signal.SIGKILL)
        raise MariaDBError(f"mariadbd did not become ready within {timeout}s:\n{self._log_tail()}")

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still "exists": reap it if it is ours.
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    return True


def _port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0
