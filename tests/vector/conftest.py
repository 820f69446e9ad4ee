"""One database per test module (`vec_<module>`) with the vector models, a sync alias `vec` and a
native async alias `avec` on it. Skips name the missing piece when the UDF library did not build."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.dbtools import ASYNC_ENGINE, AliasFactory, db_access_fixture, own_database, setup_django
from tests.testbed import Testbed

setup_django()

from django.conf import settings  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from tests.vector.models import MODELS  # noqa: E402

_db_access = db_access_fixture(integration_only=False)


class Router:
    alias = "vec"

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return Router.alias

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return Router.alias


@pytest.fixture(scope="module")
def vec_aliases(
    request: pytest.FixtureRequest, testbed: Testbed, django_db_blocker: Any
) -> Iterator[AliasFactory]:
    mariadb = testbed.mariadb
    if mariadb is not None and mariadb.udf_error is not None:
        pytest.skip(f"gateway limit: the s2vector UDF library did not build ({mariadb.udf_error})")
    name = "vec_" + request.module.__name__.rsplit(".", 1)[-1]
    with django_db_blocker.unblock(), own_database(testbed.master, name):
        factory = AliasFactory(testbed.master, name)
        vec = factory("vec")
        factory("avec", engine=ASYNC_ENGINE)
        with vec.schema_editor() as editor:
            for model in MODELS:
                editor.create_model(model)
        with override_settings(
            INSTALLED_APPS=[*settings.INSTALLED_APPS, "django_singlestore"], DATABASE_ROUTERS=[Router()]
        ):
            yield factory
        factory.close()


@pytest.fixture
def vec(vec_aliases: AliasFactory) -> Any:
    from django.db import connections

    Router.alias = "vec"
    return connections["vec"]
