"""The app's own tests, written as usual for Django (TestCase, atomic(), a caught IntegrityError)."""

from django.db import IntegrityError, transaction
from django.test import TestCase

from django_singlestore_async import test as native_test

from .models import Ticket


class TicketTests(TestCase):
    def test_duplicate_is_caught_and_the_test_goes_on(self):
        Ticket.objects.create(code="a")
        with self.assertRaises(IntegrityError), transaction.atomic():
            Ticket.objects.create(code="a")
        # Without savepoints this query needs its own transaction: TEST["RESET"] = "flush".
        self.assertEqual(Ticket.objects.count(), 1)

    def test_starts_empty(self):
        self.assertEqual(Ticket.objects.count(), 0)
        Ticket.objects.create(code="b")


class NativeTicketTests(native_test.TestCase):
    @classmethod
    def setUpTestData(cls):
        Ticket.objects.create(code="setup")

    async def test_native_path_sees_the_test_data(self):
        self.assertTrue(await Ticket.objects.filter(code="setup").aexists())
        await Ticket.objects.acreate(code="n")
        async with self.aassertNumQueries(1):
            self.assertEqual(await Ticket.objects.acount(), 2)
