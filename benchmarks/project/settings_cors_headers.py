"""django-cors-headers at the top of the stack, configured like our policy.

Same origins (exact only: it has no subdomain wildcard), methods, request headers, exposed
headers, credentials, Max-Age, and the same covered path.
"""

from __future__ import annotations

from benchmarks import workload

from .base import *  # noqa: F403
from .base import INSTALLED_APPS as BASE_APPS
from .base import MIDDLEWARE_BELOW_CORS

BENCH_STACK = "django-cors-headers"
INSTALLED_APPS = [*BASE_APPS, "corsheaders"]
MIDDLEWARE = ["corsheaders.middleware.CorsMiddleware", *MIDDLEWARE_BELOW_CORS]

CORS_ALLOWED_ORIGINS = workload.exact_origins(workload.Size.from_env().exact)
CORS_ALLOW_METHODS = list(workload.METHODS)
CORS_ALLOW_HEADERS = list(workload.HEADERS)
CORS_EXPOSE_HEADERS = list(workload.EXPOSED)
CORS_ALLOW_CREDENTIALS = workload.CREDENTIALS
CORS_PREFLIGHT_MAX_AGE = workload.MAX_AGE
CORS_URLS_REGEX = workload.URLS_REGEX
