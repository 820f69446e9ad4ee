"""The schema-change-under-traffic experiment (issue 20): writer processes keep a ledger of their writes
while a migration rebuilds a table or replaces a column, then every acknowledged write is checked.

Table `flt_item` (id, code, qty, note), preloaded with ids 1..N and qty = id. Writer w owns the
preloaded rows with id % WRITERS == w and the ids it inserts (WRITER_BASE * (w + 1) + n), so its
ledger alone says what each of its rows must hold: the state after its last acknowledged write.
A write is *acknowledged* (the driver returned), *definitely failed* (the server refused it: the
statement did not run) or *in doubt* (the connection broke: it may have run), as in `ledger.Outcome`;
each write is one autocommit statement, so its row values are the ledger here; rows with an in-doubt
write are checked against both outcomes. A writer refused with SchemaChangeInProgress backs off 5 ms
before its next write, as a client retrying a retryable error would.
"""

from __future__ import annotations

import multiprocessing
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tests.faults.ledger import Outcome, error_name

WRITERS = 4
WRITER_BASE = 100_000_000
APP = "flt"
DELETED = None  # ledger value of a deleted row


def writer(index: int, settings_dict: dict[str, Any], mode: str, stop: Any, ready: Any, out: Any) -> None:
    """One writer process: its own connection through the backend (so errors are the backend's)."""
    from tests.dbtools import setup_django

    setup_django()
    from django.db import DatabaseError, IntegrityError, OperationalError
    from django.db.utils import load_backend

    from django_singlestore.errors import SchemaChangeInProgress

    connection = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(dict(settings_dict), f"writer{index}")
    rng = random.Random(index)
    preload = settings_dict["_ROWS"]
    mine = [i for i in range(1, preload + 1) if i % WRITERS == index]
    live = list(mine)  # this writer's rows that exist
    ledger: dict[int, int | None] = {}
    in_doubt: dict[int, tuple[int | None, int | None]] = {}  # id -> (before, after)
    errors: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    next_insert = WRITER_BASE * (index + 1)
    serial = 0
    signalled = False
    while not stop.is_set():
        if not signalled and sum(counts.values()) >= 50:
            ready.release()
            signalled = True
        # "collide": mixed, with inserts whose code repeats a preloaded row's (the unique key fails).
        choice = "update" if mode == "updates" else rng.choice(("update", "update", "insert", "delete"))
        if choice != "insert" and not live:
            choice = "insert"
        serial += 1
        if choice == "update":
            row = live[rng.randrange(len(live))]
            value = WRITER_BASE * (index + 1) + serial
            sql, params, after = "UPDATE flt_item SET qty = %s WHERE id = %s", [value, row], value
        elif choice == "insert":
            row, next_insert = next_insert, next_insert + 1
            sql = "INSERT INTO flt_item (id, code, qty, note) VALUES (%s, %s, %s, %s)"
            code = 1 + row % 1000 if mode == "collide" else row
            params, after = [row, code, serial, f"w{index}"], serial
        else:
            position = rng.randrange(len(live))
            row = live[position]
            sql, params, after = "DELETE FROM flt_item WHERE id = %s", [row], DELETED
        before = ledger.get(row, row if row <= preload else DELETED)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                affected = cursor.rowcount
        except (SchemaChangeInProgress, IntegrityError) as exc:
            errors[error_name(exc)] += 1  # refused: the statement did not run (Outcome.FAILED)
            if isinstance(exc, SchemaChangeInProgress):
                time.sleep(0.005)  # as a client retrying a retryable error would: a short backoff
            continue
        except OperationalError as exc:  # the connection broke during the (autocommit) statement
            errors[f"{error_name(exc)}, {Outcome.IN_DOUBT.value}"] += 1
            in_doubt[row] = (before, after)
            connection.close()
            continue
        except DatabaseError as exc:
            errors[error_name(exc)] += 1
            continue
        if choice != "insert" and affected != 1:
            errors["no row affected"] += 1
            continue
        counts[choice] += 1
        ledger[row] = after
        in_doubt.pop(row, None)
        if choice == "delete":
            live[position] = live[-1]
            live.pop()
        elif choice == "insert":
            live.append(row)
    if not signalled:
        ready.release()
    connection.close()
    out.put((index, ledger, in_doubt, dict(errors), dict(counts)))


@dataclass
class RunReport:
    kind: str
    mode: str
    rows: int
    outcome: str = ""
    gap_ms: float = 0.0
    migrate_s: float = 0.0
    acknowledged: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    lost_inserts: int = 0
    reverted_updates: int = 0
    resurrected_deletes: int = 0
    other_mismatches: int = 0
    in_doubt: int = 0
    schema_unchanged: bool | None = None
    columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        kept = not (
            self.lost_inserts or self.reverted_updates or self.resurrected_deletes or self.other_mismatches
        )
        return kept and (self.outcome == "migrated" or bool(self.schema_unchanged))

    def line(self) -> str:
        return (
            f"{self.kind:<18} {self.mode:<8} rows={self.rows:<7} {self.outcome:<9} gap={self.gap_ms:7.1f} ms "
            f"migrate={self.migrate_s:5.1f} s acked={dict(self.acknowledged)} "
            f"lost_inserts={self.lost_inserts} reverted_updates={self.reverted_updates} "
            f"resurrected_deletes={self.resurrected_deletes} other={self.other_mismatches} "
            f"in_doubt={self.in_doubt} failed_by_error={dict(self.errors)}"
        )


def model_state(kind: str, after: bool) -> Any:
    from django.db import models
    from django.db.migrations.state import ModelState

    code: Any = models.IntegerField()
    qty: Any = models.IntegerField(null=True)
    if after and kind == "rebuild":
        code = models.IntegerField(unique=True)  # the shard key moves to `code`: the table is rebuilt
    if after and kind == "column":
        qty = models.BigIntegerField()  # int -> bigint, NULL -> NOT NULL: the column is replaced
    fields = [
        ("id", models.BigAutoField(primary_key=True)),
        ("code", code),
        ("qty", qty),
        ("note", models.CharField(max_length=20, default="")),
    ]
    return ModelState(APP, "Item", fields, {})


def _state(kind: str, after: bool) -> Any:
    from django.db.migrations.state import ProjectState

    state = ProjectState()
    state.add_model(model_state(kind, after))
    return state


def _schema(connection: Any) -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        table = connection.introspection.get_create_table(cursor, "flt_item")
    return [(c.name, c.definition) for c in table.columns]


def run_once(connection: Any, kind: str, mode: str, rows: int) -> RunReport:
    """Create and fill flt_item, start the writers, migrate under their traffic, check every write."""
    from django.db import DatabaseError, migrations, models

    report = RunReport(kind, mode, rows)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS flt_item")
    before_state = _state(kind, after=False)
    with connection.schema_editor() as editor:
        editor.create_model(before_state.apps.get_model(APP, "Item"))
    with connection.cursor() as cursor:
        for start in range(1, rows + 1, 5000):
            batch = [(i, i, i, "") for i in range(start, min(start + 5000, rows + 1))]
            cursor.executemany("INSERT INTO flt_item (id, code, qty, note) VALUES (%s, %s, %s, %s)", batch)
    original_schema = _schema(connection)
    if kind == "rebuild":
        operation: Any = migrations.AlterField("Item", "code", models.IntegerField(unique=True))
    else:
        operation = migrations.AlterField("Item", "qty", models.BigIntegerField())
    context = multiprocessing.get_context("spawn")
    stop, ready, out = context.Event(), context.Semaphore(0), context.Queue()
    settings_dict = {**connection.settings_dict, "_ROWS": rows}
    processes = [
        context.Process(target=writer, args=(w, settings_dict, mode, stop, ready, out))
        for w in range(WRITERS)
    ]
    for process in processes:
        process.start()
    for _ in processes:
        assert ready.acquire(timeout=120), "a writer did not start"
    after_state = before_state.clone()
    operation.state_forwards(APP, after_state)
    started = time.monotonic()
    try:
        with connection.schema_editor() as editor:
            try:
                operation.database_forwards(APP, editor, before_state, after_state)
            finally:
                report.gap_ms = sum(ms for _, ms in editor.write_gaps)
        report.outcome = "migrated"
    except DatabaseError as exc:
        report.outcome = f"failed: {type(exc).__name__}"
    report.migrate_s = time.monotonic() - started
    time.sleep(0.5)  # writes after the change, too
    stop.set()
    results = [out.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    report.columns = [name for name, _ in _schema(connection)]
    if report.outcome != "migrated":
        report.schema_unchanged = _schema(connection) == original_schema
    _check(connection, report, results, rows)
    return report


def _check(connection: Any, report: RunReport, results: list[Any], rows: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, qty FROM flt_item")
        table = dict(cursor.fetchall())
    expected: dict[int, int | None] = {i: i for i in range(1, rows + 1)}
    doubtful: dict[int, tuple[int | None, int | None]] = {}
    for _index, ledger, in_doubt, errors, counts in results:
        expected.update(ledger)
        doubtful.update(in_doubt)
        report.errors.update(errors)
        report.acknowledged.update(counts)
    report.in_doubt = len(doubtful)
    for row in set(expected) | set(table):
        want = expected.get(row, DELETED)
        have = table.get(row, DELETED)
        if have == want or (row in doubtful and have in doubtful[row]):
            continue
        if want is DELETED:
            report.resurrected_deletes += 1
        elif have is DELETED and row > rows:
            report.lost_inserts += 1
        elif have is DELETED:
            report.other_mismatches += 1  # a preloaded row gone
        else:
            report.reverted_updates += 1
