"""The relay benchmark's servers: django-preflight and its relay, on a SQLite file the
benchmark prepares (``PREFLIGHT_BENCH_DB``) and every server process reads."""

from __future__ import annotations

import os

from .base import *  # noqa: F403
from .base import INSTALLED_APPS as BASE_APPS
from .base import MIDDLEWARE_BELOW_CORS

INSTALLED_APPS = [*BASE_APPS, "django_preflight", "django_preflight.relay"]
MIDDLEWARE = ["django_preflight.middleware.PreflightMiddleware", *MIDDLEWARE_BELOW_CORS]
ROOT_URLCONF = "benchmarks.project.urls_relay"
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["PREFLIGHT_BENCH_DB"]}
}
PREFLIGHT_REFRESH_INTERVAL = 3600.0
