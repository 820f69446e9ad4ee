"""singlestore.I001 is for models the project can edit: installed apps (Django's contrib, third-party
packages) get the automatic layout silently, since their models cannot declare a storage or ShardKey."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from django.apps import AppConfig, apps

from django_singlestore import validation

pytestmark = pytest.mark.usefixtures("unit")

CONTRIB = {"auth.Group", "auth.Permission", "auth.User", "contenttypes.ContentType"}


def i001(unit: Any) -> dict[str, Any]:
    return {
        issue.obj._meta.label: issue
        for issue in unit.validation._check_table_layouts(app_configs=None)
        if issue.id == "singlestore.I001"
    }


def test_contrib_models_are_not_reported(unit: Any) -> None:
    assert validation.is_installed_app(apps.get_app_config("auth"))
    assert validation.is_installed_app(apps.get_app_config("contenttypes"))
    assert not i001(unit).keys() & CONTRIB


def test_the_same_models_in_project_code_are_reported_with_a_hint(
    unit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if auth and contenttypes were the project's own apps (nothing counts as installed).
    monkeypatch.setattr(validation, "_package_roots", lambda: ())
    assert not validation.is_installed_app(apps.get_app_config("auth"))
    reported = i001(unit)
    # Group and ContentType keep their natural unique keys beside the id; User is sharded on username.
    assert {"auth.Group", "auth.Permission", "auth.User", "contenttypes.ContentType"} <= reported.keys()
    assert "ShardKey" in reported["auth.User"].hint


def test_project_apps_are_not_installed_apps() -> None:
    module = importlib.import_module("tests.schema.project.shapes")
    config = AppConfig("tests.schema.project.shapes", module)
    assert Path(config.path) == Path(__file__).resolve().parents[1] / "schema" / "project" / "shapes"
    assert not validation.is_installed_app(config)
