"""A fork server that runs one mutant's tests in about a second instead of a fresh interpreter's five.

    python -m tests.mutation.forkserver serve SOCKET        (the driver starts it, cwd = the private tree)
    python -m tests.mutation.forkserver SOCKET PYTEST_ARGS  (cosmic-ray's test command: exits with pytest's code)

The server imports the heavy third-party modules once (pytest and its plugins, Django, the drivers) and
never the project's own code; for each request it forks, and the child imports the project afresh from
the tree (where cosmic-ray has just written the mutant), with bytecode caching off so no stale .pyc is
read, and runs `pytest.main`. The client is a plain interpreter that imports nothing heavy; when the
socket is absent it runs pytest itself, so the test command works without the server too.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys

# Seconds a child may run (the driver's per-mutant timeout is longer, so the child dies first).
ALARM = int(float(os.environ.get("MUTATION_TIMEOUT", "300"))) - 20

HEAVY = (
    "pytest",
    "_pytest.assertion.rewrite",
    "pytest_django",
    "pytest_asyncio",
    "pytest_timeout",
    "django",
    "django.db",
    "django.db.backends.mysql.base",
    "django.test",
    "MySQLdb",
    "pymysql",
    "aiomysql",
    "greenlet",
)


def serve(path: str) -> None:
    import importlib

    for name in HEAVY:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    if os.path.exists(path):
        os.unlink(path)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(4)
    while True:
        conn, _ = srv.accept()
        with conn:
            request = json.loads(conn.makefile("rb").readline())
            pid = os.fork()
            if pid == 0:
                srv.close()
                _child(request["args"], request["cwd"])
            _, status = os.waitpid(pid, 0)
            rc = os.waitstatus_to_exitcode(status)
            with contextlib.suppress(OSError):  # the client gave up (cosmic-ray's timeout): serve on
                conn.sendall(f"{rc}\n".encode())


def _child(args: list[str], cwd: str) -> None:
    rc = 70
    try:
        os.chdir(cwd)
        os.setsid()
        signal.alarm(ALARM)  # a mutant that hangs its tests dies here (counted killed by the timeout)
        sys.dont_write_bytecode = True
        sys.pycache_prefix = None
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        sys.path.insert(0, cwd)
        for name in [
            m for m in sys.modules if m == "tests" or m.startswith(("tests.", "django_singlestore"))
        ]:
            del sys.modules[name]
        import importlib

        importlib.invalidate_caches()
        import pytest

        rc = int(pytest.main(args))
    finally:
        os._exit(rc)


def client(path: str, args: list[str]) -> int:
    """pytest's exit code; without a live server pytest runs here (a dead server's refused connection
    must never read as a failing test, i.e. a killed mutant)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        try:
            conn.connect(path)
        except OSError:
            return subprocess.call([sys.executable, "-m", "pytest", *args])
        conn.sendall((json.dumps({"args": args, "cwd": os.getcwd()}) + "\n").encode())
        reply = conn.makefile("rb").readline()
    if not reply.strip():  # the server died during the run: no verdict from it
        return subprocess.call([sys.executable, "-m", "pytest", *args])
    return int(reply)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2])
    else:
        sys.exit(client(sys.argv[1], sys.argv[2:]))
