"""The shop example: one package that is both the Django project (settings, urls, asgi) and its app
(models, views, admin)."""
