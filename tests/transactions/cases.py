"""Django TestCase classes run by tests/transactions/test_testcase_it.py (not collected by pytest:
the classes are built per test for one alias)."""

from __future__ import annotations

import unittest
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import Group
from django.db import IntegrityError, connections, transaction
from django.db.transaction import TransactionManagementError
from django.test import TestCase


def isolation_case(
    alias: str, committed_names: Callable[[], list[str]]
) -> tuple[type[TestCase], dict[str, Any]]:
    """A TestCase on `alias` whose two tests each add a Group; `record` collects what each test saw:
    its own rows, what another connection saw committed meanwhile, and whether a TestCase block
    wrapped the test."""
    record: dict[str, Any] = {"setup_runs": 0}

    class GroupIsolation(TestCase):
        databases = {alias}
        # Only auth's models are "available": post_migrate then finds no contenttypes to create, and
        # a flush (the skip_autocommit fallback) empties auth's existing tables only.
        available_apps = ["django.contrib.auth"]

        @classmethod
        def setUpTestData(cls) -> None:
            Group.objects.using(alias).create(name="setup")
            record["setup_runs"] += 1

        def _look(self, label: str) -> None:
            Group.objects.using(alias).create(name=label)
            conn = connections[alias]
            record[label] = {
                "own": sorted(Group.objects.using(alias).values_list("name", flat=True)),
                "committed": committed_names(),
                "in_atomic_block": conn.in_atomic_block,
            }
            # durable=True inside a test: allowed (Django exempts TestCase's own blocks).
            with transaction.atomic(using=alias, durable=True):
                Group.objects.using(alias).create(name=f"{label}-durable")
            record[label]["own_after_durable"] = sorted(
                Group.objects.using(alias).values_list("name", flat=True)
            )

        def test_a(self) -> None:
            self._look("a")

        def test_b(self) -> None:
            self._look("b")

    return GroupIsolation, record


def run_case(case: type[TestCase]) -> unittest.TestResult:
    suite = unittest.TestSuite([case("test_a"), case("test_b")])
    result = unittest.TestResult()
    suite.run(result)
    return result


def doomed_case(alias: str) -> tuple[type[TestCase], dict[str, Any]]:
    """A TestCase whose first test catches an IntegrityError from an inner atomic() block: without
    savepoints that dooms the test's transaction (the next query raises TransactionManagementError);
    the next test starts clean."""
    record: dict[str, Any] = {}

    class DoomedTest(TestCase):
        databases = {alias}
        available_apps = ["django.contrib.auth"]

        def test_a(self) -> None:
            conn = connections[alias]
            with conn.cursor() as cursor:
                cursor.execute("INSERT INTO tx_row (id, v) VALUES (1, 'a')")
            with self.assertRaises(IntegrityError), transaction.atomic(using=alias), conn.cursor() as cursor:
                cursor.execute("INSERT INTO tx_row (id, v) VALUES (1, 'duplicate')")
            record["needs_rollback"] = conn.needs_rollback
            with self.assertRaises(TransactionManagementError), conn.cursor() as cursor:
                cursor.execute("SELECT COUNT(*) FROM tx_row")

        def test_b(self) -> None:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT COUNT(*) FROM tx_row")
                record["rows_in_b"] = cursor.fetchone()[0]

    return DoomedTest, record
