"""A failure report survives a finalizer that parses Python during pytest's own parse (tests/conftest.py,
AST_REENTRANCY_BUG: the INTERNALERROR that hid a failing tests/async_pool assertion, issue 19)."""

from __future__ import annotations

import ast
import gc

from tests.conftest import AST_REENTRANCY_BUG

SOURCE = "\n".join(f"def f{i}(a, b):\n    return [x + y for x, y in zip(a, b)]" for i in range(400))


class ParsesWhenCollected:
    parsed = 0

    def __del__(self) -> None:
        ast.parse("value = [a + b for a, b in zip(c, d)]")
        ParsesWhenCollected.parsed += 1


def test_parse_with_cyclic_garbage_whose_finalizers_parse():
    gc.collect()
    ParsesWhenCollected.parsed = 0
    garbage = []
    for _ in range(5000):
        cycle: list = [ParsesWhenCollected()]
        cycle.append(cycle)
        garbage.append(cycle)
    del garbage, cycle
    for _ in range(5):
        tree = ast.parse(SOURCE)  # raised SystemError on the affected Pythons without the guard
        assert len(tree.body) == 400
    gc.collect()
    assert ParsesWhenCollected.parsed == 5000


def test_guard_is_installed_exactly_on_the_affected_pythons():
    assert (ast.parse.__name__ == "_parse_without_collection") is AST_REENTRANCY_BUG
