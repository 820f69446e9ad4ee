"""`manage.py seed_demo`: the demo's brands, tags and products, a customer, and an admin account.
Idempotent: run it again and it tops the stock up and resets the admin's password."""

from __future__ import annotations

import os
import secrets
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from shop.models import Brand, Product, Tag
from shop.views import DEMO_CUSTOMER

BRANDS = ["Acme", "Globex", "Initech", "Umbrella"]
TAGS = ["new", "sale", "eco", "gift"]
STOCK = 1_000_000


class Command(BaseCommand):
    help = "Create the demo's data and admin user (password: --password, DEMO_ADMIN_PASSWORD, or random)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--products", type=int, default=40)
        parser.add_argument("--admin", default="admin")
        parser.add_argument("--password", default=os.environ.get("DEMO_ADMIN_PASSWORD"))

    def handle(self, *args: Any, products: int, admin: str, password: str | None, **options: Any) -> None:
        brands = [Brand.objects.get_or_create(name=name)[0] for name in BRANDS]
        tags = [Tag.objects.get_or_create(name=name)[0] for name in TAGS]
        for n in range(products):
            product, _ = Product.objects.get_or_create(
                name=f"Product {n:03d}",
                defaults={"brand": brands[n % len(brands)], "price": Decimal(5 + n % 17) + Decimal("0.99")},
            )
            product.stock = STOCK
            product.save(update_fields=["stock"])
            product.tags.set([tags[n % len(tags)], tags[(n // len(tags)) % len(tags)]])
        User = get_user_model()
        if not User.objects.filter(username=DEMO_CUSTOMER).exists():
            User.objects.create_user(DEMO_CUSTOMER)  # no usable password: the API's default customer
        password = password or secrets.token_urlsafe(9)
        user = User.objects.filter(username=admin).first() or User(username=admin)
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        self.stdout.write(f"admin\t{admin}\t{password}")
