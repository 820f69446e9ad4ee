"""Which failing tests hit a refusal rule of the gateway (issue 21, item 3).

The gateway answers a statement SingleStore refuses with SingleStore's code and text (its
``errors.ERRORS``). The recorder keeps each failing test's exception, the first exception of its chain and
the traceback tail; matching those against the refusal texts names the refused shape per test, so the
planner-refusal skips are a list this run detected, not one carried over from the older backend.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

# The gateway's query-shape rules (issue 21) and the FOR UPDATE join rule: the refusals a test can hit
# through the ORM's SELECT/INSERT/UPDATE/DELETE (DDL refusals belong to the layout, not to this list).
SHAPES: tuple[str, ...] = (
    "subselect_two_levels_up",
    "correlated_subselect_order_by",
    "correlated_subselect_having",
    "subselect_group_order_pushed_down",
    "subselect_in_aggregate",
    "correlated_subselect_columnstore_project",
    "nested_scalar_subselects",
    "select_in_values",
    "collate_order_by",
    "recursive_cte_union",
    "multi_table_reference_target",
    "update_limit_sharded",
    "upsert_shard_key",
    "update_shard_key",
    "date_before_1000",
    "update_order_by",
    "for_update_columnstore_join",
    "for_update_option",
    "cume_dist",
    "regexp_backreference",
)


@dataclass(frozen=True)
class Refusal:
    rule: str  # key of the gateway's errors.ERRORS
    code: int
    assumption: bool  # a rule known only from the older backend's skip texts
    text: str  # the server's message as the test received it


@cache
def _patterns() -> list[tuple[str, int, bool, re.Pattern[str]]]:
    from tests.testbed.gateway.errors import ERRORS

    out = []
    for rule in SHAPES:
        spec = ERRORS.get(rule)
        if spec is None:
            continue
        parts = re.split(r"\{\w+\}", spec.template)
        body = ".{0,200}?".join(re.escape(p) for p in parts)
        if rule == "update_order_by":  # same 1064 text as for_update_option: told apart by its 'near'
            body = body.replace(re.escape("near '"), re.escape("near '") + "ORDER", 1)
        # "(1706, "Feature ..." as MySQLdb prints it; the code pins the rule where texts are alike.
        pat = re.compile(rf"\({spec.code}, ['\"]({body})")
        out.append((rule, spec.code, spec.assumption, pat))
    return out


def detect(problem: Mapping[str, Any]) -> Refusal | None:
    """The refusal behind one failing test (its exception, root exception or traceback tail), or None."""
    text = "\n".join(str(problem.get(k, "") or "") for k in ("exc", "root", "detail"))
    if "(1" not in text:
        return None
    for rule, code, assumption, pat in _patterns():
        m = pat.search(text)
        if m:
            return Refusal(rule, code, assumption, m.group(1)[:240])
    return None


def detected(problems: Iterable[Mapping[str, Any]]) -> dict[str, Refusal]:
    """{test id: refusal} over failing tests."""
    out = {}
    for p in problems:
        hit = detect(p)
        if hit is not None:
            out[str(p.get("id", "?"))] = hit
    return out
