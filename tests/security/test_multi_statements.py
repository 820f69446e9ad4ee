"""Several statements per round trip: refused by the server by default on both drivers, allowed by
OPTIONS["multi_statements"] = True (the one documented way back on)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import ProgrammingError
from MySQLdb.constants import CLIENT

from django_singlestore_async.pool import close_pools
from tests.dbtools import ASYNC_ENGINE
from tests.security.conftest import tables

TWO = "INSERT INTO canary VALUES (1); DROP TABLE canary"


def test_sync_refuses_two_statements_by_default(s2: Any) -> None:
    with pytest.raises(ProgrammingError), s2.cursor() as cursor:
        cursor.execute(TWO)
    assert "canary" in tables(s2)
    assert s2.connection.get_server_info()  # the connection is still usable
    with s2.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM canary")
        assert cursor.fetchone() == (0,)


def test_sync_runs_two_statements_with_the_opt_in(s2: Any, make_alias: Any) -> None:
    opted = make_alias("sec_multi", multi_statements=True)
    with opted.cursor() as cursor:
        cursor.execute("INSERT INTO canary VALUES (1); INSERT INTO canary VALUES (2)")
        while cursor.cursor.nextset():
            pass
    with s2.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM canary")
        assert cursor.fetchone() == (2,)


@pytest.mark.asyncio
async def test_async_refuses_two_statements_by_default(s2: Any, make_alias: Any) -> None:
    db = make_alias("sec_async", engine=ASYNC_ENGINE)
    try:
        with pytest.raises(ProgrammingError):
            async with db.acursor() as cursor:
                await cursor.execute(TWO)
        async with db.acursor() as cursor:
            await cursor.execute("SELECT COUNT(*) FROM canary")
            assert await cursor.fetchone() == (0,)
    finally:
        await close_pools()


@pytest.mark.asyncio
async def test_async_runs_two_statements_with_the_opt_in(s2: Any, make_alias: Any) -> None:
    db = make_alias("sec_async_multi", engine=ASYNC_ENGINE, multi_statements=True)
    try:
        async with db.acursor() as cursor:
            await cursor.execute("INSERT INTO canary VALUES (1); INSERT INTO canary VALUES (2)")
        async with db.acursor() as cursor:
            await cursor.execute("SELECT COUNT(*) FROM canary")
            assert await cursor.fetchone() == (2,)
    finally:
        await close_pools()


def test_client_flag_with_multi_statements_needs_the_opt_in(make_alias: Any) -> None:
    refused = make_alias("sec_flag", client_flag=CLIENT.MULTI_STATEMENTS)
    with pytest.raises(ImproperlyConfigured, match=r"MULTI_STATEMENTS.*OPTIONS\['multi_statements'\]"):
        refused.get_connection_params()
    allowed = make_alias("sec_flag_ok", client_flag=CLIENT.MULTI_STATEMENTS, multi_statements=True)
    assert allowed.get_connection_params()["multi_statements"] is True
