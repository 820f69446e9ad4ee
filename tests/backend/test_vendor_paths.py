"""Every `as_mysql` method and `vendor == "mysql"` branch in the installed Django has a decision.

Run on both legs (Django 5.2 and 6.1): a new MySQL path in a future Django fails here until
`django_singlestore.functions.MYSQL_PATH_DECISIONS` says whether SingleStore inherits or overrides it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import django

from django_singlestore.functions import MYSQL_PATH_DECISIONS, SINGLESTORE_SQL


def mysql_paths() -> set[str]:
    """Qualified names of `as_mysql` methods and of functions holding a `.vendor` comparison with "mysql"."""
    root = Path(django.__file__).parent
    found: set[str] = set()

    def walk(node: ast.AST, module: str, stack: list[str]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                if isinstance(child, ast.FunctionDef) and child.name == "as_mysql" and stack:
                    found.add(".".join([module, *stack, child.name]))
                walk(child, module, [*stack, child.name])
                continue
            if isinstance(child, ast.Compare):
                operands = [child.left, *child.comparators]
                mentions_vendor = any(isinstance(x, ast.Attribute) and x.attr == "vendor" for x in operands)
                constants = {n.value for x in operands for n in ast.walk(x) if isinstance(n, ast.Constant)}
                if mentions_vendor and "mysql" in constants:
                    found.add(".".join([module, *stack]))
            walk(child, module, stack)

    for path in root.rglob("*.py"):
        relative = path.relative_to(root.parent).with_suffix("")
        if relative.parts[:3] == ("django", "db", "backends"):
            continue  # the backends themselves: ours is the MySQL one
        walk(ast.parse(path.read_text(encoding="utf-8")), ".".join(relative.parts), [])
    return found


def test_every_mysql_path_in_this_django_has_a_decision():
    paths = mysql_paths()
    assert len(paths) >= 15, sorted(paths)  # the scan itself works (5.2 has 17, 6.1 has 23)
    undecided = sorted(paths - set(MYSQL_PATH_DECISIONS))
    assert not undecided, f"MySQL code paths without a SingleStore decision: {undecided}"


def test_decisions_are_inherit_or_override_with_a_reason():
    for path, (decision, reason) in MYSQL_PATH_DECISIONS.items():
        assert decision in {"inherit", "override"}, path
        assert len(reason) > 10, path


def test_every_override_has_singlestore_sql_registered():
    registered = {f"{cls.__module__}.{cls.__qualname__}" for cls in SINGLESTORE_SQL}
    present = mysql_paths()
    for path, (decision, _) in MYSQL_PATH_DECISIONS.items():
        if decision != "override" or path not in present:
            continue  # a path of the other supported Django version
        owner = path.rsplit(".", 1)[0]
        assert owner in registered or owner.endswith("KeyTransformIn") or owner.endswith(".JSONIn"), path


def test_importing_the_backend_patches_no_django_class():
    import django.db.models as dj_models
    from django.db.models import functions as dj_functions
    from django.db.models.fields import json as dj_json

    import django_singlestore.base
    import django_singlestore.compiler

    assert django_singlestore.base.DatabaseWrapper.vendor == "mysql"
    for module in (dj_models, dj_functions, dj_json):
        for value in vars(module).values():
            if isinstance(value, type):
                assert not any(name.startswith("as_singlestore") for name in vars(value)), value
                for name, attr in vars(value).items():
                    owner = getattr(attr, "__module__", "django") or "django"
                    assert not owner.startswith("django_singlestore"), (value, name)


def test_vendor_stays_mysql_and_the_name_is_singlestore(unit):
    assert unit.vendor == "mysql"
    assert unit.display_name == "SingleStore"
