"""`make demo`: the shop example served by uvicorn, with a short load against its async views.

    python examples/shop/demo.py mysql://USER:PASSWORD@HOST:PORT/NAME [--keep] [--state-dir DIR]
    python examples/shop/demo.py --stop [--state-dir DIR]      # stop an app kept with --keep

Migrates, creates the demo data and an admin account (`manage.py seed_demo`), starts uvicorn, runs
`loadgen.py` in a separate process (requests/s, p50/p99 latency, the pool's `get_stats()`), then
stops uvicorn and unapplies the migrations. With --keep (or DEMO_KEEP=1) the app and its data stay:
it prints the URL, the admin login and how to stop it. DEMO_PORT picks the port (default 8000 when
free), DEMO_SECONDS / DEMO_CONCURRENCY shape the load, DEMO_ADMIN_PASSWORD fixes the password.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
# This checkout's backend first, whatever else the virtualenv has installed; the shop's settings,
# whatever DJANGO_SETTINGS_MODULE the caller's shell exports.
ENV = dict(
    os.environ,
    PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    DJANGO_SETTINGS_MODULE="shop.settings",
)
# Reverse order of dependencies: `migrate <app> zero` also unapplies what depends on the app.
APPS_TO_UNAPPLY = ["shop", "admin", "sessions", "auth", "contenttypes"]


def manage(url: str, *args: str) -> str:
    run = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=HERE,
        env=dict(ENV, SHOP_DATABASE_URL=url),
        capture_output=True,
        text=True,
    )
    if run.returncode:
        raise SystemExit(f"demo: manage.py {' '.join(args)} failed:\n{run.stdout}{run.stderr}")
    return run.stdout


def pick_port() -> int:
    wanted = int(os.environ.get("DEMO_PORT") or 8000)
    for port in (wanted, 0):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                if "DEMO_PORT" in os.environ:
                    raise SystemExit(f"demo: DEMO_PORT={wanted} is in use") from None
                continue
            return int(sock.getsockname()[1])
    raise AssertionError("unreachable")


def start_server(url: str, port: int, log: Path, detach: bool) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "uvicorn", "shop.asgi:application", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--lifespan", "on", "--log-level", "warning", "--backlog", "512"]
    with log.open("ab") as out:
        proc = subprocess.Popen(
            command,
            cwd=HERE,
            env=dict(ENV, SHOP_DATABASE_URL=url),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=detach,  # a kept app outlives `make demo`
        )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/stats", timeout=5) as answer:
                if answer.status == 200:
                    return proc
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(f"demo: uvicorn did not come up; its log:\n{log.read_text()}")
        time.sleep(0.2)


def stop_server(pid: int, timeout: float = 30) -> bool:
    """SIGTERM (uvicorn's lifespan shutdown closes the pools); SIGKILL after `timeout`."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return True
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    return True


def stop_kept(state_dir: Path) -> str | None:
    """Stop the app a previous `--keep` run left serving (recorded in its state file)."""
    state_file = state_dir / "demo-app.json"
    try:
        state = json.loads(state_file.read_text())
    except (OSError, ValueError):
        return None
    state_file.unlink()
    cmdline = Path(f"/proc/{state['pid']}/cmdline")
    with contextlib.suppress(OSError):
        if b"shop.asgi:application" in cmdline.read_bytes() and stop_server(state["pid"]):
            return f"demo: stopped the kept app (pid {state['pid']}, {state['url']})"
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", help="the master aggregator, mysql://USER:PASSWORD@HOST:PORT/NAME")
    parser.add_argument("--keep", action="store_true", default=os.environ.get("DEMO_KEEP") == "1")
    parser.add_argument("--stop", action="store_true", help="stop an app a --keep run left serving")
    parser.add_argument("--state-dir", type=Path, default=ROOT / ".testbed")
    parser.add_argument("--no-load", action="store_true", help="serve without running the load")
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("DEMO_SECONDS") or 5))
    parser.add_argument("--concurrency", type=int, default=int(os.environ.get("DEMO_CONCURRENCY") or 16))
    args = parser.parse_args()
    state_dir: Path = args.state_dir.resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    if message := stop_kept(state_dir):
        print(message)
    if args.stop:
        return 0
    if not args.url:
        parser.error("the database URL is required")

    print("demo: migrating (Django's contrib apps and the shop, on the automatic layout)", flush=True)
    manage(args.url, "migrate", "--noinput", "-v", "0")
    _, admin, password = manage(args.url, "seed_demo").split()
    print("demo: demo data created: 4 brands (a REFERENCE table), 40 products (ROWSTORE), tags, a customer")
    port = pick_port()
    base = f"http://127.0.0.1:{port}"
    log = state_dir / "demo-app.log"
    server = start_server(args.url, port, log, detach=args.keep)
    print(f"demo: uvicorn serves shop.asgi:application on {base} (pid {server.pid})", flush=True)
    rc = 0
    try:
        if not args.no_load:
            print(
                f"demo: {args.seconds:g} s of load from {args.concurrency} clients (examples/shop/loadgen.py)"
            )
            load = [sys.executable, str(HERE / "loadgen.py"), base, "--seconds", str(args.seconds)]
            load += ["--concurrency", str(args.concurrency)]
            rc = subprocess.run(load, timeout=args.seconds + 120).returncode
    finally:
        if not args.keep:
            stop_server(server.pid)
            code = server.wait()
            output = log.read_text()
            if code not in (0, -signal.SIGTERM) or "Traceback" in output:
                print(f"demo: uvicorn exited with {code}; its log ({log}):\n{output}", file=sys.stderr)
                rc = rc or 1
            else:
                print("demo: uvicorn stopped (its lifespan shutdown closed the pool)")
    if args.keep:
        (state_dir / "demo-app.json").write_text(json.dumps({"pid": server.pid, "url": base}))
        demo = os.path.relpath(__file__)
        print(f"""
DEMO_KEEP=1: the shop keeps serving, with its data.
  app:    {base}/api/products  {base}/api/products/<id>  {base}/api/top  {base}/api/stats
  admin:  {base}/admin/  user {admin!r}, password {password!r}
  log:    {log}
  stop:   {sys.executable} {demo} --stop --state-dir {state_dir}
          (then `make testbed-stop` for the test bed; `make demo` again also replaces the app)""")
    else:
        for app in APPS_TO_UNAPPLY:
            manage(args.url, "migrate", app, "zero", "--noinput", "-v", "0")
        print("demo: migrations unapplied (no DEMO_KEEP): the demo's tables are gone")
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
