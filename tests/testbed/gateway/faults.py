"""Fault injection into a running gateway process: stalls and cut connections (issue 14's campaign).

    inject_fault(gw, "stall", 1.5)   # every command and new connection is held for 1.5 s
    inject_fault(gw, "cut")          # every client connection is reset (TCP RST), with its MariaDB session

`inject_fault` writes the order to `<state_dir>/fault.json` and sends the process SIGUSR1; the gateway
(`apply_fault`, registered by `__main__`) applies it through `Gateway.stall` / `Gateway.cut_connections`
and acknowledges it in `fault.ack`, which `inject_fault` waits for: when it returns, the fault is in
effect. One injection at a time per gateway.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from tests.testbed.gateway.server import Gateway

log = logging.getLogger(__name__)

FAULTS = ("stall", "cut")


class GatewayProcessLike(Protocol):
    """What `inject_fault` needs of a `GatewayProcess`."""

    @property
    def pid(self) -> int | None: ...

    state_dir: Path


class FaultInjectionError(RuntimeError):
    """The gateway is not running or did not acknowledge the fault in time."""


def _write(path: Path, data: dict[str, object]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)  # atomic: the reader never sees half a file


def inject_fault(process: GatewayProcessLike, fault: str, seconds: float = 0.0, timeout: float = 10.0) -> int:
    """Inject `fault` ("stall" for `seconds`, or "cut") into a `GatewayProcess` and wait until it is in
    effect. Returns how many client connections the gateway was serving (for "cut": how many it reset)."""
    if fault not in FAULTS:
        raise ValueError(f"unknown fault {fault!r}: one of {', '.join(FAULTS)}")
    pid, state_dir = process.pid, process.state_dir
    if pid is None:
        raise FaultInjectionError("the gateway is not running")
    seq = time.monotonic_ns()
    order = {"seq": seq, "fault": fault, "seconds": seconds}
    _write(state_dir / "fault.json", order)
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError):
            ack = json.loads((state_dir / "fault.ack").read_text())
            if ack.get("seq") == seq:
                return int(ack["affected"])
        time.sleep(0.01)
    raise FaultInjectionError(f"the gateway did not acknowledge {order} within {timeout}s")


def apply_fault(gateway: Gateway, state_dir: Path) -> None:
    """The SIGUSR1 handler in the gateway process: apply `fault.json`, then write `fault.ack`."""
    try:
        order = json.loads((state_dir / "fault.json").read_text())
    except (OSError, ValueError) as exc:
        log.warning("SIGUSR1 without a readable fault.json: %s", exc)
        return
    affected = len(gateway.clients)
    if order.get("fault") == "stall":
        gateway.stall(float(order["seconds"]))
    elif order.get("fault") == "cut":
        affected = gateway.cut_connections()
    else:
        log.warning("unknown fault %r", order)
        return
    log.info("fault injected: %s (%d client connections)", order, affected)
    _write(state_dir / "fault.ack", {"seq": order.get("seq"), "affected": affected})
