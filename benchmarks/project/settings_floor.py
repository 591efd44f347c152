"""The floor: a middleware at the top answers every request with a constant 204.

What remains is the cost of Django's handler and of building the request, which no CORS layer
placed first can avoid.
"""

from __future__ import annotations

from .base import *  # noqa: F403
from .base import MIDDLEWARE_BELOW_CORS

BENCH_STACK = "floor"
MIDDLEWARE = ["benchmarks.project.floor.ConstantResponseMiddleware", *MIDDLEWARE_BELOW_CORS]
