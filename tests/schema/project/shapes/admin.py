from django.contrib import admin

from tests.schema.project.shapes.models import Book, Tagged

admin.site.register(Tagged)
admin.site.register(Book)
