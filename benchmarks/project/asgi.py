"""The ASGI application uvicorn serves: Django's handler, with the stack's data loaded first."""

from __future__ import annotations

from django.core.asgi import get_asgi_application

from benchmarks import workload

from .database import prepare

application = get_asgi_application()
prepare(workload.Size.from_env())
