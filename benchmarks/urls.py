from django.urls import path

from benchmarks import views

urlpatterns = [
    path("point", views.point),
    path("list", views.list_),
    path("write", views.write),
    path("mixed", views.mixed),
    path("ping", views.ping),
]
