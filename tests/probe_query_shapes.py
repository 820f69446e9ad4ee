"""Pin the gateway's query-shape rules on a real SingleStore: ``python -m tests.probe_query_shapes``.

Runs, against ``SINGLESTORE_URL`` (a database of its own is created and dropped: ``<NAME>_probe``), every
statement of ``tests/gateway/rulecases_shapes.py`` (each refused shape, its other spellings, and the valid
forms next to them) plus the LIMIT-after-UNION reading, and prints for each the outcome the gateway gives
(code and text from ``errors.ERRORS``) beside the server's. Rows whose rule is an assumption
(``assumption=True`` or ``verified=False``) are marked, so the first run on a real server pins them.

It only reports: the exit status is 0 unless the server cannot be reached. The real-server workflow
prints the table (and writes it to the job summary).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any

import MySQLdb

from tests.gateway.rulecases import SETUP
from tests.gateway.rulecases_shapes import ACCEPTED, SHAPE_CASES, VARIANTS
from tests.testbed import Endpoint
from tests.testbed.gateway.errors import ERRORS

#: (statement, expected rows when SingleStore limits only the last member, rows if it limits the union)
UNION_LIMIT = (
    ("SELECT 1 UNION SELECT 2 UNION SELECT 3 LIMIT 1", 3, 1),
    ("(SELECT 1) UNION (SELECT 2) UNION (SELECT 3) LIMIT 1", 1, 1),
)
#: Single-table writes to a REFERENCE table that read a sharded table: not covered by the documented
#: 1706 (multi-table syntax); the gateway accepts them, the probe records what the server says.
UNDECIDED = (
    "DELETE FROM ref WHERE id IN (SELECT * FROM (SELECT ref.id FROM ref JOIN cs ON ref.a = cs.id) s)",
    "UPDATE ref SET a = 3 WHERE id IN (SELECT cs.id FROM cs)",
)


@dataclass
class Row:
    statement: str
    expected: str
    got: str
    label: str

    @property
    def status(self) -> str:
        if self.expected == "?":
            return "RECORD"
        return "MATCH" if self.expected == self.got else "DIFFERS"


def _outcome(conn: Any, sql: str) -> tuple[str, list[tuple[Any, ...]]]:
    cur = conn.cursor()
    try:
        cur.execute(sql)
        rows = list(cur.fetchall() or ())
        return "ok", rows
    except MySQLdb.MySQLError as exc:
        code = exc.args[0] if exc.args else "?"
        text = exc.args[1] if len(exc.args) > 1 else str(exc)
        return f"{code}: {text}", []
    finally:
        cur.close()


def _expected(error: str, fields: dict[str, str]) -> str:
    spec = ERRORS[error]
    return (
        f"{spec.code}: {spec.format(**fields)}" if "{" not in spec.template or fields else f"{spec.code}: ..."
    )


def _label(error: str) -> str:
    spec = ERRORS[error]
    if spec.assumption:
        return "assumption (skip text)"
    return "documented" if spec.verified else "documented rule, code/text assumed"


def probe(endpoint: Endpoint) -> list[Row]:
    database = f"{endpoint.database}_probe"[:64]
    admin = MySQLdb.connect(**endpoint.mysqldb_kwargs(database=""))
    admin.cursor().execute(f"DROP DATABASE IF EXISTS `{database}`")
    admin.cursor().execute(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4")
    rows: list[Row] = []
    try:
        conn = MySQLdb.connect(**endpoint.mysqldb_kwargs(database=database, autocommit=True))
        for sql in SETUP:
            _outcome(conn, sql)
        for case in SHAPE_CASES:  # each on empty tables, as in the gateway's own tests
            for table in ("cs", "rs", "rs2", "ref"):
                _outcome(conn, f"DELETE FROM {table}")
            got, _ = _outcome(conn, case.bad)
            expected = _expected(case.error, case.fields)
            if expected.endswith("..."):
                got = got if not got.startswith(expected[:-3]) else expected
            rows.append(Row(case.bad, expected, got, _label(case.error)))
            got, _ = _outcome(conn, case.good)
            rows.append(Row(case.good, "ok", got, "valid form"))
        for sql in ("REPLACE INTO cs (id, name) VALUES (1, 'x'), (2, 'y')", "REPLACE INTO rs VALUES (1, 'x'), (2, 'y')",
                    "REPLACE INTO ref (id, a) VALUES (1, 1), (2, 2)"):  # fmt: skip
            _outcome(conn, sql)
        for error, sql in VARIANTS:
            got, _ = _outcome(conn, sql)
            spec = ERRORS[error]
            expected = f"{spec.code}: {spec.template}" if "{" not in spec.template else f"{spec.code}: ..."
            if expected.endswith("...") and got.startswith(f"{spec.code}: {spec.template.split('{')[0]}"):
                got = expected
            rows.append(Row(sql, expected, got, _label(error)))
        for sql in ACCEPTED:
            got, _ = _outcome(conn, sql)
            rows.append(Row(sql, "ok", got, "accepted form"))
        for sql, last_only, _whole in UNION_LIMIT:
            got, result = _outcome(conn, sql)
            rows.append(
                Row(sql, f"{last_only} rows", f"{len(result)} rows" if got == "ok" else got, "assumption")
            )
        for sql in UNDECIDED:
            got, _ = _outcome(conn, sql)
            rows.append(Row(sql, "?", got, "not decided by the docs"))
        conn.close()
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS `{database}`")
        admin.close()
    return rows


def render(rows: list[Row]) -> str:
    lines = ["| status | rule | statement | gateway | server |", "|---|---|---|---|---|"]
    for r in rows:
        cells = (r.status, r.label, r.statement, r.expected, r.got)
        lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    counts = {s: sum(1 for r in rows if r.status == s) for s in ("MATCH", "DIFFERS", "RECORD")}
    lines.append("")
    lines.append(", ".join(f"{k}: {v}" for k, v in counts.items()))
    return "\n".join(lines)


def main() -> int:
    url = os.environ.get("SINGLESTORE_URL")
    if not url:
        print("SINGLESTORE_URL is not set: nothing to probe", file=sys.stderr)
        return 2
    table = render(probe(Endpoint.from_url(url)))
    print(table)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as out:
            out.write("## Query-shape rules on the real server\n\n" + table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
