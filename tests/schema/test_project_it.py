"""The schema test project through the gateway (or SINGLESTORE_URL), with no DJANGO_SINGLESTORE_* env
vars and no OPTIONS: Django's contrib apps and every model shape migrate, are used (CRUD, shard-key
updates, many-to-many, dumpdata/loaddata, the admin) and migrate back to zero, on both aggregators."""

from __future__ import annotations

import pytest

from tests.conftest import require_child
from tests.schema.conftest import Project

ROLES = ["master", "child"]


def _endpoint_for(project: Project, role: str) -> str:
    if role == "child":
        require_child(project.testbed)
    return role


@pytest.mark.parametrize("role", ROLES)
def test_contrib_apps_migrate_forward_and_back_to_zero(project: Project, role: str) -> None:
    run = project.run("schema_scenario", "contrib", "--role", role, role=_endpoint_for(project, role))
    assert run.lines("OK ") == ["contrib forward", "back to zero"]
    assert "DONE" in run.output
    assert project.tables() == {"django_migrations"}


@pytest.mark.parametrize("role", ROLES)
def test_every_model_shape_is_used_and_migrates_back_to_zero(project: Project, role: str) -> None:
    run = project.run("schema_scenario", "shapes", "--role", role, role=_endpoint_for(project, role))
    expected = ["crud", "shard key updates", "many-to-many and one-to-one", "dumpdata loaddata", "admin"]
    if role == "child":
        expected += ["ids above 2**50", "reference tables and transactions"]
    assert run.lines("OK ") == [*expected, "back to zero"]
    assert project.tables() == {"django_migrations"}


def test_check_reports_each_automatic_layout(project: Project) -> None:
    run = project.run("check", "--database", "default")
    infos = {line.split(":")[0] for line in run.output.splitlines() if "(singlestore.I001)" in line}
    # Demoted ids (unique beside the id, unique_together, OneToOne) and the reference fallback; models
    # sharded on their primary key, or declaring their storage or shard key, are not reported, nor
    # are installed apps' models (contrib), which cannot declare anything.
    assert not infos & {"auth.User", "auth.Group", "contenttypes.ContentType", "sites.Site"}
    assert {
        "shapes.Tagged",
        "shapes.Pair",
        "shapes.Profile",
        "shapes.TwoUniques",
    } <= infos
    assert not infos & {"shapes.Plain", "shapes.Event", "shapes.Food", "shapes.Keyless", "shapes.TenantItem"}
    assert "ROWSTORE REFERENCE" in next(
        line for line in run.output.splitlines() if "shapes.TwoUniques:" in line
    )


def test_sqlmigrate_shows_the_layout(project: Project) -> None:
    run = project.run("sqlmigrate", "shapes", "0001")
    assert "KEY `id` (`id`) USING HASH, SHARD KEY (`slug`))" in run.output
    assert "CREATE ROWSTORE REFERENCE TABLE `shapes_twouniques`" in run.output
    assert "CREATE REFERENCE TABLE `shapes_food`" in run.output
    assert "SHARD KEY (`tenant`), SORT KEY (`created`)" in run.output
    assert "SHARD KEY ())" in run.output
    # The auto-created through table keeps its id as a plain key and is sharded on the two columns.
    assert "KEY `id` (`id`) USING HASH" in run.output and "SHARD KEY (`book_id`, `author_id`)" in run.output
