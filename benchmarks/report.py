"""The results: `<results>/results.md`, `results.json` and `plots/*.png`, computed from `cells.jsonl`.

Medians over the repeats, with the min-max spread; the issue's targets as a computed table (met /
missed with the measured ratio). Nothing here is tuned or filtered: a cell that failed is listed.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OLDER_PYTHON = ROOT / "benchmarks" / ".venv-older" / "bin" / "python"
PACKAGES = (
    "Django",
    "mysqlclient",
    "aiomysql",
    "PyMySQL",
    "greenlet",
    "asgiref",
    "uvicorn",
    "httptools",
    "h11",
    "matplotlib",
)
PATH_LABELS = {
    "stock0": "stock, CONN_MAX_AGE=0",
    "stock60": "stock, CONN_MAX_AGE=60 + health checks",
    "native": "native (django_singlestore_async)",
    "acursor": "raw aiomysql pool via acursor()",
    "aiomysql": "plain aiomysql (async floor)",
    "sync_orm": "sync ORM, thread per client (sync floor)",
    "mysqlclient": "raw mysqlclient, thread per client (sync floor)",
}
METRICS = ("rps", "p50_ms", "p99_ms", "client_cpu_us_per_req", "gateway_us_per_req", "mariadb_us_per_req",
           "server_conns_peak", "threads", "rss_kb", "loadavg")  # fmt: skip


def environment(**extra: Any) -> dict[str, Any]:
    """Date, versions, CPU model and load average, for the results' header."""
    cpu_model = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    older = None
    if OLDER_PYTHON.exists():
        code = ("import importlib.metadata as m, json; print(json.dumps({n: m.version(n) for n in "
                "('django-singlestore', 'singlestoredb', 'Django')}))")  # fmt: skip
        with contextlib.suppress(Exception):
            older = json.loads(subprocess.run([str(OLDER_PYTHON), "-P", "-c", code], capture_output=True,
                                              text=True, timeout=60, cwd="/").stdout)  # fmt: skip
    commit = None
    with contextlib.suppress(Exception):
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=ROOT, timeout=10).stdout.strip()  # fmt: skip
    return {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "git_commit": commit,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_model": cpu_model,
        "cpus": os.cpu_count(),
        "loadavg_start": os.getloadavg(),
        "versions": versions,
        "older_backend": older,
        "note": "shared 2-core machine: other sessions (other helpers' test runs) load it during the run",
        **extra,
    }


def _load(results: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    good: list[dict[str, Any]] = []
    bad: list[dict[str, Any]] = []
    path = results / "cells.jsonl"
    if path.exists():
        for line in path.read_text().splitlines():
            with contextlib.suppress(ValueError):
                rec = json.loads(line)
                (bad if "error" in rec else good).append(rec)
    return good, bad


def _per_req(rec: dict[str, Any], field: str) -> float | None:
    value, n = rec.get(field), rec.get("requests")
    return round(value / n * 1e6, 1) if value is not None and n else None


def _summary(values: list[float | None]) -> dict[str, Any] | None:
    vals = [v for v in values if v is not None]
    if not vals:
        return None
    return {"median": round(statistics.median(vals), 3), "min": min(vals), "max": max(vals), "n": len(vals)}


def aggregate(good: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for rec in good:
        if rec["leg"] in ("inproc", "uvicorn", "pool"):
            groups[
                rec["leg"], rec["path"], rec["workload"], rec["concurrency"], rec.get("latency_ms", 0.0)
            ].append(rec)
    out: dict[str, dict[str, Any]] = {}
    for (leg, path, workload, conc, latency), recs in sorted(groups.items(), key=lambda kv: str(kv[0])):
        for rec in recs:
            rec["gateway_us_per_req"] = _per_req(rec, "gateway_cpu_s")
            rec["mariadb_us_per_req"] = _per_req(rec, "mariadb_cpu_s")
        entry: dict[str, Any] = {"leg": leg, "path": path, "workload": workload, "concurrency": conc,
                                 "latency_ms": latency, "errors": sum(r.get("errors") or 0 for r in recs)}  # fmt: skip
        for metric in METRICS:
            entry[metric] = _summary([r.get(metric) for r in recs])
        entry["requests"] = _summary([r.get("requests") for r in recs])
        # Fewer completions than two per client: the window saw a partial wave of requests, not a steady
        # state (an overloaded cell whose latency approaches the window); its req/s and CPU are rough.
        entry["unsteady"] = (
            leg != "pool" and bool(entry["requests"]) and entry["requests"]["median"] < 2 * conc
        )
        routing = [r["native_routing"] for r in recs if "native_routing" in r]
        if routing:
            entry["native_routing"] = routing[-1]
        if any("write_api" in r for r in recs):
            entry["write_api"] = next(r["write_api"] for r in recs if "write_api" in r)
        out[f"{leg}/{path}/{workload}/{conc}/{latency:g}ms"] = entry
    return out


def aggregate_crud(good: list[dict[str, Any]]) -> dict[str, Any]:
    per: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    info: dict[str, Any] = {}
    for rec in good:
        if rec["leg"] == "crud":
            info[rec["path"]] = {
                k: rec.get(k) for k in ("backend_version", "driver", "django", "python", "backend_file")
            }
            for op, vals in rec["ops"].items():
                per[rec["path"]][op].append(vals)
    out: dict[str, Any] = {"backends": info, "ops": {}}
    for backend, ops in per.items():
        for op, runs in ops.items():
            out["ops"].setdefault(op, {})[backend] = {
                "n": runs[0]["n"],
                "client_cpu_us_per_op": _summary([r["client_cpu_us_per_op"] for r in runs]),
                "wall_us_per_op": _summary([r["wall_us_per_op"] for r in runs]),
                "gateway_cpu_us_per_op": _summary(
                    [
                        r["gateway_cpu_s"] / r["n"] * 1e6 if r.get("gateway_cpu_s") is not None else None
                        for r in runs
                    ]
                ),
                "mariadb_cpu_us_per_op": _summary(
                    [
                        r["mariadb_cpu_s"] / r["n"] * 1e6 if r.get("mariadb_cpu_s") is not None else None
                        for r in runs
                    ]
                ),
            }
    return out


def _med(groups: dict[str, Any], key: str, metric: str) -> float | None:
    entry = groups.get(key)
    if not entry or not entry.get(metric):
        return None
    value: float = entry[metric]["median"]
    return value


def targets(groups: dict[str, Any], crud: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def add(target: str, ratio: float | None, ok: Any, detail: str, cpu: str = "") -> None:
        if ratio is None:
            status = "no data"
        else:
            status = "reported" if ok is None else ("met" if ok(ratio) else "missed")
        rows.append({"target": target, "ratio": None if ratio is None else round(ratio, 3), "status": status,
                     "detail": detail, "cpu": cpu})  # fmt: skip

    def cpu_ratios(key_native: str, key_stock: str) -> str:
        """What the CPU per request predicts for a throughput ratio (stock / native): the client
        process alone, and client + gateway + MariaDB (the whole bed on a CPU-bound machine)."""
        n, s = groups.get(key_native), groups.get(key_stock)
        if not n or not s:
            return ""
        parts = ("client_cpu_us_per_req", "gateway_us_per_req", "mariadb_us_per_req")
        nc, sc = _med_entry(n, parts[0]), _med_entry(s, parts[0])
        nt = [_med_entry(n, m) for m in parts]
        st = [_med_entry(s, m) for m in parts]
        out = []
        if nc and sc:
            out.append(f"client CPU/req stock/native {sc / nc:.2f}")
        if None not in nt and None not in st and sum(nt):  # type: ignore[arg-type]
            out.append(f"client+gateway+MariaDB {sum(st) / sum(nt):.2f}")  # type: ignore[arg-type]
        loads = [_med_entry(g, "loadavg") for g in (n, s)]
        if None not in loads:
            out.append(f"load {loads[0]:.1f}/{loads[1]:.1f}")
        return "; ".join(out)

    def flags(*keys: str) -> str:
        rough = [k for k in keys if (groups.get(k) or {}).get("unsteady")]
        return f" (rough: {', '.join(rough)} overloaded past the window)" if rough else ""

    def ratio(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None or b == 0 else a / b

    u64 = "uvicorn/{}/point/64/0ms"
    for stock, need in (("stock0", 2.0), ("stock60", 1.3)):
        n, s = _med(groups, u64.format("native"), "rps"), _med(groups, u64.format(stock), "rps")
        add(f"uvicorn, 64 clients, 0 ms, point: native req/s >= {need}x {stock}", ratio(n, s),
            lambda r, need=need: r >= need, f"native {n} vs {stock} {s} req/s",
            cpu_ratios(u64.format("native"), u64.format(stock)))  # fmt: skip
    u256 = "uvicorn/{}/point/256/2ms"
    for stock in ("stock0", "stock60"):
        n, s = _med(groups, u256.format("native"), "p99_ms"), _med(groups, u256.format(stock), "p99_ms")
        add(f"uvicorn, 256 clients, 2 ms, point: native p99 <= 1/2 of {stock}", ratio(n, s), lambda r: r <= 0.5,
            f"native {n} vs {stock} {s} ms")  # fmt: skip
        n, s = _med(groups, u256.format("native"), "rps"), _med(groups, u256.format(stock), "rps")
        add(f"uvicorn, 256 clients, 2 ms, point: native req/s >= 1.5x {stock}", ratio(n, s), lambda r: r >= 1.5,
            f"native {n} vs {stock} {s} req/s" + flags(u256.format("native"), u256.format(stock)),
            cpu_ratios(u256.format("native"), u256.format(stock)))  # fmt: skip
        n, s = (_med(groups, u256.format("native"), "server_conns_peak"),
                _med(groups, u256.format(stock), "server_conns_peak"))  # fmt: skip
        add(f"uvicorn, 256 clients, 2 ms, point: native server connections <= 1/8 of {stock}", ratio(n, s),
            lambda r: r <= 0.125, f"native {n} vs {stock} {s} connections")  # fmt: skip
    for leg in ("inproc", "uvicorn"):
        one = leg + "/{}/point/1/0ms"
        for stock in ("stock0", "stock60"):
            n, s = _med(groups, one.format("native"), "p50_ms"), _med(groups, one.format(stock), "p50_ms")
            add(f"{leg}, 1 client, 0 ms: native aget p50 <= 1.05x {stock}", ratio(n, s), lambda r: r <= 1.05,
                f"native {n} vs {stock} {s} ms")  # fmt: skip
    n, s = (
        _med(groups, "inproc/native/point/1/0ms", "p50_ms"),
        _med(groups, "inproc/sync_orm/point/1/0ms", "p50_ms"),
    )
    add("inproc, 1 client, 0 ms: native aget p50 / sync get p50 (reported, no threshold)", ratio(n, s),
        None, f"native {n} vs sync {s} ms")  # fmt: skip
    cpu = {p: _med(groups, f"inproc/{p}/point/1/0ms", "client_cpu_us_per_req")
           for p in ("native", "aiomysql", "stock0", "stock60", "mysqlclient")}  # fmt: skip
    for stock in ("stock0", "stock60"):
        if None in (cpu["native"], cpu["aiomysql"], cpu[stock], cpu["mysqlclient"]):
            r = None
            detail = "missing cells"
        else:
            native_cost = cpu["native"] - cpu["aiomysql"]  # type: ignore[operator]
            stock_cost = cpu[stock] - cpu["mysqlclient"]  # type: ignore[operator]
            r = native_cost / stock_cost if stock_cost else None
            detail = f"native - aiomysql = {native_cost:.1f} us; {stock} - mysqlclient = {stock_cost:.1f} us"
        add(
            f"inproc, 1 client, 0 ms: ORM CPU per point read, native over {stock} <= 1",
            r,
            lambda r: r <= 1.0,
            detail,
        )
    for op, backends in sorted(crud.get("ops", {}).items()):
        this = (backends.get("this") or {}).get("client_cpu_us_per_op")
        older = (backends.get("older") or {}).get("client_cpu_us_per_op")
        r = ratio(this and this["median"], older and older["median"])
        strict = op in ("create", "get", "update")
        add(f"sync CRUD {op}: client CPU this/older {'< 1' if strict else '<= 1.05'}", r,
            (lambda r: r < 1.0) if strict else (lambda r: r <= 1.05),
            f"this {this and this['median']} vs older {older and older['median']} us/op")  # fmt: skip
    return rows


def _fmt(summary: dict[str, Any] | None, digits: int = 1, spread: bool = False) -> str:
    if not summary:
        return "-"
    text = f"{summary['median']:.{digits}f}"
    if spread and summary["n"] > 1:
        text += f" [{summary['min']:.{digits}f}-{summary['max']:.{digits}f}]"
    return text


def _split(entry: dict[str, Any]) -> str:
    parts = [
        _med_entry(entry, m) for m in ("client_cpu_us_per_req", "gateway_us_per_req", "mariadb_us_per_req")
    ]
    if None in parts or not sum(parts):  # type: ignore[arg-type]
        return "-"
    total = sum(parts)  # type: ignore[arg-type]
    return "/".join(f"{100 * p / total:.0f}" for p in parts)  # type: ignore[operator]


def _med_entry(entry: dict[str, Any], metric: str) -> float | None:
    return entry[metric]["median"] if entry.get(metric) else None


def periods(good: list[dict[str, Any]]) -> list[str]:
    """When each leg's cells ran, and the load average then (cells of one leg may come from several runs)."""
    lines = []
    for leg in ("uvicorn", "inproc", "crud", "pool", "profile"):
        recs = [r for r in good if r.get("leg") == leg]
        if not recs:
            continue
        ts = [r["ts"] for r in recs if r.get("ts")]
        loads = [r["loadavg"] for r in recs if r.get("loadavg") is not None]
        when = (f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime(min(ts)))}-"
                f"{time.strftime('%H:%M', time.gmtime(max(ts)))}Z") if ts else "?"  # fmt: skip
        load = (
            f"; 1-minute load average {min(loads):.1f}-{max(loads):.1f}" if loads else "; load not recorded"
        )
        lines.append(f"- {leg} cells: {len(recs)}, measured {when}{load}")
    return lines


def markdown(env: dict[str, Any], groups: dict[str, Any], crud: dict[str, Any], tgts: list[dict[str, Any]],
             bad: list[dict[str, Any]], profiles: list[str], notes: str | None = None,
             when: list[str] | None = None) -> str:  # fmt: skip
    runs = env.get("runs", [])
    first, last = (runs[0], runs[-1]) if runs else ({}, {})
    lines = ["# Benchmark results", ""]
    lines += [
        f"- Plan: **{last.get('plan_name')}**; started {first.get('started')}, last resumed {last.get('started')}, "
        f"finished {last.get('finished', 'not yet')}; commit {last.get('git_commit')}",
        f"- Machine: {last.get('cpu_model')} x {last.get('cpus')} CPUs; {last.get('platform')}; load average at "
        f"start {last.get('loadavg_start')}, at end {last.get('loadavg_end')}",
        f"- **{last.get('note')}**: wall-clock figures (req/s, latency) swing between runs; client CPU per "
        "request is the steadier figure.",
        f"- Python {last.get('python')}; "
        + ", ".join(f"{k} {v}" for k, v in (last.get("versions") or {}).items()),
        f"- Older backend venv: {last.get('older_backend')}",
        "- Test bed: private MariaDB behind the SingleStore rules gateway (one gateway process per injected "
        "latency). The gateway's CPU per query and per connect are test-bed costs (a connect costs it far more "
        "than a query), so the CPU split measures the test bed as much as the backend.",
        "- Medians over repeats; [min-max] is the spread. CPU split = client / gateway / MariaDB share of the "
        "CPU seconds the three processes spent in the window. Client = the Django process (in-process: the "
        "benchmark process; uvicorn: the server process; the load generator is a separate process).",
        "- Server connections: the most ESTABLISHED connections from the client process to the gateway in "
        "samples taken every 100 ms while the cell ran (a connection that lives for one request, as with "
        "CONN_MAX_AGE=0, is caught only when a sample falls inside it). Threads and RSS: the client process "
        "at the end of the window.",
        "- (!) after req/s: fewer than two completed requests per client in the window (median), i.e. the "
        "cell is overloaded past the window's length and measured a partial wave, not a steady state; its "
        "req/s and CPU per request are rough.",
    ]
    routing = [g["native_routing"] for g in groups.values() if "native_routing" in g]
    if routing:
        lines.append(f"- Native routing (issue 11) on the native path: {routing[-1]}")
    writes = {g["path"]: g["write_api"] for g in groups.values() if "write_api" in g}
    if writes:
        lines.append(f"- Transactional write API per path: {writes}")
    lines += when or []
    if notes:
        lines.append(
            f"- How the cells were measured, why any target is missed, what changed: [{notes}]({notes})"
        )
    lines += ["", "## Targets (issue 13)", "",
              "CPU column: the stock/native ratio of CPU per request that a CPU-bound run would turn into "
              "the throughput ratio (client alone; client + gateway + MariaDB), and the 1-minute load "
              "average (native/stock) when the cells ran.", "",
              "| target | ratio | status | measured | CPU |", "|---|---|---|---|---|"]  # fmt: skip
    for t in tgts:
        lines.append(
            f"| {t['target']} | {t['ratio'] if t['ratio'] is not None else '-'} | {t['status']} | {t['detail']} "
            f"| {t.get('cpu') or ''} |"
        )
    for leg, title in (("uvicorn", "Under uvicorn (headline leg)"), ("inproc", "In-process")):
        keys = [k for k in groups if k.startswith(leg + "/")]
        if not keys:
            continue
        lines += ["", f"## {title}", ""]
        combos = sorted({(groups[k]["latency_ms"], groups[k]["workload"]) for k in keys})
        for latency, workload in combos:
            lines += [f"### {workload}, {latency:g} ms injected latency", "",
                      "| path | clients | req/s [spread] | p50 ms | p99 ms | client CPU µs/req | gateway µs/req "
                      "| MariaDB µs/req | CPU split % | server conns | threads | RSS MiB | errors | n | load |",
                      "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
            rows = [
                groups[k]
                for k in keys
                if groups[k]["latency_ms"] == latency and groups[k]["workload"] == workload
            ]
            order = list(
                PATH_LABELS
            )  # variants of a path ("native-32", "native+freeze") after the known ones
            rows.sort(
                key=lambda g: (
                    order.index(g["path"]) if g["path"] in order else len(order),
                    g["path"],
                    g["concurrency"],
                )
            )
            for g in rows:
                rss = g.get("rss_kb")
                rss_mib = {"median": rss["median"] / 1024, "n": 1, "min": 0, "max": 0} if rss else None
                flag = " (!)" if g.get("unsteady") else ""
                lines.append(
                    f"| {g['path']} | {g['concurrency']} | {_fmt(g['rps'], 0, True)}{flag} | {_fmt(g['p50_ms'], 2)} "
                    f"| {_fmt(g['p99_ms'], 2)} | {_fmt(g['client_cpu_us_per_req'], 0, True)} "
                    f"| {_fmt(g['gateway_us_per_req'], 0)} | {_fmt(g['mariadb_us_per_req'], 0)} | {_split(g)} "
                    f"| {_fmt(g['server_conns_peak'], 0)} | {_fmt(g['threads'], 0)} | {_fmt(rss_mib, 0)} "
                    f"| {g['errors']} | {g['rps']['n'] if g['rps'] else 0} | {_fmt(g.get('loadavg'), 1)} |"
                )
            lines.append("")
    if crud.get("ops"):
        lines += ["## Sync CRUD set: this backend vs the older backend (0 ms)", "",
                  f"Backends: {crud.get('backends')}", "",
                  "| operation | rows | this: client CPU µs/op | older: client CPU µs/op | CPU ratio this/older "
                  "| this: wall µs/op | older: wall µs/op | this: gateway+MariaDB µs/op | older: gateway+MariaDB µs/op |",
                  "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
        for op in ("create", "get", "bulk_create", "update", "iterate"):
            b = crud["ops"].get(op)
            if not b:
                continue
            this, older = b.get("this") or {}, b.get("older") or {}
            tc, oc = this.get("client_cpu_us_per_op"), older.get("client_cpu_us_per_op")
            r = f"{tc['median'] / oc['median']:.2f}" if tc and oc and oc["median"] else "-"

            def server(side: dict[str, Any]) -> str:
                g, m = side.get("gateway_cpu_us_per_op"), side.get("mariadb_cpu_us_per_op")
                return f"{g['median']:.1f}+{m['median']:.1f}" if g and m else "-"

            lines.append(f"| {op} | {(this or older).get('n')} | {_fmt(tc, 1, True)} | {_fmt(oc, 1, True)} | {r} "
                         f"| {_fmt(this.get('wall_us_per_op'), 1)} | {_fmt(older.get('wall_us_per_op'), 1)} "
                         f"| {server(this)} | {server(older)} |")  # fmt: skip
        lines.append("")
    pool = [g for g in groups.values() if g["leg"] == "pool"]
    if pool:
        lines += ["## Pool micro-benchmark: this project's pool vs aiomysql's (0 ms, both capped alike)", "",
                  "| pool | mode | tasks | ops/s [spread] | client CPU µs/op [spread] | n |", "|---|---|---|---|---|---|"]  # fmt: skip
        for g in sorted(pool, key=lambda g: (g["workload"], g["concurrency"], g["path"])):
            lines.append(f"| {g['path']} | {g['workload']} | {g['concurrency']} | {_fmt(g['rps'], 0, True)} "
                         f"| {_fmt(g['client_cpu_us_per_req'], 1, True)} | {g['rps']['n'] if g['rps'] else 0} |")  # fmt: skip
        lines.append("")
    if profiles:
        lines += ["## Profiles (pyinstrument, point reads, 16 clients, 0 ms)", ""]
        lines += [f"- [{name}]({name})" for name in profiles]
        lines.append("")
    if bad:
        lines += ["## Failed cells", "", "| cell | error |", "|---|---|"]
        for rec in bad[-50:]:
            lines.append(
                f"| {rec.get('key')} | {str(rec.get('error'))[-300:].replace('|', '/').replace(chr(10), ' ')} |"
            )
        lines.append("")
    lines += ["## Plots", "", "`plots/<leg>-<latency>-<workload>.png`: throughput, p50 and p99 against concurrency, one "
              "line per path (medians; the band is the min-max spread of throughput)."]  # fmt: skip
    return "\n".join(lines) + "\n"


def plots(groups: dict[str, Any], out_dir: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    combos = sorted(
        {(g["leg"], g["latency_ms"], g["workload"]) for g in groups.values() if g["leg"] != "pool"}
    )
    concurrencies = sorted({g["concurrency"] for g in groups.values() if g["leg"] != "pool"})
    for leg, latency, workload in combos:
        fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
        for path in PATH_LABELS:
            rows = sorted((g for g in groups.values() if (g["leg"], g["latency_ms"], g["workload"], g["path"])
                           == (leg, latency, workload, path) and g["p50_ms"]), key=lambda g: g["concurrency"])  # fmt: skip
            if not rows:
                continue
            xs = [g["concurrency"] for g in rows]
            line = axes[0].plot(xs, [g["rps"]["median"] for g in rows], marker="o", label=PATH_LABELS[path])[
                0
            ]
            axes[0].fill_between(xs, [g["rps"]["min"] for g in rows], [g["rps"]["max"] for g in rows],
                                 color=line.get_color(), alpha=0.15)  # fmt: skip
            axes[1].plot(xs, [g["p50_ms"]["median"] for g in rows], marker="o", color=line.get_color())
            axes[2].plot(xs, [g["p99_ms"]["median"] for g in rows], marker="o", color=line.get_color())
        for ax, title in zip(
            axes, ("throughput (req/s)", "p50 latency (ms)", "p99 latency (ms)"), strict=True
        ):
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xticks(concurrencies, [str(c) for c in concurrencies])
            ax.set_xlabel("concurrent clients")
            ax.set_title(title)
            ax.grid(True, alpha=0.3)
        fig.suptitle(f"{leg}: {workload}, {latency:g} ms injected latency")
        fig.legend(loc="lower center", ncol=4, fontsize=8)
        fig.tight_layout(rect=(0, 0.1, 1, 1))
        name = f"{leg}-{latency:g}ms-{workload}.png"
        fig.savefig(out_dir / name, dpi=90)
        plt.close(fig)
        written.append(name)
    return written


def write(results: Path) -> dict[str, Any]:
    good, bad = _load(results)
    meta_path = results / "run.json"
    env = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    groups = aggregate(good)
    crud = aggregate_crud(good)
    tgts = targets(groups, crud)
    profiles = sorted(p.name for p in results.glob("profile-*.txt"))
    notes = "notes.md" if (results / "notes.md").exists() else None
    written = plots(groups, results / "plots")
    data = {"environment": env, "targets": tgts, "cells": groups, "crud": crud, "failed_cells": bad,
            "plots": written, "profiles": profiles}  # fmt: skip
    (results / "results.json").write_text(json.dumps(data, indent=1))
    (results / "results.md").write_text(
        markdown(env, groups, crud, tgts, bad, profiles, notes, periods(good))
    )
    return data
