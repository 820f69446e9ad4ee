"""Run the SingleStore rules gateway as a process (`tests.testbed.gateway.process.GatewayProcess` drives one
from Python).

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
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path


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
    # Imported here so that `python -m` pays for the engine only when it serves.
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


if __name__ == "__main__":
    raise SystemExit(main())
