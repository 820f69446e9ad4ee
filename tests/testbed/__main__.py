"""`make testbed` / `make testbed-stop`: the embedded default (private MariaDB + gateway) in the background.

    python -m tests.testbed start  --state-dir .testbed   # prints `master<TAB>URL` and `child<TAB>URL`
    python -m tests.testbed status --state-dir .testbed   # the same output; exit 3 when not running
    python -m tests.testbed stop   --state-dir .testbed   # says what it stopped

State (PIDs, data dir, logs) lives in the state dir. `start` is idempotent: when the servers already
run it prints the same two lines. Its stdout is exactly those two lines (scripts read them); the hints
for people (a `mariadb` client command, a `DATABASES` snippet, how to stop) go to stderr.
`TESTBED_MASTER_PORT` / `TESTBED_CHILD_PORT` (or --master-port / --child-port) fix the gateway's ports.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import signal
import sys
import time
from pathlib import Path

from tests.testbed.gateway.process import GatewayProcess, GatewayStartError
from tests.testbed.mariadb import MariaDB, MariaDBError


def _gateway_state(state_dir: Path) -> dict[str, int] | None:
    try:
        state = json.loads((state_dir / "gateway.json").read_text())
    except (OSError, ValueError):
        return None
    pid = int(state.get("pid", 0))
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return None
    return {k: int(v) for k, v in state.items()}


def start_gateway(
    server: MariaDB, state_dir: Path, extra_args: list[str], master_port: int = 0, child_port: int = 0
) -> dict[str, int]:
    """Start a detached gateway in front of `server` (or find the running one); its state in JSON.
    A port of 0 means any free port."""
    running = _gateway_state(state_dir)
    if running:
        return running
    gateway = GatewayProcess(
        server.port,
        server.admin_user,
        server.admin_password,
        state_dir=state_dir / "gateway",
        extra_args=extra_args,
        detached=True,
    )
    gateway.master_port, gateway.child_port = master_port, child_port
    try:
        gateway.start()
    except GatewayStartError as exc:
        raise SystemExit(f"testbed: {exc}") from None
    assert gateway.pid is not None
    state = {"pid": gateway.pid, "master_port": gateway.master_port, "child_port": gateway.child_port}
    (state_dir / "gateway.json").write_text(json.dumps(state))
    return state


def stop_gateway(state_dir: Path, timeout: float = 15.0, kill: bool = False) -> dict[str, int] | None:
    """Stop the gateway recorded in `state_dir`; returns its state (pid, ports), or None if none ran."""
    state = _gateway_state(state_dir)
    if state:
        pid = state["pid"]
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL if kill else signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == pid:  # our own child (pytest fixture): reap it,
                    break  # or it stays a zombie that `kill(pid, 0)` still finds
            except ChildProcessError:
                pass  # started by another process (`make testbed`): poll with signal 0
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(FileNotFoundError):
        (state_dir / "gateway.json").unlink()
    return state


def _port(name: str, value: str | None) -> int:
    if not value:
        return 0
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 0 < port < 65536:
        raise SystemExit(f"testbed: {name} must be a TCP port number (1-65535), not {value!r}")
    return port


def _urls(server: MariaDB, gateway: dict[str, int]) -> list[str]:
    creds = f"{server.user}:{server.password}@127.0.0.1"
    return [
        f"master\tmysql://{creds}:{gateway['master_port']}/{server.database}",
        f"child\tmysql://{creds}:{gateway['child_port']}/{server.database}",
    ]


def hints(server: MariaDB, gateway: dict[str, int]) -> str:
    """What a person needs to use the test bed: a `mariadb` client command (the client takes no
    mysql:// URL), a DATABASES snippet, and how to stop it."""
    client = shlex.join(
        [
            "mariadb",
            "--host=127.0.0.1",
            f"--port={gateway['master_port']}",
            f"--user={server.user}",
            f"--password={server.password}",
            "--skip-ssl",
            server.database,
        ]
    )
    return f"""\
The test bed's master aggregator (port {gateway["master_port"]}); the child aggregator is on port {gateway["child_port"]}.

  {client}

DATABASES = {{
    "default": {{
        "ENGINE": "django_singlestore",  # or "django_singlestore_async"
        "HOST": "127.0.0.1",
        "PORT": {gateway["master_port"]},
        "USER": {json.dumps(server.user)},
        "PASSWORD": {json.dumps(server.password)},
        "NAME": {json.dumps(server.database)},
    }}
}}

Stop it with `make testbed-stop`.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.testbed", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["start", "status", "stop"])
    parser.add_argument("--state-dir", default=".testbed", type=Path)
    parser.add_argument("--gateway-arg", action="append", default=[], help="extra gateway flag (repeatable)")
    parser.add_argument(
        "--master-port", default=os.environ.get("TESTBED_MASTER_PORT"), help="default: $TESTBED_MASTER_PORT"
    )
    parser.add_argument(
        "--child-port", default=os.environ.get("TESTBED_CHILD_PORT"), help="default: $TESTBED_CHILD_PORT"
    )
    parser.add_argument("--quiet", action="store_true", help="no hints on stderr")
    args = parser.parse_args(argv)
    state_dir: Path = args.state_dir.resolve()
    server = MariaDB(state_dir / "mariadb")

    if args.command == "stop":
        mariadb_pid = server.pid
        gateway = stop_gateway(state_dir)
        server.stop()
        if gateway:
            print(f"testbed: stopped the gateway (pid {gateway['pid']}, master port {gateway['master_port']},"
                  f" child port {gateway['child_port']})")  # fmt: skip
        if mariadb_pid is not None:
            print(
                f"testbed: stopped MariaDB (pid {mariadb_pid}, port {server.port}); its data stays in {server.datadir}"
            )
        if not gateway and mariadb_pid is None:
            print(f"testbed: nothing was running in {state_dir}")
        return 0

    if args.command == "status":
        gateway = _gateway_state(state_dir)
        if gateway is None or server.pid is None:
            print(f"testbed: not running in {state_dir}", file=sys.stderr)
            return 3
        print("\n".join(_urls(server, gateway)), flush=True)
        if not args.quiet:
            print(hints(server, gateway), file=sys.stderr)
        return 0

    master_port = _port("TESTBED_MASTER_PORT", args.master_port)
    child_port = _port("TESTBED_CHILD_PORT", args.child_port)
    state_dir.mkdir(parents=True, exist_ok=True)
    try:
        server.start()
    except MariaDBError as exc:
        print(f"testbed: {exc}", file=sys.stderr)
        return 1
    gateway = start_gateway(server, state_dir, args.gateway_arg, master_port, child_port)
    for name, wanted, got in (
        ("TESTBED_MASTER_PORT", master_port, gateway["master_port"]),
        ("TESTBED_CHILD_PORT", child_port, gateway["child_port"]),
    ):
        if wanted and wanted != got:
            print(f"testbed: already running on port {got}, not {name}={wanted}; "
                  "`make testbed-stop` first to change it", file=sys.stderr)  # fmt: skip
    print("\n".join(_urls(server, gateway)), flush=True)
    if not args.quiet:
        print(hints(server, gateway), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
