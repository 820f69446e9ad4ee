"""The admin: Django's sync views, on the same database alias as the async views (mysqlclient)."""

from django.contrib import admin

from shop.models import Brand, Order, OrderLine, Product, Tag


@admin.register(Brand, Tag)
class NamedAdmin(admin.ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "brand", "price", "stock", "sold"]
    list_filter = ["brand"]
    search_fields = ["name"]
    filter_horizontal = ["tags"]


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "created", "total"]
    list_select_related = ["user"]
    raw_id_fields = ["user", "product"]
    inlines = [OrderLineInline]
