"""The shop's JSON API: async views on Django's own async ORM, which the async engine runs natively on
the event loop over its pool, plus one raw async cursor and the pool's statistics."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import F
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from django_singlestore_async import async_atomic
from shop.models import Order, OrderLine, Product

DEMO_CUSTOMER = "customer"


class OutOfStock(Exception):
    pass


def product_json(product: Product) -> dict[str, Any]:
    return {
        "id": product.pk,
        "name": product.name,
        "brand": product.brand.name,
        "price": str(product.price),
        "stock": product.stock,
        "sold": product.sold,
    }


async def customer(request: HttpRequest) -> Any:
    """The signed-in user, else the demo's customer account (the API has no login of its own)."""
    user = await request.auser()
    if user.is_authenticated:
        return user
    return await get_user_model().objects.aget(username=DEMO_CUSTOMER)


def body(request: HttpRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        data = None
    return data if isinstance(data, dict) else {}


@require_GET
async def product_detail(request: HttpRequest, pk: int) -> JsonResponse:
    """A point read: one row by primary key, its brand joined, its tags from the many-to-many."""
    try:
        product = await Product.objects.select_related("brand").aget(pk=pk)
    except Product.DoesNotExist:
        return JsonResponse({"error": f"no product {pk}"}, status=404)
    tags = [tag.name async for tag in product.tags.order_by("name")]
    return JsonResponse({**product_json(product), "tags": tags})


@require_GET
async def product_list(request: HttpRequest) -> JsonResponse:
    """A list: `?brand=<name>&tag=<name>&limit=<n>`, best sellers first."""
    products = Product.objects.select_related("brand").order_by("-sold", "id")
    if brand := request.GET.get("brand"):
        products = products.filter(brand__name=brand)
    if tag := request.GET.get("tag"):
        products = products.filter(tags__name=tag)
    try:
        limit = max(1, min(int(request.GET.get("limit", 20)), 100))
    except ValueError:
        return JsonResponse({"error": "limit must be an integer"}, status=400)
    found = [product_json(product) async for product in products[:limit]]
    return JsonResponse({"count": await products.acount(), "products": found})


@csrf_exempt
@require_POST
async def order_create(request: HttpRequest) -> JsonResponse:
    """A create, one statement per call (autocommit): `{"product": id, "quantity": n}`."""
    data = body(request)
    try:
        product = await Product.objects.aget(pk=int(data["product"]))
        quantity = int(data.get("quantity", 1))
    except (KeyError, TypeError, ValueError, Product.DoesNotExist):
        quantity = 0
    if quantity < 1:
        return JsonResponse(
            {"error": "expected {product: <existing id>, quantity: <positive int>}"}, status=400
        )
    user = await customer(request)
    order = await Order.objects.acreate(user=user, product=product, total=product.price * quantity)
    line = await order.lines.acreate(product=product, quantity=quantity, price=product.price)
    return JsonResponse({"order": order.pk, "line": line.pk, "total": str(order.total)}, status=201)


@csrf_exempt
@require_POST
async def checkout(request: HttpRequest) -> JsonResponse:
    """A transaction: `{"items": [{"product": id, "quantity": n}, ...]}` creates the order and its
    lines and takes the stock, all or nothing. Any item out of stock rolls the whole order back:
    `async_atomic` pins one pooled connection to this task for the block, and every native ORM call
    inside it runs in that one transaction."""
    try:
        items = [(int(item["product"]), int(item.get("quantity", 1))) for item in body(request)["items"]]
    except (KeyError, TypeError, ValueError):
        return JsonResponse({"error": "expected {items: [{product: <id>, quantity: <int>}]}"}, status=400)
    if not items or any(quantity < 1 for _, quantity in items):
        return JsonResponse({"error": "at least one item, each with a positive quantity"}, status=400)
    user = await customer(request)
    try:
        async with async_atomic():
            order = await Order.objects.acreate(user=user, product_id=items[0][0])
            total = Decimal(0)
            for pk, quantity in items:
                taken = await Product.objects.filter(pk=pk, stock__gte=quantity).aupdate(
                    stock=F("stock") - quantity, sold=F("sold") + quantity
                )
                if not taken:
                    raise OutOfStock(pk)
                price = await Product.objects.values_list("price", flat=True).aget(pk=pk)
                await OrderLine.objects.acreate(order=order, product_id=pk, quantity=quantity, price=price)
                total += price * quantity
            order.total = total
            await order.asave(update_fields=["total"])
    except OutOfStock as exc:
        return JsonResponse({"error": f"product {exc.args[0]} is out of stock (or unknown)"}, status=409)
    return JsonResponse({"order": order.pk, "total": str(order.total), "lines": len(items)}, status=201)


@require_GET
async def top_products(request: HttpRequest) -> JsonResponse:
    """A raw async cursor: a pooled connection for the block, rows streamed with `async for`."""
    async with connection.acursor() as cursor:
        await cursor.execute(
            "SELECT p.id, p.name, b.name, p.sold FROM shop_product p"
            " JOIN shop_brand b ON b.id = p.brand_id ORDER BY p.sold DESC, p.id LIMIT %s",
            [10],
        )
        rows = [
            {"id": pk, "name": name, "brand": brand, "sold": sold} async for pk, name, brand, sold in cursor
        ]
    return JsonResponse({"products": rows})


@require_GET
async def stats(request: HttpRequest) -> JsonResponse:
    """The pool of this process and event loop: `get_stats()` (psycopg_pool's names)."""
    return JsonResponse({"pool": connection.pool().get_stats()})
