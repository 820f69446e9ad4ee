"""`uvicorn shop.asgi:application`: Django's ASGI handler, wrapped so that uvicorn's lifespan
events open and close the database pools."""

import os

from django.core.asgi import get_asgi_application

from django_singlestore_async.asgi import with_lifespan

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")

application = with_lifespan(get_asgi_application())
