"""Drive a gateway subprocess from Python: `GatewayProcess` (the library side of `python -m tests.testbed.gateway`)."""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

__all__ = ["REPO_ROOT", "GatewayProcess", "GatewayStartError"]

REPO_ROOT = Path(__file__).resolve().parents[3]


class GatewayStartError(RuntimeError):
    """The gateway process did not start (its log tail is in the message). Not to be confused with
    ``errors.GatewayError``, the engine's SQL rejection."""


class GatewayProcess:
    """A gateway subprocess in front of a running MariaDB.

        gw = GatewayProcess(mariadb.port, mariadb.admin_user, mariadb.admin_password, tls=True).start()
        ... connect to 127.0.0.1:gw.master_port (or gw.child_port; gw.tls_cert is the CA file)
        gw.stop()          # SIGTERM, graceful;  gw.kill() sends SIGKILL;  gw.restart() keeps the ports

    `detached=True` (what `make testbed` uses) starts it in its own session to outlive this process;
    stop it by its pid. Otherwise the child holds a pipe to this process on its stdin
    (`--exit-on-stdin-eof`), so it exits when this
    process dies, even without `stop()`. Logs go to `<state_dir>/gateway.log`.
    """

    def __init__(
        self,
        upstream_port: int,
        admin_user: str,
        admin_password: str,
        *,
        upstream_host: str = "127.0.0.1",
        tls: bool = False,
        latency_ms: float = 0.0,
        no_implicit_order: bool = False,
        memsql_version: str | None = None,
        foreign_keys: str | None = None,
        detached: bool = False,
        state_dir: Path | str | None = None,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self.admin_user = admin_user
        self.admin_password = admin_password
        self.tls = tls
        self.latency_ms = latency_ms
        self.no_implicit_order = no_implicit_order
        self.memsql_version = memsql_version
        self.foreign_keys = foreign_keys
        self.detached = detached
        self.state_dir = Path(state_dir) if state_dir else Path(tempfile.mkdtemp(prefix="s2gw-"))
        self.extra_args = list(extra_args)
        self.master_port = 0
        self.child_port = 0
        self.tls_cert: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    @property
    def log_path(self) -> Path:
        return self.state_dir / "gateway.log"

    def command(self) -> list[str]:
        cmd = [
            sys.executable, "-m", "tests.testbed.gateway",
            f"--upstream-host={self.upstream_host}", f"--upstream-port={self.upstream_port}",
            f"--admin-user={self.admin_user}", f"--admin-password={self.admin_password}",
            f"--master-port={self.master_port}", f"--child-port={self.child_port}",
            f"--state-dir={self.state_dir}",
        ]  # fmt: skip
        if not self.detached:
            cmd.append("--exit-on-stdin-eof")
        if self.tls:
            cmd.append("--tls")
        if self.latency_ms:
            cmd.append(f"--latency-ms={self.latency_ms}")
        if self.no_implicit_order:
            cmd.append("--no-implicit-order")
        if self.memsql_version:
            cmd.append(f"--memsql-version={self.memsql_version}")
        if self.foreign_keys:
            cmd.append(f"--foreign-keys={self.foreign_keys}")
        return cmd + self.extra_args

    def start(self, timeout: float = 30.0) -> GatewayProcess:
        """Spawn the gateway and wait for its ready line; returns self."""
        if self.pid is not None:
            return self
        self.state_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        with open(self.log_path, "ab") as log_file:
            proc = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL if self.detached else subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=log_file, start_new_session=self.detached,
                cwd=REPO_ROOT, env=env,
            )  # fmt: skip
        self._proc = proc
        assert proc.stdout is not None
        line = _read_line(proc.stdout, timeout)
        proc.stdout.close()
        try:
            ready = json.loads(line)
        except ValueError:
            self.kill()
            tail = self.log_path.read_text(errors="replace")[-3000:]
            raise GatewayStartError(f"the gateway did not start (ready line {line!r}):\n{tail}") from None
        self.master_port = int(ready["master_port"])
        self.child_port = int(ready["child_port"])
        self.tls_cert = Path(ready["tls_cert"]) if "tls_cert" in ready else None
        return self

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM and wait (SIGKILL after `timeout` seconds)."""
        self._end(signal.SIGTERM, timeout)

    def kill(self) -> None:
        self._end(signal.SIGKILL, 10.0)

    def restart(self, *, kill: bool = False, timeout: float = 30.0) -> GatewayProcess:
        """Stop (or kill) and start again on the same ports."""
        self._end(signal.SIGKILL if kill else signal.SIGTERM, 15.0)
        return self.start(timeout)

    def _end(self, sig: int, timeout: float) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()

    def __enter__(self) -> GatewayProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _read_line(stream: IO[bytes], timeout: float) -> str:
    """One line from a pipe, or what arrived before `timeout` seconds / EOF."""
    deadline = time.monotonic() + timeout
    buf = b""
    with selectors.DefaultSelector() as sel:
        sel.register(stream, selectors.EVENT_READ)
        while b"\n" not in buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not sel.select(remaining):
                break
            chunk = os.read(stream.fileno(), 4096)
            if not chunk:
                break
            buf += chunk
    return buf.decode("utf-8", "replace").strip()
