"""The WSGI application gunicorn serves."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.scan.corsheaders_site.settings"
application = get_wsgi_application()
