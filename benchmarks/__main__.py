"""`python -m benchmarks [--quick] [--results DIR] [--fresh] [--legs a,b] [--workloads w,x] [--report-only]`
(what `make bench` runs)."""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import sys
from pathlib import Path

from benchmarks import harness, report


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="the short run (one repeat, a few cells)")
    ap.add_argument(
        "--results", type=Path, default=None, help="default benchmarks/results (quick: results/quick)"
    )
    ap.add_argument(
        "--state-dir", type=Path, default=None, help="the test bed's data dir (default: <results>/.state)"
    )
    ap.add_argument("--fresh", action="store_true", help="discard the finished cells and start over")
    ap.add_argument("--legs", default=None, help="comma-separated: inproc,uvicorn,crud,pool,profile,knn")
    ap.add_argument("--workloads", default=None, help="comma-separated subset of point,list,write,mixed")
    ap.add_argument(
        "--concurrencies", default=None, help="comma-separated client counts (default: the plan's)"
    )
    ap.add_argument(
        "--duration", type=float, default=None, help="measured seconds per cell (default: the plan's)"
    )
    ap.add_argument("--repeats", type=int, default=None, help="repeats per cell (default: the plan's)")
    ap.add_argument(
        "--trace",
        action="store_true",
        help="uvicorn leg: per-request timestamps (benchmarks/trace.py) into <results>/requests/; debug runs only",
    )
    ap.add_argument("--latencies", default=None, help="comma-separated injected ms (default: the plan's)")
    ap.add_argument("--paths", default=None, help="comma-separated uvicorn paths (default: the plan's)")
    ap.add_argument("--report-only", action="store_true", help="rewrite the report from cells.jsonl")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM stops the servers and the test bed like Ctrl-C
    plan = harness.QUICK if args.quick else harness.FULL
    if args.workloads:
        plan = dataclasses.replace(plan, workloads=tuple(args.workloads.split(",")))
    if args.repeats:
        plan = dataclasses.replace(plan, repeats=args.repeats)
    if args.concurrencies:
        counts = tuple(int(c) for c in args.concurrencies.split(","))
        plan = dataclasses.replace(plan, concurrencies=counts, inproc_concurrencies=counts)
    if args.latencies:
        plan = dataclasses.replace(plan, latencies=tuple(float(x) for x in args.latencies.split(",")))
    if args.paths:
        plan = dataclasses.replace(plan, uvicorn_paths=tuple(args.paths.split(",")))
    if args.duration:
        plan = dataclasses.replace(plan, duration=args.duration)
    default = harness.BENCH_DIR / "results"
    results = (
        args.results or os.environ.get("BENCH_RESULTS") or (default / "quick" if args.quick else default)
    )
    results = Path(results).resolve()
    if args.report_only:
        report.write(results)
        print(results / "results.md")
        return 0
    state_dir = (args.state_dir or results / ".state").resolve()
    legs = tuple(args.legs.split(",")) if args.legs else None
    harness.run(plan, results, fresh=args.fresh, state_dir=state_dir, legs=legs, trace=args.trace)
    print(results / "results.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
