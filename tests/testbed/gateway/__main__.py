"""Run the SingleStore rules gateway as a process, or drive one from Python (`GatewayProcess`).

    python -m tests.testbed.gateway --upstream-port 3307 --admin-user U --admin-password W \\
        --master-port 0 --child-port 0 [--tls --state-dir D] [--latency-ms N] \\
        [--no-implicit-order] [--no-assumption-rules] [--memsql-version X] [--foreign-keys ignore|reject]

Once both ports listen it prints one JSON line to stdout, `{"master_port": ..., "child_port": ...,
"pid": ..., "tls_cert": ...}` (`tls_cert` only with --tls), and logs to stderr. SIGTERM or SIGINT
shut it down gracefully; SIGUSR1 injects the fault written to `<state-dir>/fault.json`
(`tests.testbed.gateway.faults`); with --exit-on-stdin-eof it also stops when its stdin closes, which ties
its life to a parent that holds the other end of a pipe (so a crashed test run leaves nothing behind).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import resource
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

REPO_ROOT = Path(__file__).resolve().parents[3]


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m tests.testbed.gateway", description=__doc__.splitlines()[0])
    ap.add_argument("--upstream-host", default="127.0.0.1", help="MariaDB host (default 127.0.0.1)")
    ap.add_argument("--upstream-port", type=int, required=True, help="MariaDB TCP port")
    ap.add_argument("--admin-user", required=True, help="account for the gateway's catalog connection")
    ap.add_argument("--admin-password", required=True)
    ap.add_argument("--listen-host", default="127.0.0.1")
    ap.add_argument("--master-port", type=int, default=0, help="master aggregator port (0: any free port)")
    ap.add_argument("--child-port", type=int, default=0, help="child aggregator port (0: any free port)")
    ap.add_argument(
        "--tls", action="store_true", help="terminate TLS (self-signed certificate in --state-dir)"
    )
    ap.add_argument("--state-dir", type=Path, default=None, help="where the TLS certificate is written")
    ap.add_argument("--latency-ms", type=float, default=0.0, help="sleep this long before each COM_QUERY")
    ap.add_argument("--no-implicit-order", action="store_true", help="shuffle SELECTs without ORDER BY")
    ap.add_argument(
        "--no-assumption-rules",
        action="store_true",
        help="do not apply the rules known only from skip texts (errors.ASSUMPTION_RULES)",
    )
    ap.add_argument("--memsql-version", default=None, help="the @@memsql_version to report")
    ap.add_argument(
        "--foreign-keys",
        choices=["ignore", "reject"],
        default=None,
        help="FOREIGN KEY policy (engine default)",
    )
    ap.add_argument("--exit-on-stdin-eof", action="store_true", help="stop when stdin reaches EOF")
    ap.add_argument("--log-level", default="INFO")
    return ap


async def _serve(args: argparse.Namespace) -> None:
    # Imported here so that `GatewayProcess` users do not load the engine in their own process.
    from tests.testbed.gateway.client import AdminClient
    from tests.testbed.gateway.engine import Engine, GatewayConfig
    from tests.testbed.gateway.server import Gateway, make_tls_context

    _raise_open_file_limit()
    config = GatewayConfig(
        latency_ms=args.latency_ms,
        no_implicit_order=args.no_implicit_order,
        assumption_rules=not args.no_assumption_rules,
    )
    if args.memsql_version:
        config.memsql_version = args.memsql_version
    if args.foreign_keys:
        config.foreign_keys = args.foreign_keys
    admin = AdminClient(args.upstream_host, args.upstream_port, args.admin_user, args.admin_password)
    engine = Engine(admin, config)
    await engine.start()
    tls = cert = None
    if args.tls:
        state_dir = args.state_dir or Path(tempfile.mkdtemp(prefix="s2gw-tls-"))
        tls, cert = make_tls_context(Path(state_dir))
    gateway = Gateway(engine, config, args.upstream_host, args.upstream_port, tls=tls)
    await gateway.start(args.master_port, args.child_port, args.listen_host)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if args.state_dir is not None:
        from tests.testbed.gateway.faults import apply_fault

        loop.add_signal_handler(signal.SIGUSR1, apply_fault, gateway, Path(args.state_dir))
    if args.exit_on_stdin_eof:
        # Watched by the event loop (a pipe is pollable), not by a thread blocked in read().
        stdin_fd = sys.stdin.fileno()
        os.set_blocking(stdin_fd, False)

        def on_stdin() -> None:
            try:
                data = os.read(stdin_fd, 4096)
            except BlockingIOError:
                return
            if not data:
                loop.remove_reader(stdin_fd)
                stop.set()

        loop.add_reader(stdin_fd, on_stdin)

    ready: dict[str, object] = {
        "master_port": gateway.master_port,
        "child_port": gateway.child_port,
        "pid": os.getpid(),
    }
    if cert is not None:
        ready["tls_cert"] = str(cert)
    print(json.dumps(ready), flush=True)
    logging.getLogger(__name__).info("gateway ready: %s", ready)
    await stop.wait()
    await gateway.close()
    await admin.close()


def _raise_open_file_limit() -> None:
    """Each client costs two sockets; MariaDB allows 1200 connections, so lift a low soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 4096 if hard == resource.RLIM_INFINITY else min(4096, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    asyncio.run(_serve(args))
    return 0


class GatewayError(RuntimeError):
    """The gateway process did not start (its log tail is in the message)."""


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
            raise GatewayError(f"the gateway did not start (ready line {line!r}):\n{tail}") from None
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


if __name__ == "__main__":
    raise SystemExit(main())
