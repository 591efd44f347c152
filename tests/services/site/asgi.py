"""The ASGI entry point uvicorn serves: the same project, decided on the async path."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.services.site.settings")
application = get_asgi_application()
