"""Shard-key row moves without a transaction (OPTIONS skip_autocommit), through the test bed (issue 19).

compiler.py moves a row whose shard key changes by writing it again and deleting the old one. Without a
transaction it must insert first, so a failure leaves the old row (never a lost row), and it must refuse
new values that are expressions (they could not be computed safely row by row). These tests assert that
behaviour, not the compiler's code, so they hold across its rewrite (issue 21).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.db import IntegrityError, NotSupportedError, models
from django.db.models import F, Value
from django.db.models.functions import Concat

APP = "s2movestrength"


class Member(models.Model):
    """Sharded on `handle` by the automatic layout (the id is demoted to a plain KEY)."""

    handle = models.CharField(max_length=30, unique=True)
    score = models.IntegerField(default=0)

    class Meta:
        app_label = APP
        db_table = "s2ms_member"


@pytest.fixture
def members(make_alias: Callable[..., Any]) -> Any:
    """Member's manager on an alias without transactions (skip_autocommit), table made."""
    conn = make_alias("s2nt", skip_autocommit=True)
    assert not conn.features.supports_transactions
    with conn.schema_editor() as editor:
        editor.create_model(Member)
    return Member._default_manager.db_manager(conn.alias)


def state(members: Any) -> list[tuple[int, str, int]]:
    return sorted(members.values_list("pk", "handle", "score"))


def test_a_constant_move_keeps_the_id_and_the_other_columns(members: Any) -> None:
    ann = members.create(handle="ann", score=4)
    assert members.filter(pk=ann.pk).update(handle="anne") == 1
    assert state(members) == [(ann.pk, "anne", 4)]


def test_a_failed_move_loses_no_row(members: Any) -> None:
    """The new row collides with a unique key: inserting first fails before anything is deleted."""
    one = members.create(handle="one", score=1)
    two = members.create(handle="two", score=2)
    with pytest.raises(IntegrityError):
        members.filter(pk=one.pk).update(handle="two")
    assert state(members) == [(one.pk, "one", 1), (two.pk, "two", 2)]


def test_a_failed_move_of_several_rows_loses_none(members: Any) -> None:
    rows = [members.create(handle=h, score=i) for i, h in enumerate(("a", "b", "c"))]
    members.create(handle="z", score=9)
    with pytest.raises(IntegrityError):
        members.filter(handle__in=["a", "b", "c"]).update(handle="z")
    assert {h for _pk, h, _s in state(members)} >= {"a", "b", "c", "z"}
    assert all(members.filter(pk=r.pk).exists() for r in rows)


@pytest.mark.parametrize(
    "new",
    [Concat(F("handle"), Value("x")), F("handle")],
    ids=["concat", "column"],
)
def test_an_expression_move_is_refused_and_changes_nothing(members: Any, new: Any) -> None:
    ann = members.create(handle="ann", score=1)
    bob = members.create(handle="bob", score=2)
    if isinstance(new, F):
        new = Concat(Value("new-"), new)
    with pytest.raises(
        NotSupportedError, match=r"s2movestrength\.Member\.handle to an expression without a transaction"
    ):
        members.update(handle=new)
    assert state(members) == [(ann.pk, "ann", 1), (bob.pk, "bob", 2)]


def test_an_update_that_moves_no_row_is_not_refused(members: Any) -> None:
    """No row's shard key would change (none match): nothing to refuse, nothing written."""
    members.create(handle="ann", score=1)
    assert members.filter(handle="nobody").update(handle=Concat(F("handle"), Value("x"))) == 0
    assert members.filter(handle="nobody").update(handle="bob", score=5) == 0
    assert [h for _pk, h, _s in state(members)] == ["ann"]


class Stamped(models.Model):
    """Sharded on `handle` (the id demoted); `created` is set once, when the row is first saved."""

    handle = models.CharField(max_length=30, unique=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = APP
        db_table = "s2ms_stamped"


@pytest.mark.parametrize("skip_autocommit", [False, True], ids=["in-a-transaction", "without"])
def test_a_moved_row_keeps_its_values_as_written(
    make_alias: Callable[..., Any], skip_autocommit: bool
) -> None:
    """A move writes the row again: the values it had, not new ones from `auto_now_add` (an UPDATE sets
    only the fields it names)."""
    conn = make_alias("s2st", skip_autocommit=skip_autocommit)
    with conn.schema_editor() as editor:
        editor.create_model(Stamped)
    rows = Stamped._default_manager.db_manager(conn.alias)
    ann = rows.create(handle="ann")
    long_ago = datetime.datetime(2001, 2, 3, 4, 5, 6, tzinfo=datetime.UTC)
    rows.filter(pk=ann.pk).update(created=long_ago)
    assert rows.filter(pk=ann.pk).update(handle="anne") == 1
    assert list(rows.values_list("pk", "handle", "created")) == [(ann.pk, "anne", long_ago)]
