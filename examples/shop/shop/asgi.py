"""`uvicorn shop.asgi:application`: Django's ASGI handler as the async engine runs it (request
signals on the event loop, no thread hop per request), wrapped so that uvicorn's lifespan events
open and close the database pools."""

import os

from django_singlestore_async.asgi import get_asgi_application, with_lifespan

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")

application = with_lifespan(get_asgi_application())
