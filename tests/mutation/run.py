"""Mutation testing of the modules that hold SingleStore's rules (issue 19), with cosmic-ray.

    python -m tests.mutation run [--modules errors,alter:80,...] [--background] [--fresh]
    python -m tests.mutation status      progress of every module's session
    python -m tests.mutation report      write tests/MUTATION.md from the sessions and verdicts.toml
    python -m tests.mutation stop        stop a background run (by its recorded pid)

Each module is mutated in a private copy of the work tree (.mutation/tree, refreshed from the
checkout at every start, which also undoes a mutant left on disk by a killed run), never in the checkout.
Each mutant runs only the tests that cover its module (MODULES below), with `-x`, under `nice`.
A module with more mutants than its tests can run in the time there is is sampled: `name:N` (or the
Target's `sample`) runs a seeded sample of N of its mutants (the order is fixed by the mutants' operator
and occurrence, so a larger N keeps the smaller sample and adds to it); the rest are recorded as not
sampled and the report gives the ratio over the sample. Mutants that only touch annotations, or that a
verdict calls equivalent, are recorded without running (equivalent by construction).
Sessions are cosmic-ray's sqlite files in .mutation/<module>.sqlite: a run resumes where the
last one stopped; a session is rebuilt when its module's source or its tests changed since it was made.
Survivors that are equivalent (or survive for a stated reason) are listed in tests/mutation/verdicts.toml,
keyed by the module and the mutant's changed line, so line moves do not lose them.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WORK = ROOT / ".mutation"
TREE = WORK / "tree"
PIDFILE = WORK / "run.pid"
LOGFILE = WORK / "run.log"
VERDICTS = HERE / "verdicts.toml"
REPORT = ROOT / "tests" / "MUTATION.md"
PYTHON = ROOT / ".venv" / "bin" / "python"
SOCKET = WORK / "forkserver.sock"
# Seconds one mutant's tests may take before cosmic-ray counts it killed by timeout (raise it on a
# loaded machine: an unmutated run slower than this would read as killed mutants).
TIMEOUT = float(os.environ.get("MUTATION_TIMEOUT", "300"))


@dataclass(frozen=True)
class Target:
    """The file mutated; `unit`: fast tests every mutant runs first; `it`: tests on the test bed (a private
    MariaDB and the gateway, seconds to start) that only the unit tests' survivors run."""

    source: str
    unit: tuple[str, ...]
    it: tuple[str, ...] = ()
    #: Mutants run by default (None: all); `name:N` on the command line overrides it.
    sample: int | None = None

    @property
    def tests(self) -> tuple[str, ...]:
        return self.unit + self.it


MODULES: dict[str, Target] = {
    "layout": Target(
        "django_singlestore/layout.py",
        ("tests/backend/test_layout.py", "tests/backend/test_layout_strength.py"),
        ("tests/backend/test_layout_it.py", "tests/backend/test_layout_strength_it.py"),
    ),
    "transactions": Target(
        "django_singlestore/transactions.py",
        ("tests/transactions/test_policy.py", "tests/transactions/test_policy_strength.py"),
        ("tests/transactions",),
    ),
    "errors": Target(
        "django_singlestore/errors.py",
        ("tests/backend/test_errors.py", "tests/backend/test_errors_strength.py"),
        ("tests/backend/test_errors_it.py", "tests/backend/test_errors_strength_it.py"),
    ),
    "options": Target(
        "django_singlestore/options.py",
        ("tests/backend/test_options.py", "tests/backend/test_options_strength.py"),
    ),
    "compiler": Target(
        "django_singlestore/compiler.py",
        (
            "tests/backend/test_sql_generation.py",
            "tests/backend/test_django_suite_fixes.py",
            "tests/backend/test_compiler_strength.py",
        ),
        (
            "tests/backend/test_shard_key_move_strength_it.py",
            "tests/backend/test_query_shapes_it.py",
            # The shard-key tests of the layout (its table-rebuild tests are rebuild.py's).
            *(
                f"tests/backend/test_layout_it.py::{t}"
                for t in (
                    "test_save_leaves_an_unchanged_shard_key_out_of_set",
                    "test_changing_a_shard_key_moves_the_row_keeping_its_id",
                    "test_a_move_that_breaks_a_unique_key_changes_nothing",
                    "test_expression_moves_swap_values_between_rows",
                    "test_bulk_update_and_update_conflicts_with_shard_keys",
                    "test_a_shard_key_that_is_the_primary_key_is_not_moved",
                )
            ),
        ),
    ),
    "alter": Target(
        "django_singlestore/alter.py",
        ("tests/alter/test_names.py",),
        ("tests/alter/test_rebuild_verify_strength_it.py", "tests/alter"),
        sample=40,
    ),
    "rebuild": Target(
        "django_singlestore/rebuild.py",
        ("tests/alter/test_names.py",),
        ("tests/alter/test_rebuild_verify_strength_it.py", "tests/alter", "tests/backend/test_layout_it.py"),
        sample=40,
    ),
    "schema": Target(
        "django_singlestore/schema.py", ("tests/backend/test_schema_sql.py",), ("tests/schema",)
    ),
    "pool": Target("django_singlestore_async/pool.py", ("tests/async_pool",), sample=20),
    "gateway-rules": Target(
        "tests/testbed/gateway/rules.py",
        ("tests/gateway/test_rules_every_raise_site.py", "tests/gateway/test_rules_decisions.py"),
        (
            "tests/gateway/test_rules_engine.py",
            "tests/gateway/test_rules_gateway.py",
            "tests/gateway/test_rules_auto_increment.py",
            "tests/gateway/test_rules_aggregator_sync.py",
        ),
        sample=80,
    ),
    "gateway-ddl": Target(
        "tests/testbed/gateway/ddl.py",
        ("tests/gateway/test_ddl_transform.py",),
        (
            "tests/gateway/test_ddl_computed.py",
            "tests/gateway/test_ddl_rename.py",
            "tests/gateway/test_catalog_persistence.py",
            "tests/gateway/test_rules_gateway.py",
            "tests/gateway/test_translate_table.py",
        ),
        sample=80,
    ),
}
STABLE = ("errors", "options", "layout", "transactions")
#: The order `make mutation` runs the modules in with MUTATION_MODULES=all.
ALL = (*STABLE, "compiler", "gateway-rules", "gateway-ddl", "alter", "rebuild", "pool")


def log(msg: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {msg}", flush=True)


def existing_tests(target: Target, base: Path = ROOT) -> list[str]:
    """The target's tests that exist (a file, a directory, or a `file::test` node id)."""
    return [t for t in target.tests if (base / t.split("::")[0]).exists()]


def fingerprint(target: Target) -> tuple[str, str]:
    """Hashes of the module and of its tests: a session made from another source is rebuilt; one whose
    tests changed re-runs only its survivors (tests are added to kill them; `--fresh` reruns all)."""
    src = hashlib.sha256((ROOT / target.source).read_bytes()).hexdigest()
    h = hashlib.sha256()
    paths: list[Path] = []
    for t in existing_tests(target):
        p = ROOT / t.split("::")[0]
        paths += sorted(p.rglob("*.py")) if p.is_dir() else [p]
    for p in paths:
        h.update(str(p.relative_to(ROOT)).encode() + b"\0" + p.read_bytes())
    return src, h.hexdigest()


def refresh_tree() -> None:
    copy_checkout(TREE)


def copy_checkout(dest: Path) -> None:
    """Copy the checkout's files (tracked and untracked, not ignored) into a private tree."""
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for raw in filter(None, files):
        rel = raw.decode()
        src, dst = ROOT / rel, dest / rel
        if not src.is_file():
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    for cache in list(dest.rglob("__pycache__")):
        shutil.rmtree(cache, ignore_errors=True)


def write_config(name: str, target: Target, stage: str) -> Path:
    unit = Target(target.source, target.unit)
    tests = existing_tests(target if stage == "it" else unit, TREE)
    cmd = f"nice -n 19 {PYTHON} -m tests.mutation.forkserver {SOCKET} -x -q -p no:cacheprovider {' '.join(tests)}"
    cfg = WORK / f"{name}.{stage}.toml"
    cfg.write_text(
        "[cosmic-ray]\n"
        f'module-path = "{target.source}"\n'
        f"timeout = {TIMEOUT}\n"
        "excluded-modules = []\n"
        f"test-command = {json.dumps(cmd)}\n"
        "[cosmic-ray.distributor]\n"
        'name = "local"\n'
    )
    return cfg


def cosmic(*args: str) -> subprocess.CompletedProcess[str]:
    exe = str(PYTHON.parent / "cosmic-ray")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([exe, *args], cwd=TREE, capture_output=True, text=True, env=env)


def run_module(name: str, fresh: bool, sample: int | None = None) -> None:
    """Stage 1: every mutant against the unit tests; stage 2: the survivors against unit + test-bed tests.
    A survivor re-runs whenever the tests changed (they were written to kill it)."""
    target = MODULES[name]
    sample = target.sample if sample is None else (sample or None)
    session = WORK / f"{name}.sqlite"
    stamp = WORK / f"{name}.fingerprint"
    src_fp, tests_fp = fingerprint(target)
    old = stamp.read_text().split() if stamp.exists() else []
    unit_cfg, it_cfg = write_config(name, target, "unit"), write_config(name, target, "it")
    if fresh or not session.exists() or len(old) != 2 or old[0] != src_fp:
        session.unlink(missing_ok=True)
        (WORK / f"{name}.stage2").unlink(missing_ok=True)
        out = cosmic("init", str(unit_cfg), str(session))
        if out.returncode:
            raise SystemExit(f"cosmic-ray init {name} failed:\n{out.stderr}")
        log(f"{name}: new session ({count(session)[1]} mutants)")
    elif old[1] != tests_fp:
        (WORK / f"{name}.stage2").unlink(missing_ok=True)
        n = forget_survivors(name, session)
        log(f"{name}: its tests changed: re-running its {n} survivors (not those judged equivalent)")
    stamp.write_text(f"{src_fp} {tests_fp}")
    apply_sample(name, session, sample)
    n = settle_equivalent(name, session)
    if n:
        log(f"{name}: {n} mutants equivalent by construction (annotations, verdicts): recorded, not run")
    if not (WORK / f"{name}.stage2").exists():
        done, total = count(session)
        log(f"{name}: stage 1 (unit tests): {done}/{total} done, running the rest")
        _exec(name, unit_cfg)
        if target.it:
            n = forget_survivors(name, session)
            log(f"{name}: stage 2 (with the test-bed tests): {n} survivors of stage 1 (not equivalent)")
        (WORK / f"{name}.stage2").touch()
    _exec(name, it_cfg)
    done, total = count(session)
    log(f"{name}: {done}/{total} done")


NOT_SAMPLED = "not in the sample"
EQUIVALENT_NOT_RUN = "not run: equivalent by construction"


def sample_order(rows: list[tuple[dict, dict | None]], name: str) -> list[str]:
    """The job ids in the module's fixed sample order: sorted by operator and occurrence (job ids are
    random per session), then shuffled with the module's name as the seed."""
    keyed = sorted(
        (m["operator_name"], m["occurrence"], m["start_pos"][0], item["job_id"])
        for item, _ in rows
        for m in item["mutations"][:1]
    )
    order = [k[-1] for k in keyed]
    random.Random(f"mutation-sample:{name}").shuffle(order)
    return order


def apply_sample(name: str, session: Path, n: int | None) -> None:
    """Keep the first n mutants of the sample order to run (all with n None); record the others as
    skipped (`NOT_SAMPLED`). A mutant that enters the sample loses its skipped mark and runs."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    rows = dump(session)
    results = {item["job_id"]: result for item, result in rows}
    order = sample_order(rows, name)
    keep = set(order if n is None else order[:n])
    unskip = [j for j in keep if (results[j] or {}).get("worker_outcome") == "skipped"]
    # Outside the sample: unrun ones, and ones a larger sample ran (a sample made smaller again must
    # not keep the out-of-sample mutants that happened to finish: those are the quickly killed ones).
    skip = [
        j
        for j in order
        if j not in keep and not ((results[j] or {}).get("output") or "").startswith(NOT_SAMPLED)
    ]
    with sqlite3.connect(session) as db:
        db.executemany("DELETE FROM work_results WHERE job_id = ?", [(j,) for j in unskip])
    if skip:
        with use_db(str(session), WorkDB.Mode.open) as db:
            note = f"{NOT_SAMPLED}: seeded sample of {n} of {len(order)}"
            db.set_multiple_results(skip, WorkResult(worker_outcome=WorkerOutcome.SKIPPED, output=note))
    (WORK / f"{name}.sample").write_text(f"{len(keep)} {len(order)}")
    if n is not None:
        log(f"{name}: sample of {len(keep)} of {len(order)} mutants (seed mutation-sample:{name})")


def settle_equivalent(name: str, session: Path) -> int:
    """Record, without running them, the pending mutants that only change annotations or that a
    verdict calls equivalent: their tests cannot fail, running them only costs time."""
    from cosmic_ray.mutating import _make_diff, mutate_code
    from cosmic_ray.plugins import get_operator
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome, WorkResult

    verdicts = load_verdicts()
    pending = [item for item, result in dump(session) if result is None]
    if not pending:
        return 0
    source = (TREE / MODULES[name].source).read_text()
    settled = []
    for item in pending:
        m = item["mutations"][0]
        mutated = mutate_code(
            source, get_operator(m["operator_name"])(**(m.get("operator_args") or {})), m["occurrence"]
        )
        if mutated is None:
            continue
        diff = "\n".join(_make_diff(source, mutated, m["module_path"]))
        before, after = changed_lines(diff)
        # Only a verdict naming the exact mutant (`before` and `after`) settles one unrun; a pattern
        # verdict (`*_contains`) may match other mutants of its line, so it only labels survivors.
        v = verdict_for(verdicts, name, before, after)
        exact = v is not None and v.get("before") == before and v.get("after") == after
        if (exact and v.get("kind") == "equivalent") or _annotation_only(before, after):
            settled.append((item["job_id"], diff))
    with use_db(str(session), WorkDB.Mode.open) as db:
        for job_id, diff in settled:
            db.set_result(
                job_id,
                WorkResult(
                    worker_outcome=WorkerOutcome.NORMAL,
                    test_outcome=TestOutcome.SURVIVED,
                    diff=diff,
                    output=EQUIVALENT_NOT_RUN,
                ),
            )
    return len(settled)


def baseline(name: str, cfg: Path) -> None:
    """The unmutated tree must pass the stage's tests, or every mutant would count as killed."""
    command = tomllib.loads(cfg.read_text())["cosmic-ray"]["test-command"]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    rc = subprocess.run(command, shell=True, cwd=TREE, env=env, capture_output=True).returncode
    if rc != 0:
        raise SystemExit(
            f"{name}: the unmutated tree fails its tests ({cfg.name}, exit {rc}): fix that first"
        )


def forget_survivors(name: str, session: Path) -> int:
    """Drop the results of the survivors that verdicts.toml does not call equivalent, so they run again."""
    verdicts = load_verdicts()
    again = []
    for item, result in dump(session):
        if result is None or result["test_outcome"] != "survived":
            continue
        before, after = changed_lines(result.get("diff") or "")
        v = verdict_for(verdicts, name, before, after) or _annotation_only(before, after)
        if not (v and v.get("kind") == "equivalent"):
            again.append(item["job_id"])
    with sqlite3.connect(session) as db:
        db.executemany("DELETE FROM work_results WHERE job_id = ?", [(j,) for j in again])
    return len(again)


def _exec(name: str, cfg: Path) -> None:
    done, total = count(WORK / f"{name}.sqlite")
    if done == total:
        return
    baseline(name, cfg)
    out = cosmic("exec", str(cfg), str(WORK / f"{name}.sqlite"))
    if out.returncode:
        log(f"{name}: cosmic-ray exec exited {out.returncode}: {out.stderr[-2000:]}")


def start_forkserver() -> subprocess.Popen[bytes]:
    SOCKET.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.Popen(
        ["nice", "-n", "19", str(PYTHON), "-m", "tests.mutation.forkserver", "serve", str(SOCKET)],
        cwd=TREE,
        env=env,
    )
    for _ in range(300):
        if SOCKET.exists():
            break
        time.sleep(0.1)
    return proc


def dump(session: Path) -> list[tuple[dict, dict | None]]:
    out = cosmic("dump", str(session))
    rows = []
    for line in out.stdout.splitlines():
        if line.strip():
            item, result = json.loads(line)
            rows.append((item, result))
    return rows


def count(session: Path) -> tuple[int, int]:
    rows = dump(session)
    return sum(1 for _, r in rows if r is not None), len(rows)


def cmd_run(args: argparse.Namespace) -> int:
    specs = args.modules.split(",") if args.modules else list(STABLE)
    if specs == ["all"]:
        specs = list(ALL)
    names = [spec.partition(":")[0] for spec in specs]
    samples = {
        n: (None if not size else 0 if size == "all" else int(size))
        for n, _, size in (spec.partition(":") for spec in specs)
    }
    unknown = [n for n in names if n not in MODULES]
    if unknown:
        raise SystemExit(f"unknown module(s) {unknown}; known: {', '.join(MODULES)}")
    WORK.mkdir(parents=True, exist_ok=True)
    if args.background:
        if PIDFILE.exists() and _alive(int(PIDFILE.read_text())):
            raise SystemExit(
                f"a run is going (pid {PIDFILE.read_text()}); `python -m tests.mutation stop` first"
            )
        argv = [sys.executable, "-m", "tests.mutation", "run", "--modules", ",".join(specs)]
        if args.fresh:
            argv.append("--fresh")
        with open(LOGFILE, "a") as fh:
            proc = subprocess.Popen(
                argv, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
            )
        PIDFILE.write_text(str(proc.pid))
        print(
            f"mutation run in the background (pid {proc.pid}); log {LOGFILE.relative_to(ROOT)}; "
            "`python -m tests.mutation status`, then `report`"
        )
        return 0
    refresh_tree()
    server = start_forkserver()
    try:
        for name in names:
            run_module(name, args.fresh, samples[name])
    finally:
        server.terminate()
        SOCKET.unlink(missing_ok=True)
    write_report()
    log(f"report written: {REPORT.relative_to(ROOT)}")
    return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def cmd_status(_: argparse.Namespace) -> int:
    running = PIDFILE.exists() and _alive(int(PIDFILE.read_text()))
    print("background run:", f"pid {PIDFILE.read_text()}" if running else "none")
    for name in MODULES:
        session = WORK / f"{name}.sqlite"
        if session.exists():
            done, total = count(session)
            print(f"{name:14} {done}/{total}")
    return 0


def cmd_stop(_args: argparse.Namespace) -> int:
    if not PIDFILE.exists() or not _alive(pid := int(PIDFILE.read_text())):
        print("no background run")
        return 0
    os.killpg(pid, signal.SIGTERM)
    for _ in range(50):
        if not _alive(pid):
            break
        time.sleep(0.1)
    print(f"stopped pid {pid} (its mutated copy is restored at the next start)")
    return 0


# ------------------------------------------------------------------------------------------ report


def changed_lines(diff: str) -> tuple[str, str]:
    minus = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("-") and not ln.startswith("---")]
    plus = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    return " / ".join(minus), " / ".join(plus)


def load_verdicts() -> dict[str, list[dict]]:
    if not VERDICTS.exists():
        return {}
    return tomllib.loads(VERDICTS.read_text())


def verdict_for(verdicts: dict[str, list[dict]], name: str, before: str, after: str) -> dict | None:
    """The verdict whose `before`/`after` equal the mutant's changed lines, or whose `before_contains`/
    `after_contains` are in them (one entry then covers a family, e.g. every operator in an annotation)."""
    for v in verdicts.get(name, []) + verdicts.get("any", []):
        if "before" in v and (v["before"] != before or v.get("after", after) != after):
            continue
        if v.get("before_contains", "") not in before or v.get("after_contains", "") not in after:
            continue
        return v
    return None


def _annotation_only(before: str, after: str) -> dict | None:
    """A mutant that changes only annotations of a `def` line (`-> int | None`, `x: A | None`): every
    module has `from __future__ import annotations`, so annotations are never evaluated."""
    before, after = before.removeprefix("async "), after.removeprefix("async ")
    if before.startswith("def ") and after.startswith("def "):
        sources = [before + " pass", after + " pass"]
    elif re.match(r"^\w+(: |, )", before) and re.match(r"^\w+(: |, )", after):
        # parameter lines of a long def (`x: A | None,`, `self, raw: A, n: B | None`); only the
        # annotations are dropped below, so a changed default still tells the two apart
        sources = [f"def f({before}): pass", f"def f({after}): pass"]
    else:
        return None
    try:
        trees = [ast.parse(source) for source in sources]
    except SyntaxError:
        return None
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.arg):
                node.annotation = None
            elif isinstance(node, ast.FunctionDef):
                node.returns = None
    if before != after and ast.dump(trees[0]) == ast.dump(trees[1]):
        return {
            "kind": "equivalent",
            "why": "an annotation (never evaluated: `from __future__ import annotations`)",
        }
    return None


def carried_results(previous: str) -> tuple[dict[str, list[str]], dict[str, str]]:
    """From the last report: each module's summary cells (the module cell naming the run they come
    from) and its details section, for the modules this checkout has no session of (the sessions are
    local: .mutation/ is not committed)."""
    found = re.search(r"^Generated by .*?, (\d{4}-\d\d-\d\d \d\d:\d\d UTC)\.", previous, re.M)
    when = found.group(1) if found else "an earlier run"
    rows: dict[str, list[str]] = {}
    for line in previous.splitlines():
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 7:  # reports before sampling had no "not sampled" column
            cells.insert(6, "-")
        source, note = cells[0].split("`")[1], cells[0].split("`", 2)[2].strip()
        if len(cells) == 8 and cells[5] != "all (no session yet)":
            cells[0] = f"`{source}` " + (note or f"(run of {when})")
            rows[source] = cells
    sections = {
        m.group(1): m.group(0).strip("\n")
        for m in re.finditer(r"\n### `([^`]+)`\n.*?(?=\n### |\n## |\Z)", previous, re.S)
    }
    return rows, sections


def write_report() -> None:
    verdicts = load_verdicts()
    summary, details = [], []
    carried, sections = carried_results(REPORT.read_text() if REPORT.exists() else "")
    for name, target in MODULES.items():
        session = WORK / f"{name}.sqlite"
        if not session.exists():
            if target.source in carried:
                summary.append("| " + " | ".join(carried[target.source]) + " |")
                if target.source in sections:
                    details.append("\n" + sections[target.source])
            elif name in ALL:
                summary.append(f"| `{target.source}` | - | - | - | - | all (no session yet) | - | n/a |")
            continue
        rows = dump(session)
        # Before stage 2 has run, a survivor of the unit tests has not met the test-bed tests yet.
        awaiting_it = bool(target.it) and not (WORK / f"{name}.stage2").exists()
        killed = survived = equivalent = incompetent = pending = unsampled = annotations = 0
        lines = []
        for item, result in rows:
            if result is None:
                pending += 1
                continue
            mut = item["mutations"][0]
            if result["worker_outcome"] == "skipped" and (result.get("output") or "").startswith(NOT_SAMPLED):
                unsampled += 1
                continue
            if result["worker_outcome"] != "normal":
                incompetent += 1
                continue
            if result["test_outcome"] == "killed":
                killed += 1
                continue
            before, after = changed_lines(result.get("diff") or "")
            line_no = mut["start_pos"][0]
            v = verdict_for(verdicts, name, before, after)
            if v is None and _annotation_only(before, after):
                equivalent += 1
                annotations += 1
                continue
            if awaiting_it and not (v is not None and v.get("kind") == "equivalent"):
                pending += 1
                continue
            if v is not None and v.get("kind") == "equivalent":
                equivalent += 1
                why = f"equivalent: {v['why']}"
            else:
                survived += 1
                why = f"survives: {v['why']}" if v else "survives: NOT YET EXPLAINED"
            lines.append(
                f"| {line_no} | {mut['operator_name'].split('/')[-1]} | `{before}` → `{after}` | {why} |"
            )
        relevant = killed + survived
        pct = f"{100 * killed / relevant:.1f}%" if relevant else "n/a"
        if pending:
            pct += " (incomplete)"
        sampled = "-" if not unsampled else f"{unsampled} (sample: {len(rows) - unsampled} of {len(rows)})"
        summary.append(
            f"| `{target.source}` | {killed} | {survived} | {equivalent} | {incompetent} | {pending} "
            f"| {sampled} | {pct} |"
        )
        if lines or annotations:
            details.append(f"\n### `{target.source}`\n\nTests: `{' '.join(target.tests)}`\n")
            if annotations:
                details.append(
                    f"{annotations} equivalent mutants change only an annotation (never evaluated: every "
                    "module has `from __future__ import annotations`); not listed.\n"
                )
        if lines:
            details.append("| line | operator | mutant | verdict |\n| --- | --- | --- | --- |")
            details.extend(sorted(lines, key=lambda s: int(s.split("|")[1])))
    text = REPORT_HEAD.format(date=f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    text += (
        "| module | killed | survived | equivalent | incompetent | not run | not sampled "
        "| killed / non-equivalent |\n"
    )
    text += "| --- | --- | --- | --- | --- | --- | --- | --- |\n" + "\n".join(summary) + "\n"
    text += "\n## Surviving and equivalent mutants\n" + "\n".join(details) + "\n"
    from tests.mutation.named import report_section

    text += report_section() + REPORT_TAIL
    REPORT.write_text(text)


REPORT_HEAD = """# Mutation testing report

Generated by `make mutation` (`python -m tests.mutation report`), {date}. Tool: cosmic-ray; driver
`tests/mutation/run.py`; verdicts on survivors: `tests/mutation/verdicts.toml`. Each mutant ran only its
module's tests (listed per module below and in `MODULES` of the driver): first its unit tests (every
mutant, through a fork server), then, for the survivors only, its unit and test-bed tests (a private MariaDB
behind the gateway). "Incompetent" mutants broke the import or the test run itself (cosmic-ray's abnormal
outcome), not a test's assertion; "not run" ones wait for the next `make mutation` (it resumes). Equivalent
mutants (no behaviour can tell them apart) are left out of the ratio; each is listed with its reason.
A module with too many mutants to run in the time available was sampled: a seeded sample (seed
`mutation-sample:<module>`, fixed order, see `sample_order` in the driver) of the size shown ran, the
others are "not sampled", and the ratio is over the sample only (an estimate of the module's ratio).

"""

REPORT_TAIL = """
`tests/gateway/test_rules_every_raise_site.py` gives every raise site of every rule its bad/good pair
(28 cases beyond `rulecases.CASES`); the `foreign_key` sites need `foreign_keys = "reject"`, a gateway
configuration only the engine tests (`test_rules_engine.py`) use.

## Running it

    make mutation MUTATION_MODULES=all                      every module, default samples (resumes)
    make mutation MUTATION_MODULES=compiler,alter:100       chosen modules; alter with a sample of 100
    .venv/bin/python -m tests.mutation named                the named mutants above

(a moved or new module goes into `MODULES` of `tests/mutation/run.py`, with its unit and test-bed tests).
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutation")
    sub = parser.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run")
    run.add_argument(
        "--modules", default="", help=f"comma list of {', '.join(MODULES)} (default: {','.join(STABLE)})"
    )
    run.add_argument("--background", action="store_true")
    run.add_argument("--fresh", action="store_true", help="forget the sessions and start over")
    sub.add_parser("status")
    sub.add_parser("report")
    sub.add_parser("stop")
    sub.add_parser("named", help="apply each mutant issue 19 named and run the tests that must kill it")
    args = parser.parse_args(argv)
    if args.cmd == "named":
        from tests.mutation.named import cmd_named

        return cmd_named()
    if args.cmd == "report":
        write_report()
        print(f"wrote {REPORT.relative_to(ROOT)}")
        return 0
    return {"run": cmd_run, "status": cmd_status, "stop": cmd_stop}[args.cmd](args)
