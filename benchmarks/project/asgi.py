"""The ASGI application uvicorn serves: Django's handler, with the stack's data loaded first.

uvicorn's workers import the application inside their event loop, where Django refuses database
work; the data is loaded while nothing is served yet, so that refusal is lifted for the load
alone. The connection it opens keeps the in-memory database alive for the request threads.
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

from benchmarks import workload

from .database import prepare

ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"

application = get_asgi_application()
os.environ[ASYNC_UNSAFE] = "true"
try:
    prepare(workload.Size.from_env())
finally:
    del os.environ[ASYNC_UNSAFE]
