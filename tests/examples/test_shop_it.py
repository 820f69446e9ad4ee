"""The shop example's async API under uvicorn (native async ORM, the pool, a raw acursor, a
transaction through run_orm + atomic), and loadgen.py, `make demo`'s load, against it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal

import pytest

from tests.examples.shopapp import SHOP, ShopApp, serve_shop
from tests.testbed import Testbed


@pytest.fixture(scope="module")
def shop(testbed: Testbed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShopApp]:
    pytest.importorskip("uvicorn", reason="environment: uvicorn is not installed (the `test` extra)")
    yield from serve_shop(testbed.master, "shop_api", tmp_path_factory.mktemp("shop-api"))


def test_point_read_and_list(shop: ShopApp) -> None:
    status, listing = shop.call("GET", "/api/products?limit=5")
    assert status == 200 and listing["count"] == 40 and len(listing["products"]) == 5
    first = listing["products"][0]
    assert set(first) == {"id", "name", "brand", "price", "stock", "sold"}

    status, acme = shop.call("GET", "/api/products?brand=Acme&limit=100")
    assert status == 200 and acme["count"] == 10 and {p["brand"] for p in acme["products"]} == {"Acme"}
    status, tagged = shop.call("GET", "/api/products?tag=eco&limit=100")
    assert status == 200 and 0 < tagged["count"] < 40

    status, detail = shop.call("GET", f"/api/products/{first['id']}")
    assert status == 200 and {k: detail[k] for k in first} == first
    assert detail["tags"] == sorted(detail["tags"]) and 1 <= len(detail["tags"]) <= 2
    links = shop.query("SELECT COUNT(*) FROM shop_product_tags WHERE product_id = %s", (first["id"],))
    assert links == [(len(detail["tags"]),)]

    status, missing = shop.call("GET", "/api/products/987654321")
    assert status == 404 and "987654321" in missing["error"]
    assert shop.call("GET", "/api/products?limit=x")[0] == 400


def test_create_writes_the_order_and_its_line(shop: ShopApp) -> None:
    _, listing = shop.call("GET", "/api/products?limit=1")
    product = listing["products"][0]
    status, created = shop.call("POST", "/api/orders", {"product": product["id"], "quantity": 3})
    assert status == 201
    assert Decimal(created["total"]) == Decimal(product["price"]) * 3
    rows = shop.query(
        "SELECT o.total, l.quantity, u.username FROM shop_order o JOIN shop_orderline l ON l.order_id = o.id"
        " JOIN auth_user u ON u.id = o.user_id WHERE o.id = %s",
        (created["order"],),
    )
    assert rows == [(Decimal(created["total"]), 3, "customer")]
    assert shop.call("POST", "/api/orders", {"product": 987654321})[0] == 400
    assert shop.call("POST", "/api/orders", {"product": product["id"], "quantity": 0})[0] == 400


def test_checkout_is_all_or_nothing(shop: ShopApp) -> None:
    _, listing = shop.call("GET", "/api/products?limit=2")
    a, b = listing["products"]
    status, placed = shop.call(
        "POST", "/api/checkout", {"items": [{"product": a["id"], "quantity": 2}, {"product": b["id"]}]}
    )
    assert status == 201 and placed["lines"] == 2
    assert Decimal(placed["total"]) == Decimal(a["price"]) * 2 + Decimal(b["price"])
    after = {p: shop.call("GET", f"/api/products/{p}")[1] for p in (a["id"], b["id"])}
    assert (after[a["id"]]["stock"], after[a["id"]]["sold"]) == (a["stock"] - 2, a["sold"] + 2)
    assert (after[b["id"]]["stock"], after[b["id"]]["sold"]) == (b["stock"] - 1, b["sold"] + 1)
    assert shop.query("SELECT COUNT(*) FROM shop_orderline WHERE order_id = %s", (placed["order"],)) == [(2,)]

    # The second item is out of stock: the first item's stock update and the order roll back.
    orders_before = shop.query("SELECT COUNT(*) FROM shop_order")
    too_many = after[b["id"]]["stock"] + 1
    status, refused = shop.call(
        "POST", "/api/checkout",
        {"items": [{"product": a["id"], "quantity": 1}, {"product": b["id"], "quantity": too_many}]},
    )  # fmt: skip
    assert status == 409 and str(b["id"]) in refused["error"]
    assert shop.call("GET", f"/api/products/{a['id']}")[1]["stock"] == after[a["id"]]["stock"]
    assert shop.query("SELECT COUNT(*) FROM shop_order") == orders_before
    assert shop.call("POST", "/api/checkout", {"items": []})[0] == 400


def test_raw_cursor_top_products_and_pool_stats(shop: ShopApp) -> None:
    status, top = shop.call("GET", "/api/top")
    assert status == 200 and len(top["products"]) == 10
    expected = shop.query(
        "SELECT p.id, p.name, b.name, p.sold FROM shop_product p JOIN shop_brand b ON b.id = p.brand_id"
        " ORDER BY p.sold DESC, p.id LIMIT 10"
    )
    assert [(p["id"], p["name"], p["brand"], p["sold"]) for p in top["products"]] == [
        tuple(r) for r in expected
    ]

    status, stats = shop.call("GET", "/api/stats")
    pool = stats["pool"]
    assert status == 200 and (pool["pool_min"], pool["pool_max"]) == (2, 10)
    assert pool["requests_num"] >= 1 and pool["connections_num"] <= 10 and pool["in_use"] == 0


def test_loadgen_reports_real_numbers(shop: ShopApp) -> None:
    run = subprocess.run(
        [sys.executable, str(SHOP / "loadgen.py"), shop.base, "--seconds", "1.5", "--concurrency", "4", "--json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(run.stdout)
    assert report["errors"] == 0 and report["requests"] > 0 and report["rps"] > 0
    assert 0 < report["p50_ms"] <= report["p99_ms"]
    assert all(row["requests"] > 0 for row in report["endpoints"].values()), report["endpoints"]
    assert report["pool"]["requests_num"] >= report["requests"]  # each request borrowed from the pool


def test_the_example_migrations_match_the_models() -> None:
    """makemigrations --check: the hand-tidied 0001_initial still matches models.py (no database)."""
    run = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run", "shop"],
        cwd=SHOP, capture_output=True, text=True, timeout=120,
        env={**os.environ, "SHOP_DATABASE_URL": "mysql://u:p@127.0.0.1:9/shop", "PYTHONPATH": str(SHOP.parents[1]),
             "DJANGO_SETTINGS_MODULE": "shop.settings"},
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
