"""The mutants issue 19 named (deliberate one-line bugs a reviewer tried), applied one at a time to a private
copy of the checkout, each against the tests that must catch it.

    python -m tests.mutation named       exit 0 when every one is killed; results in .mutation/named.json

A mutant whose `before` text is no longer in its module (the code moved) fails the check too: the entry
must follow the code, or the promise it stands for is no longer checked.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime

from tests.mutation.run import PYTHON, WORK, copy_checkout, log

NAMED_TREE = WORK / "named-tree"
RESULTS = WORK / "named.json"


@dataclass(frozen=True)
class Named:
    module: str
    what: str
    before: str
    after: str
    tests: tuple[str, ...]


MOVE = "tests/backend/test_shard_key_move_strength_it.py"
SITES = "tests/gateway/test_rules_every_raise_site.py::test_raise_site_through_gateway"

NAMED: tuple[Named, ...] = (
    Named(
        "django_singlestore/compiler.py",
        "a shard-key row move without a transaction deletes before it inserts",
        "        else:\n"
        "            manager._insert(rows, fields=fields, raw=True, using=alias)\n"
        "            manager.filter(pk__in=movers).exclude(same)._raw_delete(alias)\n",
        "        else:\n"
        "            manager.filter(pk__in=movers).exclude(same)._raw_delete(alias)\n"
        "            manager._insert(rows, fields=fields, raw=True, using=alias)\n",
        (
            f"{MOVE}::test_a_failed_move_loses_no_row",
            f"{MOVE}::test_a_failed_move_of_several_rows_loses_none",
        ),
    ),
    Named(
        "django_singlestore/compiler.py",
        "the refusal of expression moves without a transaction turned off",
        "if _is_expression(value) and not transactional:",
        "if False:",
        (f"{MOVE}::test_an_expression_move_is_refused_and_changes_nothing",),
    ),
    Named(
        "django_singlestore/rebuild.py",
        "the row-count check of the copy's verification turned off (was `verify_copied_rows` in alter.py)",
        "if differences or before != after:",
        "if differences:",
        (
            "tests/alter/test_rebuild_verify_strength_it.py"
            "::test_a_copy_with_an_extra_row_stops_the_rebuild_and_keeps_the_table",
        ),
    ),
    Named(
        "django_singlestore/errors.py",
        "1690 removed from INTEGRITY_CODES",
        '    1690: "BIGINT UNSIGNED value is out of range",\n',
        "",
        (
            "tests/backend/test_errors_strength_it.py::test_unsigned_out_of_range_is_an_integrity_error",
            "tests/backend/test_errors_strength.py::test_every_mapped_code_from_either_driver",
        ),
    ),
    Named(
        "django_singlestore/errors.py",
        "1586 removed from INTEGRITY_CODES",
        "    1586: \"Duplicate entry for key '...' (unique violation, named key)\",\n",
        "",
        ("tests/backend/test_errors_strength.py::test_every_mapped_code_from_either_driver",),
    ),
    Named(
        "django_singlestore/options.py",
        "the negative-value check of client_flag dropped",
        "if isinstance(value, bool) or not isinstance(value, int) or value < 0:",
        "if isinstance(value, bool) or not isinstance(value, int):",
        ("tests/backend/test_options_strength.py::test_client_flag_must_be_a_non_negative_int",),
    ),
    Named(
        "tests/testbed/gateway/rules.py",
        "unique key without the shard key on ALTER ... ADD UNIQUE not refused",
        "                    and not set(shard) <= set(_lower(key.columns))\n                ):\n"
        '                    raise GatewayError("unique_without_shard_key", name=name)\n',
        "                    and not set(shard) <= set(_lower(key.columns))\n                ):\n"
        "                    pass\n",
        (f"{SITES}[unique_without_shard_key-alter-add-unique-key]",),
    ),
    Named(
        "tests/testbed/gateway/rules.py",
        "the same on ADD COLUMN ... UNIQUE",
        'raise GatewayError("unique_without_shard_key", name=col.name)',
        "pass",
        (f"{SITES}[unique_without_shard_key-alter-add-column-unique]",),
    ),
)


def check(entry: Named) -> str:
    """'killed', 'SURVIVED' or 'STALE' (the `before` text is not in the module exactly once)."""
    path = NAMED_TREE / entry.module
    source = path.read_text()
    if source.count(entry.before) != 1:
        return "STALE"
    path.write_text(source.replace(entry.before, entry.after))
    try:
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        rc = subprocess.run(
            [
                "nice",
                "-n",
                "19",
                str(PYTHON),
                "-m",
                "pytest",
                "-x",
                "-q",
                "-p",
                "no:cacheprovider",
                *entry.tests,
            ],
            cwd=NAMED_TREE,
            env=env,
            capture_output=True,
        ).returncode
    finally:
        path.write_text(source)
    # 1: a test failed. Anything else (collection error, interrupted) proves nothing either way.
    return "killed" if rc == 1 else "SURVIVED" if rc == 0 else f"ERROR (pytest exit {rc})"


def cmd_named() -> int:
    WORK.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(NAMED_TREE, ignore_errors=True)
    copy_checkout(NAMED_TREE)
    results = []
    for entry in NAMED:
        outcome = check(entry)
        log(f"{outcome:8} {entry.module}: {entry.what}")
        results.append({"module": entry.module, "what": entry.what, "tests": entry.tests, "outcome": outcome})
    RESULTS.write_text(json.dumps({"date": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC", "results": results}))
    shutil.rmtree(NAMED_TREE, ignore_errors=True)
    return 0 if all(r["outcome"] == "killed" for r in results) else 1


def report_section() -> str:
    """The report's table of the named mutants, with the outcome of the last `named` check."""
    done = json.loads(RESULTS.read_text()) if RESULTS.exists() else None
    outcomes = {(r["module"], r["what"]): r["outcome"] for r in done["results"]} if done else {}
    when = f"last `python -m tests.mutation named`: {done['date']}" if done else "not checked yet"
    lines = [
        "\n## The mutants issue 19 named\n",
        "Each is applied to a private copy of the checkout and the tests named here are run "
        f"(`python -m tests.mutation named`, `tests/mutation/named.py`; {when}):\n",
        "| module | mutant | tests | outcome |",
        "| --- | --- | --- | --- |",
    ]
    for e in NAMED:
        tests = "<br>".join(f"`{t.removeprefix('tests/')}`" for t in e.tests)
        lines.append(
            f"| `{e.module}` | {e.what} | {tests} | {outcomes.get((e.module, e.what), 'not checked')} |"
        )
    return "\n".join(lines) + "\n"
