"""`make testbed` / `make testbed-stop`: the embedded default (private MariaDB + gateway) in the background.

    python -m tests.testbed start --state-dir .testbed   # prints `master<TAB>URL` and `child<TAB>URL`
    python -m tests.testbed stop  --state-dir .testbed

State (PIDs, data dir, logs) lives in the state dir. `start` is idempotent: when the servers already
run it prints the same two lines.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
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


def start_gateway(server: MariaDB, state_dir: Path, extra_args: list[str]) -> dict[str, int]:
    """Start a detached gateway in front of `server` (or find the running one); its state in JSON."""
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
    try:
        gateway.start()
    except GatewayStartError as exc:
        raise SystemExit(f"testbed: {exc}") from None
    assert gateway.pid is not None
    state = {"pid": gateway.pid, "master_port": gateway.master_port, "child_port": gateway.child_port}
    (state_dir / "gateway.json").write_text(json.dumps(state))
    return state


def stop_gateway(state_dir: Path, timeout: float = 15.0, kill: bool = False) -> None:
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.testbed", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["start", "stop"])
    parser.add_argument("--state-dir", default=".testbed", type=Path)
    parser.add_argument("--gateway-arg", action="append", default=[], help="extra gateway flag (repeatable)")
    args = parser.parse_args(argv)
    state_dir: Path = args.state_dir.resolve()
    server = MariaDB(state_dir / "mariadb")

    if args.command == "stop":
        stop_gateway(state_dir)
        server.stop()
        return 0

    state_dir.mkdir(parents=True, exist_ok=True)
    try:
        server.start()
    except MariaDBError as exc:
        print(f"testbed: {exc}", file=sys.stderr)
        return 1
    gateway = start_gateway(server, state_dir, args.gateway_arg)
    creds = f"{server.user}:{server.password}@127.0.0.1"
    print(f"master\tmysql://{creds}:{gateway['master_port']}/{server.database}")
    print(f"child\tmysql://{creds}:{gateway['child_port']}/{server.database}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
