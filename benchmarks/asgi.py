"""The ASGI application of one benchmark process (`uvicorn benchmarks.asgi:application`, and the
in-process cells of the ORM paths, which call it directly).

The native path runs on `django_singlestore_async.asgi.get_asgi_application()` (request signals on
the event loop: no thread hop per request); the stock paths on Django's own handler, as a stock
deployment does.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")

from django.conf import settings
from django.core.asgi import get_asgi_application as stock_application

from django_singlestore_async.asgi import get_asgi_application as native_application
from django_singlestore_async.asgi import with_lifespan

handler = native_application() if settings.BENCH_PATH == "native" else stock_application()
application = with_lifespan(handler)
if settings.BENCH_GC_FREEZE:
    import gc

    gc.freeze()
if os.environ.get("BENCH_TRACE"):  # `python -m benchmarks --trace`: per-request timestamps (debug only)
    from benchmarks import trace

    application = trace.wrap(application)
