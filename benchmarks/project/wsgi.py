"""The WSGI application gunicorn serves: Django's handler, with the stack's data loaded first."""

from __future__ import annotations

from django.core.wsgi import get_wsgi_application

from benchmarks import workload

from .database import prepare

application = get_wsgi_application()
prepare(workload.Size.from_env())
