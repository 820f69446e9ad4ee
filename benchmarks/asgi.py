"""The ASGI application uvicorn serves in the headline leg (`uvicorn benchmarks.asgi:application`)."""

import os

from django.core.asgi import get_asgi_application

from django_singlestore_async.asgi import with_lifespan

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")

application = with_lifespan(get_asgi_application())
