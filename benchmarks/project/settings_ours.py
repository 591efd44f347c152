"""django-preflight at the top of the stack; its policy is loaded into the database at start."""

from __future__ import annotations

from .base import *  # noqa: F403
from .base import INSTALLED_APPS as BASE_APPS
from .base import MIDDLEWARE_BELOW_CORS

BENCH_STACK = "django-preflight"
INSTALLED_APPS = [*BASE_APPS, "django_preflight"]
MIDDLEWARE = ["django_preflight.middleware.PreflightMiddleware", *MIDDLEWARE_BELOW_CORS]
