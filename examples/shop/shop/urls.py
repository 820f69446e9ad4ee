from django.contrib import admin
from django.contrib.staticfiles.views import serve
from django.urls import path, re_path

from shop import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/products", views.product_list),
    path("api/products/<int:pk>", views.product_detail),
    path("api/orders", views.order_create),
    path("api/checkout", views.checkout),
    path("api/top", views.top_products),
    path("api/stats", views.stats),
    # The admin's CSS and JS, served by Django for the demo only (use a web server or WhiteNoise in production).
    re_path(r"^static/(?P<path>.*)$", serve, {"insecure": True}),
]
