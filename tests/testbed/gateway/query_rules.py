"""Query shapes SingleStore refuses (or runs differently) that MariaDB accepts: issue 21.

Called by ``rules.check_statement`` on the significant tokens of one statement. Each rule names its
source; the error names are keys of ``errors.ERRORS``, where ``assumption=True`` marks the rules known only
from the older backend's skip texts (django-singlestore ``features.py``), switched off with
``GatewayConfig.assumption_rules=False`` (``--no-assumption-rules``). Documented rules always apply.

Writes:
  * ``UPDATE``/``DELETE`` whose target is a REFERENCE table in a statement that also names a sharded
    table in its table list (join, comma join, ``USING``) -> 1706 [doc] query errors, "ERROR 1706 (HY000):
    Feature Multi-table UPDATE/DELETE with a reference table as target table ..." (v7.3 to v9.1, cloud).
  * ``UPDATE ... ORDER BY`` -> 1064 ([doc] UPDATE grammar has no ORDER BY); ``UPDATE ... LIMIT`` on a
    sharded table -> 1706 ([doc] distributed-sql-surface-area).
  * ``INSERT``/``REPLACE ... VALUES`` with a subselect in a row -> 1706 'select within values clause'
    [assumption: django-singlestore skip text].
  * ``INSERT ... ON DUPLICATE KEY UPDATE`` assigning a shard-key column of a sharded table ->
    ``upsert_shard_key``, the text of ``update_shard_key`` [assumption: the UPDATE rule of distributed-sql-surface-area applied to the
    upsert's update part].
  * a date literal before 1000-01-01 written by INSERT/REPLACE/UPDATE -> [doc] data types, time and
    date (v8.0, v8.1, cloud): DATE and DATETIME start at 1000-01-01; the code and text are an assumption.
Queries:
  * ``WITH RECURSIVE`` whose CTE body combines with anything but ``UNION ALL`` -> [doc] WITH (Common Table
    Expressions) grammar ``<base_case> UNION ALL <recursive_case>``; code and text an assumption.
  * ``COLLATE`` in an ``ORDER BY`` clause -> [assumption] skip "SingleStore does not support the COLLATE
    clause in the ORDER BY statement".
  * correlated subselects the distributed planner refuses [assumption: skip texts]: a reference to a
    table more than one level up; a correlated subselect in ORDER BY (also through a select-list alias or
    position), in HAVING, in GROUP BY; any subselect inside an aggregate function; a correlated subselect in
    the project list of a columnstore query with GROUP BY or DISTINCT; nested scalar subselects in the
    project list.
  * ``LIMIT`` after an unparenthesised ``UNION`` member applies to that last member only (skip text "LIMIT
    with UNION affects only the second part of the union"): not refused but *run* that way, by
    ``union_limit_rewrite`` [assumption].
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.testbed.gateway.catalog import TableInfo
from tests.testbed.gateway.errors import ERRORS, GatewayError
from tests.testbed.gateway.sqllex import (
    Token,
    apply_edits,
    find_top_level,
    ident_value,
    is_ident,
    is_kw,
    matching_paren,
    parse_qualified_name,
    split_top_level_commas,
    string_value,
)

__all__ = ["check_query_shapes", "needs_query_rules", "union_limit_rewrite"]

Lookup = Callable[[str | None, str], TableInfo | None]
log = logging.getLogger(__name__)

_AGGREGATES = frozenset(
    {"COUNT", "SUM", "AVG", "MIN", "MAX", "GROUP_CONCAT", "STDDEV", "STDDEV_POP", "STDDEV_SAMP", "STD",
     "VARIANCE", "VAR_POP", "VAR_SAMP", "BIT_AND", "BIT_OR", "BIT_XOR", "JSON_AGG", "ANY_VALUE",
     "APPROX_COUNT_DISTINCT", "MEDIAN", "PERCENTILE_CONT", "PERCENTILE_DISC"}
)  # fmt: skip
_CLAUSES = frozenset({"SELECT", "FROM", "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "ON", "WINDOW", "SET"})
_DATE_RE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d*)?)?)?\s*$")
_FOR_RE = re.compile(rb"for(?:\s|/\*|--|#)")
_OLD_DATE_RE = re.compile(rb"['\"]0\d{3}-")


def needs_query_rules(low: bytes, head: bytes = b"") -> bool:
    """Cheap prefilter for the engine's fast path: could one of these rules apply to ``low`` (the
    statement in lower case; ``head`` its first keyword, upper case)?

    Only the substrings the statement kind can need are scanned, and the two regexes run only when their
    literal part is present: a 20 MiB INSERT costs three fast scans."""
    select = low.find(b"select")
    if head in (b"INSERT", b"REPLACE"):
        return select >= 0 or b"duplicate" in low or _old_date(low)
    if head in (b"UPDATE", b"DELETE"):
        return select >= 0 or b"order" in low or b"collate" in low or (head == b"UPDATE" and _old_date(low))
    if head == b"WITH" and b"recursive" in low:
        return True
    if select >= 0 and low.find(b"select", select + 6) >= 0:
        return True
    if b"collate" in low or (b"union" in low and b"limit" in low):
        return True
    return b"update" in low and _FOR_RE.search(low) is not None


def _old_date(low: bytes) -> bool:
    return b"-" in low and _OLD_DATE_RE.search(low) is not None  # "-": one memchr, rare in bulk data


def _refuse(error: str, assumptions: bool, **fields: str) -> None:
    if ERRORS[error].assumption:
        if not assumptions:
            return
        # Logged apart from documented refusals, so a run can list what the assumptions alone refused.
        log.info("assumption rule %s refused a statement", error)
    raise GatewayError(error, **fields)


# --- scopes -----------------------------------------------------------------------------------------
@dataclass
class _Scope:
    start: int  # index of SELECT
    end: int  # index after the last token of this SELECT (the closing paren or len)
    parent: _Scope | None
    clause: str = ""  # clause of the parent the subselect sits in
    in_aggregate: bool = False
    names: set[str] = field(default_factory=set)  # tables and aliases defined in this FROM
    tables: list[tuple[str | None, str]] = field(default_factory=list)
    children: list[_Scope] = field(default_factory=list)
    refs: list[tuple[int, str]] = field(default_factory=list)  # (token index, qualifier) at this level
    aliases: dict[str, tuple[int, int]] = field(default_factory=dict)  # select-list alias -> token range
    items: list[tuple[int, int]] = field(default_factory=list)  # select-list items

    def depth_of(self, name: str) -> int | None:
        """How many levels up ``name`` is defined (0: here), or None."""
        scope: _Scope | None = self
        up = 0
        while scope is not None:
            if name in scope.names:
                return up
            scope, up = scope.parent, up + 1
        return None

    def outer_refs(self) -> list[int]:
        """Levels above this scope that this scope or its children refer to (1 = the parent)."""
        out: list[int] = []
        for _i, q in self.refs:
            d = self.depth_of(q)
            if d:
                out.append(d)
        for child in self.children:
            out.extend(d - 1 for d in child.outer_refs() if d > 1)
        return out

    @property
    def correlated(self) -> bool:
        return bool(self.outer_refs())


def _scopes(toks: list[Token]) -> list[_Scope]:
    """Every SELECT of the statement: the top-level ones (one per UNION member) and each ``(SELECT``."""
    n = len(toks)
    depth = 0
    scopes: list[_Scope] = []
    for i, t in enumerate(toks):
        if t.kind == "punct" and t.text in "()":
            if t.text == "(" and i + 1 < n and is_kw(toks[i + 1], "SELECT"):
                scopes.append(_Scope(i + 1, matching_paren(toks, i), None))
            depth += 1 if t.text == "(" else -1
        elif depth == 0 and is_kw(t, "SELECT"):
            end = find_top_level(toks, i + 1, n, "UNION", "EXCEPT", "INTERSECT", "MINUS")
            scopes.append(_Scope(i, end if end >= 0 else n, None))
    scopes.sort(key=lambda s: s.start)
    for s in scopes:
        outer = [p for p in scopes if p is not s and p.start < s.start and s.end <= p.end]
        if outer:
            s.parent = max(outer, key=lambda p: p.start)
            s.parent.children.append(s)
            s.clause = _clause_before(toks, s.parent.start, s.start - 1)
            s.in_aggregate = _inside_aggregate(toks, s.parent.start, s.start - 1)
    for scope in scopes:
        _fill(toks, scope)
    return scopes


def _clause_before(toks: list[Token], lo: int, i: int) -> str:
    """The clause word of the SELECT level around ``toks[i]`` (the opening paren of a subselect)."""
    depth = 0
    for j in range(i - 1, lo - 1, -1):
        t = toks[j]
        if t.kind == "punct" and t.text == ")":
            depth += 1
        elif t.kind == "punct" and t.text == "(":
            depth = max(depth - 1, 0)
        elif depth == 0 and t.upper in _CLAUSES:
            return t.upper
    return ""


def _inside_aggregate(toks: list[Token], lo: int, i: int) -> bool:
    """Is the subselect opening at ``toks[i]`` an argument (at any depth) of an aggregate call?"""
    depth = 0
    for j in range(i - 1, lo - 1, -1):
        t = toks[j]
        if t.kind == "punct" and t.text == ")":
            depth += 1
        elif t.kind == "punct" and t.text == "(":
            if depth == 0:
                if j > 0 and toks[j - 1].upper in _AGGREGATES:
                    return True
            else:
                depth -= 1
    return False


def _own_ranges(scope: _Scope) -> list[tuple[int, int]]:
    """Token ranges of ``scope`` that belong to no child subselect."""
    ranges: list[tuple[int, int]] = []
    pos = scope.start
    for child in sorted(scope.children, key=lambda c: c.start):
        ranges.append((pos, child.start))
        pos = child.end
    ranges.append((pos, scope.end))
    return ranges


def _fill(toks: list[Token], scope: _Scope) -> None:
    own = _own_ranges(scope)
    in_from = False
    for a, b in own:
        i = a
        while i < b:
            t = toks[i]
            u = t.upper
            if u in ("FROM", "JOIN", "STRAIGHT_JOIN") or (t.text == "," and in_from):
                in_from = True
                j = i + 1
                if j < b and toks[j].text == "(":
                    j = matching_paren(toks, j) + 1
                    name = None
                else:
                    qn = parse_qualified_name(toks, j)
                    if qn is None or is_kw(toks[j], "SELECT", "DUAL", "LATERAL"):
                        i += 1
                        continue
                    name = qn[1]
                    scope.tables.append((qn[0], qn[1]))
                    scope.names.add(name.lower())
                    j = qn[2]
                if j < len(toks) and is_kw(toks[j], "AS"):
                    j += 1
                if j < len(toks) and is_ident(toks[j]) and toks[j].upper not in _NOT_ALIAS:
                    scope.names.add(ident_value(toks[j]).lower())
                    j += 1
                i = j
                continue
            if u in ("WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "UNION", "ON", "WINDOW", "FOR"):
                in_from = u == "ON" and in_from
            if (
                is_ident(t)
                and i + 2 < len(toks)
                and toks[i + 1].text == "."
                and is_ident(toks[i + 2])
                and (i == 0 or toks[i - 1].text != ".")
            ):
                k = i + 2
                qual = ident_value(t)
                if k + 2 < len(toks) and toks[k + 1].text == "." and is_ident(toks[k + 2]):
                    qual = ident_value(toks[k])  # db.table.column
                if not (k + 1 < len(toks) and toks[k + 1].text == "("):  # not db.function(...)
                    scope.refs.append((i, qual.lower()))
            i += 1
    # select list
    frm = find_top_level(toks, scope.start + 1, scope.end, "FROM")
    stop = (
        frm
        if frm >= 0
        else find_top_level(
            toks, scope.start + 1, scope.end, "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "UNION", "FOR"
        )
    )
    stop = stop if stop >= 0 else scope.end
    first = scope.start + 1
    while first < stop and toks[first].upper in ("DISTINCT", "ALL", "DISTINCTROW", "SQL_CALC_FOUND_ROWS"):
        first += 1
    scope.items = split_top_level_commas(toks, first, stop)
    for a, b in scope.items:
        if b - a >= 2 and is_ident(toks[b - 1]) and toks[b - 2].text != ".":
            scope.aliases[ident_value(toks[b - 1]).lower()] = (a, b)


_NOT_ALIAS = frozenset(
    {"WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "UNION", "ON", "USING", "JOIN", "INNER", "LEFT", "RIGHT",
     "CROSS", "NATURAL", "STRAIGHT_JOIN", "FOR", "WINDOW", "SET", "LOCK", "INTO", "EXCEPT", "INTERSECT",
     "FORCE", "USE", "IGNORE", "PARTITION", "VALUES", "SELECT", "OUTER", "FULL", "MINUS"}
)  # fmt: skip


def _clause_range(toks: list[Token], scope: _Scope, word: str) -> tuple[int, int] | None:
    i = find_top_level(toks, scope.start + 1, scope.end, word)
    if i < 0:
        return None
    ends = {"ORDER": ("LIMIT", "FOR", "LOCK", "INTO", "UNION"), "GROUP": ("HAVING", "ORDER", "LIMIT", "WINDOW",
            "UNION", "FOR"), "HAVING": ("ORDER", "LIMIT", "WINDOW", "UNION", "FOR")}[word]  # fmt: skip
    j = find_top_level(toks, i + 1, scope.end, *ends)
    return i, (j if j >= 0 else scope.end)


def _correlated_item(toks: list[Token], scope: _Scope, a: int, b: int) -> bool:
    return any(c.correlated and a <= c.start < b for c in scope.children)


def _correlated_on_ungrouped(toks: list[Token], scope: _Scope, items: list[tuple[int, int]]) -> bool:
    """A GROUP BY query whose select list has a correlated subselect reading an outer column that is not
    a GROUP BY column. (Grouped by the columns it reads, e.g. Django's GROUP BY of the primary key, the
    shape ran on SingleStore for the older backend: only a subselect reading ungrouped columns is
    refused.)"""
    rng = _clause_range(toks, scope, "GROUP")
    if rng is None:
        return False
    grouped: set[tuple[str, str]] = set()
    for a, b in split_top_level_commas(toks, rng[0] + 2, rng[1]):
        if b - a == 3 and toks[a + 1].text == "." and is_ident(toks[a]) and is_ident(toks[a + 2]):
            grouped.add((ident_value(toks[a]).lower(), ident_value(toks[a + 2]).lower()))
    for child in scope.children:
        if not any(a <= child.start < b for a, b in items):
            continue
        for i, qual in child.refs:
            if child.depth_of(qual) == 1 and (qual, ident_value(toks[i + 2]).lower()) not in grouped:
                return True
    return False


def _check_planner(toks: list[Token], scopes: list[_Scope], lookup: Lookup, assumptions: bool) -> None:
    for scope in scopes:
        if scope.parent is not None and any(d > 1 for d in scope.outer_refs()):
            _refuse("subselect_two_levels_up", assumptions)
        for child in scope.children:
            if child.in_aggregate:
                _refuse("subselect_in_aggregate", assumptions)
            if not child.correlated:
                continue
            if child.clause == "ORDER":
                _refuse("correlated_subselect_order_by", assumptions)
            if child.clause == "HAVING":
                _refuse("correlated_subselect_having", assumptions)
            if child.clause == "GROUP":
                _refuse("subselect_group_order_pushed_down", assumptions)
            if child.clause == "SELECT" and any(g.clause == "SELECT" for g in child.children):
                _refuse("nested_scalar_subselects", assumptions)
        # ORDER BY / GROUP BY naming a select-list alias or position whose item has a correlated subselect
        correlated_items = [(a, b) for a, b in scope.items if _correlated_item(toks, scope, a, b)]
        if not correlated_items:
            continue
        for word, error in (
            ("ORDER", "correlated_subselect_order_by"),
            ("GROUP", "subselect_group_order_pushed_down"),
        ):
            rng = _clause_range(toks, scope, word)
            if rng is None:
                continue
            for a, b in split_top_level_commas(toks, rng[0] + 2, rng[1]):
                t = toks[a]
                if t.kind == "num" and t.text.isdigit() and 0 < int(t.text) <= len(scope.items):
                    if scope.items[int(t.text) - 1] in correlated_items:
                        _refuse(error, assumptions)
                elif is_ident(t) and not (a + 1 < b and toks[a + 1].text == "."):
                    item = scope.aliases.get(ident_value(t).lower())
                    if item is not None and item in correlated_items:
                        _refuse(error, assumptions)
        distinct = is_kw(toks[scope.start + 1] if scope.start + 1 < len(toks) else None, "DISTINCT")
        if (distinct or _correlated_on_ungrouped(toks, scope, correlated_items)) and any(
            (info := lookup(db, name)) is not None and info.columnstore for db, name in scope.tables
        ):
            _refuse("correlated_subselect_columnstore_project", assumptions)


# --- statement checks -------------------------------------------------------------------------------
def check_query_shapes(text: str, toks: list[Token], lookup: Lookup, *, assumptions: bool) -> None:
    head = toks[0].upper
    if head in ("UPDATE", "DELETE"):
        _check_reference_target(toks, lookup)
    if head == "UPDATE":
        _check_update_order_limit(text, toks, lookup)
    if head in ("INSERT", "REPLACE"):
        _check_values(toks, assumptions)
        _check_upsert_shard_key(toks, lookup, assumptions)
    if head in ("INSERT", "REPLACE", "UPDATE"):
        _check_old_dates(toks)
    if head == "WITH" and len(toks) > 1 and is_kw(toks[1], "RECURSIVE"):
        _check_recursive(toks)
    _check_collate_order_by(toks, assumptions)
    if sum(1 for t in toks if is_kw(t, "SELECT")) > 1:
        _check_planner(toks, _scopes(toks), lookup, assumptions)


def _check_reference_target(toks: list[Token], lookup: Lookup) -> None:
    from tests.testbed.gateway.rules import aliased_table_refs, write_targets

    targets = write_targets(toks)
    if toks[0].upper == "UPDATE":
        set_i = find_top_level(toks, 1, len(toks), "SET")
        listed = aliased_table_refs(toks[: set_i if set_i > 0 else len(toks)])
    else:
        where = find_top_level(toks, 1, len(toks), "WHERE", "ORDER", "LIMIT")
        listed = aliased_table_refs(toks[: where if where > 0 else len(toks)])
        using = find_top_level(toks, 1, len(toks), "USING")
        if using > 0:
            listed += aliased_table_refs([toks[0], *toks[using + 1 : where if where > 0 else len(toks)]][1:])
            listed += [(qn[0], qn[1], None) for qn in [parse_qualified_name(toks, using + 1)] if qn]
    if len(listed) < 2:
        return
    infos = [lookup(db, name) for db, name, _alias in listed]
    if not any(i is not None and i.sharded for i in infos):
        return
    for db, name in targets:
        info = lookup(db, name)
        if info is not None and info.reference:
            raise GatewayError("multi_table_reference_target")


def _check_update_order_limit(text: str, toks: list[Token], lookup: Lookup) -> None:
    set_i = find_top_level(toks, 1, len(toks), "SET")
    if set_i < 0:
        return
    order = find_top_level(toks, set_i + 1, len(toks), "ORDER")
    if order >= 0:
        raise GatewayError("update_order_by", near=text[toks[order].start :])
    limit = find_top_level(toks, set_i + 1, len(toks), "LIMIT")
    if limit >= 0:
        from tests.testbed.gateway.rules import table_refs

        for db, name in table_refs(toks[:set_i]):
            info = lookup(db, name)
            if info is not None and info.sharded:
                raise GatewayError("update_limit_sharded")


def _values_range(toks: list[Token]) -> tuple[int, int] | None:
    v = find_top_level(toks, 1, len(toks), "VALUES", "VALUE")
    if v < 0:
        return None
    end = find_top_level(toks, v + 1, len(toks), "ON", "RETURNING")
    return v + 1, (end if end >= 0 else len(toks))


def _check_values(toks: list[Token], assumptions: bool) -> None:
    rng = _values_range(toks)
    if rng is None:
        return
    if any(is_kw(t, "SELECT") for t in toks[rng[0] : rng[1]]):
        _refuse("select_in_values", assumptions)


def _check_upsert_shard_key(toks: list[Token], lookup: Lookup, assumptions: bool) -> None:
    from tests.testbed.gateway.rules import write_targets

    on = find_top_level(toks, 1, len(toks), "ON")
    if on < 0 or not (
        on + 3 < len(toks) and is_kw(toks[on + 1], "DUPLICATE") and is_kw(toks[on + 3], "UPDATE")
    ):
        return
    for db, name in write_targets(toks):
        info = lookup(db, name)
        if info is None or not info.sharded:
            continue
        shard = {c.lower() for c in info.effective_shard_key}
        for a, _b in split_top_level_commas(toks, on + 4, len(toks)):
            qn = parse_qualified_name(toks, a)
            if qn is None:
                continue
            col = qn[1]
            if qn[2] + 1 < len(toks) and toks[qn[2]].text == ".":
                col = ident_value(toks[qn[2] + 1])
            if col.lower() in shard:
                _refuse("upsert_shard_key", assumptions)


def _check_old_dates(toks: list[Token]) -> None:
    for t in toks:
        if t.kind != "str":
            continue
        m = _DATE_RE.match(string_value(t))
        if m is not None and 0 < int(m.group(1)) < 1000:
            raise GatewayError("date_before_1000", value=string_value(t))


def _check_recursive(toks: list[Token]) -> None:
    i = 2
    while i < len(toks):
        qn = parse_qualified_name(toks, i)
        if qn is None:
            return
        j = qn[2]
        if j < len(toks) and toks[j].text == "(":
            j = matching_paren(toks, j) + 1
        if not (j + 1 < len(toks) and is_kw(toks[j], "AS") and toks[j + 1].text == "("):
            return
        close = matching_paren(toks, j + 1)
        for k in range(j + 2, close):
            if (
                is_kw(toks[k], "UNION", "EXCEPT", "INTERSECT", "MINUS")
                and _depth(toks, j + 2, k) == 0
                and not (is_kw(toks[k], "UNION") and is_kw(toks[k + 1], "ALL"))
            ):
                raise GatewayError("recursive_cte_union")
        i = close + 1
        if i < len(toks) and toks[i].text == ",":
            i += 1
        else:
            return


def _depth(toks: list[Token], a: int, b: int) -> int:
    depth = 0
    for t in toks[a:b]:
        if t.kind == "punct":
            depth += {"(": 1, ")": -1}.get(t.text, 0)
    return depth


def _check_collate_order_by(toks: list[Token], assumptions: bool) -> None:
    if not any(is_kw(t, "COLLATE") for t in toks):
        return
    # ORDER BY clauses at any depth: from ORDER BY to the end of its parenthesised level or a clause word
    for i, t in enumerate(toks[:-1]):
        if not (is_kw(t, "ORDER") and is_kw(toks[i + 1], "BY")):
            continue
        depth = 0
        for u in toks[i + 2 :]:
            if u.kind == "punct" and u.text == "(":
                depth += 1
            elif u.kind == "punct" and u.text == ")":
                depth -= 1
                if depth < 0:
                    break
            elif depth == 0 and u.upper in ("LIMIT", "UNION", "FOR", "LOCK", "INTO", "ROWS", "RANGE"):
                break
            elif is_kw(u, "COLLATE"):
                _refuse("collate_order_by", assumptions)


# --- LIMIT after an unparenthesised UNION member --------------------------------------------------------
def union_limit_rewrite(text: str, toks: list[Token]) -> str | None:
    """``a UNION b LIMIT n`` -> ``a UNION (b LIMIT n)``: SingleStore's reading [assumption, skip text].

    Only a statement whose top level is a UNION with an unparenthesised last member and a trailing LIMIT
    and no top-level ORDER BY (whose scope SingleStore does not document either)."""
    if not toks or not is_kw(toks[0], "SELECT"):
        return None
    union = -1
    depth = 0
    for i, t in enumerate(toks):
        if t.kind == "punct":
            depth += {"(": 1, ")": -1}.get(t.text, 0)
        elif depth == 0 and is_kw(t, "UNION"):
            union = i
    if union < 0:
        return None
    start = union + 1
    if start < len(toks) and is_kw(toks[start], "ALL", "DISTINCT"):
        start += 1
    if start >= len(toks) or not is_kw(toks[start], "SELECT"):
        return None  # a parenthesised last member: the LIMIT applies to the whole union
    limit = find_top_level(toks, start, len(toks), "LIMIT")
    if limit < 0 or find_top_level(toks, start, len(toks), "ORDER") >= 0:
        return None
    end = find_top_level(toks, limit, len(toks), "FOR", "LOCK", "INTO")
    stop = toks[end - 1].end if end >= 0 else toks[-1].end
    return apply_edits(text, [(toks[start].start, toks[start].start, "("), (stop, stop, ")")])
