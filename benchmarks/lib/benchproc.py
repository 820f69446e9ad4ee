"""Process and socket figures read from /proc (Linux): CPU seconds, RSS, threads, open connections.

Pure standard library: the older backend's virtualenv imports it too (benchmarks/crud.py).
"""

from __future__ import annotations

import os

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of `pid` (all its threads), in seconds; None when the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its closing one.
    fields = data[data.rindex(b")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def cpu_snapshot(pids: dict[str, int]) -> dict[str, float | None]:
    return {name: cpu_seconds(pid) for name, pid in pids.items()}


def cpu_delta(before: dict[str, float | None], after: dict[str, float | None]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for name, start in before.items():
        end = after.get(name)
        out[name] = None if start is None or end is None else round(end - start, 4)
    return out


def memory_and_threads(pid: int | str = "self") -> dict[str, int | None]:
    """VmRSS (KiB) and the thread count of `pid`."""
    out: dict[str, int | None] = {"rss_kb": None, "threads": None}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    out["rss_kb"] = int(line.split()[1])
                elif line.startswith("Threads:"):
                    out["threads"] = int(line.split()[1])
    except OSError:
        pass
    return out


def established_to(port: int) -> int:
    """How many ESTABLISHED TCP connections have `port` as their local port (the server side)."""
    want = f":{port:04X}"
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f, None)
                for line in f:
                    parts = line.split(None, 4)
                    if len(parts) > 3 and parts[3] == "01" and parts[1].endswith(want):
                        count += 1
        except OSError:
            continue
    return count


def connections_of(pid: int | str, port: int) -> int:
    """How many ESTABLISHED TCP connections process `pid` holds to remote `port` (the gateway): its
    socket inodes matched against /proc/net/tcp, so other processes' connections never count."""
    inodes: set[str] = set()
    try:
        fd_dir = f"/proc/{pid}/fd"
        for fd in os.listdir(fd_dir):
            try:
                target = os.readlink(f"{fd_dir}/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        return 0
    want = f":{port:04X}"
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f, None)
                for line in f:
                    parts = line.split()
                    if len(parts) > 9 and parts[3] == "01" and parts[2].endswith(want) and parts[9] in inodes:
                        count += 1
        except OSError:
            continue
    return count


def runqueue_wait(pid: int | str = "self") -> float | None:
    """Seconds the threads of `pid` have spent runnable but waiting for a CPU (field 2 of
    /proc/<pid>/task/*/schedstat, summed; threads that have exited are not counted)."""
    total = 0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e9
