"""The client-side ledger of the fault experiments: what each write's client saw, and what the
database must therefore hold.

A write ends in one of three states:

* **acknowledged**: its commit returned (for an autocommit statement: the statement returned). The
  database must hold it.
* **definitely failed**: the error came before the commit was sent (a refused statement, a broken
  connection or a cancellation inside the transaction, no connection from the pool). The transaction
  was rolled back: the database must not hold it.
* **in doubt**: the error came while the commit was in flight (the connection was cut or killed, or the
  task was cancelled, after the COMMIT left): the database may hold it or not, but all of it or none.

`Phase` tracks where a write is, so that the error handler can tell the last two apart.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


class Outcome(enum.Enum):
    ACKNOWLEDGED = "acknowledged"
    FAILED = "definitely failed"
    IN_DOUBT = "in doubt"


class Phase:
    """Where one write is: `committing` is set just before the commit (or the autocommit statement)
    is sent; an error after that leaves the write in doubt."""

    __slots__ = ("committing",)

    def __init__(self) -> None:
        self.committing = False

    def outcome_of_error(self) -> Outcome:
        return Outcome.IN_DOUBT if self.committing else Outcome.FAILED


def error_name(exc: BaseException) -> str:
    """`Type (code)` for counting errors by kind (the code of a driver error, when it has one)."""
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
    return f"{type(exc).__name__} ({code})" if code is not None else type(exc).__name__


@dataclass
class Ledger:
    """Writes by key: the outcome and how many rows the write holds (all or none of them)."""

    outcomes: dict[int, tuple[Outcome, int]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)

    def record(self, key: int, outcome: Outcome, rows: int, error: BaseException | None = None) -> None:
        self.outcomes[key] = (outcome, rows)
        if error is not None:
            self.errors[f"{error_name(error)}, {outcome.value}"] += 1

    def merge(self, other: Ledger) -> None:
        self.outcomes.update(other.outcomes)
        self.errors.update(other.errors)

    def counts(self) -> Counter[str]:
        return Counter(outcome.value for outcome, _ in self.outcomes.values())


@dataclass
class Verdict:
    """The database compared with the ledger. `ok` when no acknowledged write is missing, no failed
    write is present and no write is present in part."""

    acknowledged: int = 0
    failed: int = 0
    in_doubt: int = 0
    in_doubt_committed: int = 0
    lost: int = 0  # acknowledged, not (fully) in the database
    phantom: int = 0  # definitely failed, yet in the database
    torn: int = 0  # some of its rows only: a half-committed transaction
    unknown: int = 0  # rows of no write in the ledger

    @property
    def ok(self) -> bool:
        return not (self.lost or self.phantom or self.torn or self.unknown)

    def line(self) -> str:
        return (
            f"acknowledged={self.acknowledged} definitely_failed={self.failed} in_doubt={self.in_doubt} "
            f"(committed {self.in_doubt_committed}) lost={self.lost} phantom={self.phantom} "
            f"torn={self.torn} unknown={self.unknown}"
        )


def compare(ledger: Ledger, rows_per_write: Mapping[int, int]) -> Verdict:
    """`rows_per_write`: how many rows of each write key the database holds."""
    verdict = Verdict()
    for key, (outcome, rows) in ledger.outcomes.items():
        have = rows_per_write.get(key, 0)
        if have not in (0, rows):
            verdict.torn += 1
        if outcome is Outcome.ACKNOWLEDGED:
            verdict.acknowledged += 1
            verdict.lost += have != rows
        elif outcome is Outcome.FAILED:
            verdict.failed += 1
            verdict.phantom += have != 0
        else:
            verdict.in_doubt += 1
            verdict.in_doubt_committed += have == rows
    verdict.unknown = sum(1 for key in rows_per_write if key not in ledger.outcomes)
    return verdict


def in_doubt_keys(ledger: Ledger) -> Iterable[int]:
    return (key for key, (outcome, _) in ledger.outcomes.items() if outcome is Outcome.IN_DOUBT)
