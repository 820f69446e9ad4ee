"""The transaction policy of django_singlestore: one module for the sync backend and the async engine.

SingleStore has multi-statement transactions (READ COMMITTED) but no savepoints, and a child
aggregator refuses writes to REFERENCE tables inside a multi-statement transaction (error 2549).
What follows from that, decided once here:

1. **Autocommit by default; `atomic()` is a real transaction.** `supports_transactions=True`,
   `uses_savepoints=False`. Django's own `Atomic` already knows what to do without savepoints, so
   nothing is re-implemented: a nested block records "no savepoint"; an exception that leaves an
   inner block marks the whole transaction for rollback (`needs_rollback`); any query after that in
   the outer block raises `TransactionManagementError`; the outermost block rolls everything back,
   including what the inner blocks did before the failure. `durable=True` raises RuntimeError when
   nested (Django's check, which also lets `TestCase`'s own blocks through).

2. **TestCase uses one transaction per test** (Django >= 5.1 supports `supports_transactions=True`
   with `uses_savepoints=False`): each test runs inside an atomic block that is rolled back, and
   fixtures / `setUpTestData` are loaded again for every test (there is no class-level savepoint
   to roll back to).

3. **skip_autocommit** (`OPTIONS["skip_autocommit"]`, or `DJANGO_SINGLESTORE_SKIP_AUTOCOMMIT` for
   every alias that does not set the option): the connection never leaves autocommit. For that
   alias `supports_transactions` is False (so `TestCase` flushes tables like `TransactionTestCase`)
   and `atomic()` keeps only Django's bookkeeping: no BEGIN, COMMIT or ROLLBACK is sent, each
   statement commits when it runs, `on_commit` callbacks run when the outermost block exits without
   error, nesting and `durable` behave as in (1), and a block that ends in a rollback after
   statements ran emits `NoRollbackWarning` naming how many statements stayed committed (turn it
   into an error with `warnings.simplefilter("error", NoRollbackWarning)`). The environment
   variable accepts only 1/true/yes/on, 0/false/no/off or empty (any case); anything else raises
   ImproperlyConfigured naming it. An explicit `OPTIONS["skip_autocommit"]` wins over the variable.

4. **Aggregator role.** The backend's one server-data query also reads `@@master_aggregator`
   (`'self'` on the master aggregator) and `@@aggregator_id`. When an alias without skip_autocommit
   first connects to a child aggregator, `ChildAggregatorWarning` is emitted once per alias; error
   2549 arrives as `errors.ReferenceTableWriteOnChildAggregator`, whose text names the remedies.

5. **Test reset** (`DATABASES[alias]["TEST"]["RESET"]`): `"transaction"` (default) keeps (2);
   `"flush"` makes `supports_transactions` False while the alias's test database is in use (from
   `creation.create_test_db` to `destroy_test_db`), so `TestCase` flushes tables between tests like
   `TransactionTestCase`: for suites that catch an error inside `atomic()` and query on, which
   without savepoints breaks the per-test transaction. Outside test runs the setting changes nothing.

6. **on_commit** is Django's: after the outermost commit, never after a rollback, at once in
   autocommit, `robust=True` logs and goes on.

The async engine subclasses the sync wrapper and so inherits `TransactionPolicyMixin`; for its own
(aiomysql) connections it asks the same `TransactionPolicy` (`sends_transaction_control`) and calls
`note_statement()` / `rolled_back()` the way the sync side does.
"""

from __future__ import annotations

import sys
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.base.base import NO_DB_ALIAS
from django.utils.functional import cached_property

from django_singlestore.errors import REFERENCE_WRITE_REMEDIES, server_text
from django_singlestore.options import (
    SKIP_AUTOCOMMIT_ENV,
    ConnectionOptions,
    parse_options,
    parse_skip_autocommit_env,
)

__all__ = [
    "AGGREGATOR_ROLE_CHILD",
    "AGGREGATOR_ROLE_MASTER",
    "AGGREGATOR_ROLE_UNKNOWN",
    "REFERENCE_WRITE_REMEDIES",
    "SKIP_AUTOCOMMIT_ENV",
    "TEST_RESET_MODES",
    "ChildAggregatorWarning",
    "NoRollbackWarning",
    "TransactionPolicy",
    "TransactionPolicyMixin",
    "aggregator_role",
    "forget_child_aggregator_warnings",
    "parse_skip_autocommit_env",
    "policy_from_options",
    "set_test_flush",
    "test_reset_mode",
    "transaction_policy_for",
    "warn_if_child_aggregator",
]

AGGREGATOR_ROLE_MASTER = "master"
AGGREGATOR_ROLE_CHILD = "child"
AGGREGATOR_ROLE_UNKNOWN = "unknown"


#: DATABASES[alias]["TEST"]["RESET"] values: per-test transaction (default) or per-test flush.
TEST_RESET_MODES = ("transaction", "flush")

#: Aliases whose test database is in use with TEST["RESET"] = "flush" (set by creation).
_flushing_test_aliases: set[str] = set()


def test_reset_mode(alias: str, settings_dict: Mapping[str, Any]) -> str:
    """DATABASES[alias]["TEST"]["RESET"], validated ("transaction" when unset)."""
    value = (settings_dict.get("TEST") or {}).get("RESET", "transaction")
    if value not in TEST_RESET_MODES:
        raise ImproperlyConfigured(
            f"DATABASES[{alias!r}]['TEST']['RESET'] = {value!r}: use 'transaction' (each TestCase test in a "
            f"transaction rolled back after it) or 'flush' (tables flushed between tests)."
        )
    return str(value)


def set_test_flush(alias: str, active: bool) -> None:
    """Called by creation when the alias's test database starts (or stops) being used."""
    if active:
        _flushing_test_aliases.add(alias)
    else:
        _flushing_test_aliases.discard(alias)


class NoRollbackWarning(RuntimeWarning):
    """An atomic block (or `rollback()`) ended in a rollback on a skip_autocommit alias, where every
    statement had already been committed when it ran: nothing was undone."""


class ChildAggregatorWarning(RuntimeWarning):
    """The alias is connected to a child aggregator, which refuses reference-table writes inside
    transactions (2549)."""


@dataclass(frozen=True)
class TransactionPolicy:
    """How one alias treats transactions; pure data, decided from settings without I/O."""

    alias: str
    skip_autocommit: bool = False
    #: Where skip_autocommit came from: "OPTIONS", the environment variable's name, or "default".
    source: str = "default"
    #: TEST["RESET"] = "flush" and the test database is in use: TestCase flushes instead.
    test_flush: bool = False

    @property
    def sends_transaction_control(self) -> bool:
        """Whether BEGIN (autocommit off), COMMIT and ROLLBACK reach the server."""
        return not self.skip_autocommit

    @property
    def supports_transactions(self) -> bool:
        return not self.skip_autocommit and not self.test_flush


def policy_from_options(
    alias: str, options: ConnectionOptions, autocommit: bool = True, test_reset: str = "transaction"
) -> TransactionPolicy:
    """The policy of one alias from its parsed options (`options.parse_options`, which read OPTIONS and
    DJANGO_SINGLESTORE_SKIP_AUTOCOMMIT) and its TEST["RESET"] mode (`test_reset_mode`). skip_autocommit
    with AUTOCOMMIT=False is contradictory and refused."""
    skip, source = options.skip_autocommit, options.skip_autocommit_source
    if skip and autocommit is False:
        raise ImproperlyConfigured(
            f"Database {alias!r}: skip_autocommit (from {source}) keeps the connection in autocommit, "
            f"which contradicts AUTOCOMMIT=False; drop one of them."
        )
    # NO_DB_ALIAS: Django's helper connection (a copy of a real alias's settings) runs no tests.
    test_flush = alias != NO_DB_ALIAS and test_reset == "flush" and alias in _flushing_test_aliases
    return TransactionPolicy(alias=alias, skip_autocommit=skip, source=source, test_flush=test_flush)


def transaction_policy_for(
    alias: str, settings_dict: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> TransactionPolicy:
    """The policy of one alias from its settings dict and the environment (no I/O).

    OPTIONS["skip_autocommit"] wins; otherwise the environment variable decides.
    """
    options = parse_options(settings_dict.get("OPTIONS"), allow_pool=True, alias=alias, environ=environ)
    return policy_from_options(
        alias, options, settings_dict.get("AUTOCOMMIT", True), test_reset_mode(alias, settings_dict)
    )


# --- aggregator role ------------------------------------------------------------------------------


def aggregator_role(master_aggregator: Any) -> str:
    """'master' when `@@master_aggregator` is 'self' (8.1 variable dump), 'child' for any other
    non-empty value (the master's address), 'unknown' when the server did not say."""
    if master_aggregator is None:
        return AGGREGATOR_ROLE_UNKNOWN
    value = server_text(master_aggregator).strip()
    if not value:
        return AGGREGATOR_ROLE_UNKNOWN
    return AGGREGATOR_ROLE_MASTER if value.lower() == "self" else AGGREGATOR_ROLE_CHILD


_warned_child: set[tuple[str, str, str]] = set()
_warned_lock = threading.Lock()


def forget_child_aggregator_warnings(alias: str | None = None) -> None:
    """Let the once-per-alias child-aggregator warning fire again (tests that repoint an alias)."""
    with _warned_lock:
        for key in [k for k in _warned_child if alias is None or k[0] == alias]:
            _warned_child.discard(key)


def warn_if_child_aggregator(
    policy: TransactionPolicy,
    role: str,
    *,
    host: Any,
    port: Any,
    master: Any = None,
    aggregator_id: Any = None,
) -> bool:
    """Emit ChildAggregatorWarning once per (alias, host, port) when the alias is on a child aggregator
    and still uses transactions. Returns whether it warned this time."""
    if role != AGGREGATOR_ROLE_CHILD or policy.skip_autocommit or policy.alias == NO_DB_ALIAS:
        # NO_DB_ALIAS: Django's helper connection for creating test databases runs no user writes.
        return False
    key = (policy.alias, str(host), str(port))
    with _warned_lock:
        if key in _warned_child:
            return False
        _warned_child.add(key)
    where = f"{host or 'localhost'}:{port or 3306}"
    warnings.warn(
        f"Database {policy.alias!r} is connected to a child aggregator ({where}, @@aggregator_id="
        f"{aggregator_id}, master aggregator {master}). SingleStore refuses writes to REFERENCE tables "
        f"inside atomic() blocks there (error 2549); sharded tables are not affected. "
        f"{REFERENCE_WRITE_REMEDIES}",
        ChildAggregatorWarning,
        stacklevel=2,
    )
    return True


# --- the wrapper side -----------------------------------------------------------------------------


#: Modules whose frames a warning skips to point at the user's code (atomic()'s exit, the bridge).
_INTERNAL_MODULES = ("django.db.", "django_singlestore", "asgiref.", "greenlet")


def _user_stacklevel() -> int:
    """`stacklevel` for a warning raised by the caller of this function: the first frame outside
    Django's database layer and this backend (the `with atomic()` block's line or a direct
    `rollback()` call), or the outermost frame when every frame is internal (a bridge greenlet)."""
    frame, level = sys._getframe(2), 2
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith(_INTERNAL_MODULES):
        frame, level = frame.f_back, level + 1
    return level


class TransactionPolicyMixin:
    """Mixed into `django_singlestore.base.DatabaseWrapper` (and so into the async engine's wrapper).

    Normal aliases change nothing of Django's behaviour. skip_autocommit aliases never send
    autocommit-off, COMMIT or ROLLBACK, count the statements run while Django believes a transaction
    is open, and warn when a rollback is asked for after some ran.
    """

    # Provided by BaseDatabaseWrapper.
    alias: str
    settings_dict: dict[str, Any]
    autocommit: bool
    singlestore_options: ConnectionOptions

    #: Statements that succeeded since Django last turned autocommit off (skip_autocommit only).
    _statements_in_pseudo_transaction = 0

    @cached_property
    def transaction_policy(self) -> TransactionPolicy:
        return policy_from_options(
            self.alias,
            self.singlestore_options,
            self.settings_dict.get("AUTOCOMMIT", True),
            test_reset_mode(self.alias, self.settings_dict),
        )

    def check_settings(self) -> None:
        super().check_settings()  # type: ignore[misc]
        self.transaction_policy  # noqa: B018 - validates the env var and OPTIONS before connecting

    def note_statement(self) -> None:
        """Called by the cursor after each successful statement."""
        if not self.autocommit:
            self._statements_in_pseudo_transaction += 1

    def set_autocommit(
        self, autocommit: bool, force_begin_transaction_with_broken_autocommit: bool = False
    ) -> None:
        if autocommit or self.transaction_policy.sends_transaction_control:
            super().set_autocommit(autocommit, force_begin_transaction_with_broken_autocommit)  # type: ignore[misc]
            return
        # skip_autocommit, autocommit off: Django's bookkeeping only. Nothing is sent, and no "BEGIN"
        # is logged in connection.queries (Django logs one around _set_autocommit(False)).
        self.validate_no_atomic_block()  # type: ignore[attr-defined]
        self.close_if_health_check_failed()  # type: ignore[attr-defined]
        self.ensure_connection()  # type: ignore[attr-defined]
        self._statements_in_pseudo_transaction = 0
        self.autocommit = False

    def _set_autocommit(self, autocommit: bool) -> None:
        if self.transaction_policy.sends_transaction_control:
            super()._set_autocommit(autocommit)  # type: ignore[misc]
            return
        # skip_autocommit: turning autocommit on is allowed (mysqlclient connects with it off);
        # turning it off would begin a transaction, so it never reaches the server.
        self._statements_in_pseudo_transaction = 0
        if autocommit:
            super()._set_autocommit(True)  # type: ignore[misc]

    def _commit(self) -> None:
        if self.transaction_policy.sends_transaction_control:
            super()._commit()  # type: ignore[misc]
            return
        self._statements_in_pseudo_transaction = 0

    def _rollback(self) -> None:
        if self.transaction_policy.sends_transaction_control:
            super()._rollback()  # type: ignore[misc]

    def rollback(self) -> None:
        committed = self._statements_in_pseudo_transaction
        super().rollback()  # type: ignore[misc]
        if not self.transaction_policy.skip_autocommit:
            return
        self._statements_in_pseudo_transaction = 0
        self.rolled_back(committed)

    def rolled_back(self, committed: int) -> None:
        """Tell the truth about a rollback on a skip_autocommit alias (after Django's bookkeeping, so
        a warning turned into an error leaves the connection's state clean)."""
        if committed:
            warnings.warn(
                f"Database {self.alias!r} has skip_autocommit (from {self.transaction_policy.source}): "
                f"the block was rolled back, but its {committed} statement(s) had each been committed "
                f"when they ran and were NOT undone. Its on_commit callbacks were discarded.",
                NoRollbackWarning,
                stacklevel=_user_stacklevel(),
            )
