"""The workload every stack is measured with: one policy, its origins, and the request kinds.

Both libraries get the same origins, methods, headers, credentials and Max-Age, so a difference
in time is a difference in how they decide, not in what they were asked to decide.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django_preflight.engine import PolicySpec

PATH = "/api/notes/"
PATH_PREFIX = "/api/"
URLS_REGEX = r"^/api/.*$"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
HEADERS = ("accept", "authorization", "content-type", "x-csrftoken", "x-requested-with")
EXPOSED = ("x-request-id",)
MAX_AGE = 600
CREDENTIALS = True
REFUSED_ORIGIN = "https://blocked.example.net"
REQUESTED_METHOD = "PUT"
REQUESTED_HEADERS = "content-type, authorization"

ALLOWED_PREFLIGHT = "allowed_preflight"
REFUSED_PREFLIGHT = "refused_preflight"
ALLOWED_GET = "allowed_get"
NO_ORIGIN = "no_origin"
KINDS = (ALLOWED_PREFLIGHT, REFUSED_PREFLIGHT, ALLOWED_GET, NO_ORIGIN)
PREFLIGHT_KINDS = (ALLOWED_PREFLIGHT, REFUSED_PREFLIGHT)
ALLOWED_KINDS = frozenset({ALLOWED_PREFLIGHT, ALLOWED_GET})


def policy_spec(size: Size) -> PolicySpec:
    """Our side's one policy with every origin entry of ``size``."""
    from django_preflight.engine import OriginKind, OriginSpec, PolicySpec

    origins = (
        *(OriginSpec(OriginKind.EXACT, v) for v in exact_origins(size.exact)),
        *(OriginSpec(OriginKind.SUBDOMAIN, v) for v in wildcard_patterns(size.wildcards)),
        *(OriginSpec(OriginKind.REGEX, v) for v in regex_patterns(size.regexes)),
    )
    return PolicySpec(
        id=1,
        name="benchmarks",
        path_prefix=PATH_PREFIX,
        allow_credentials=CREDENTIALS,
        allowed_methods=METHODS,
        allowed_headers=HEADERS,
        exposed_headers=EXPOSED,
        max_age=MAX_AGE,
        origins=origins,
    )


_ENV_EXACT = "PREFLIGHT_BENCH_EXACT"
_ENV_WILDCARDS = "PREFLIGHT_BENCH_WILDCARDS"
_ENV_REGEXES = "PREFLIGHT_BENCH_REGEXES"


@dataclass(frozen=True, slots=True)
class Size:
    """How many origin entries a stack is configured with; patterns exist only on our side."""

    exact: int
    wildcards: int = 0
    regexes: int = 0

    @property
    def label(self) -> str:
        """Short, stable text for tables and JSON keys."""
        extra = f"+{self.wildcards}w+{self.regexes}r" if self.wildcards or self.regexes else ""
        return f"{self.exact}{extra}"

    def env(self) -> dict[str, str]:
        """The environment a worker process reads its size from."""
        return {
            _ENV_EXACT: str(self.exact),
            _ENV_WILDCARDS: str(self.wildcards),
            _ENV_REGEXES: str(self.regexes),
        }

    @classmethod
    def from_env(cls) -> Size:
        """The size this process was started with (settings modules read it at import)."""
        return cls(
            exact=int(os.environ.get(_ENV_EXACT, "1")),
            wildcards=int(os.environ.get(_ENV_WILDCARDS, "0")),
            regexes=int(os.environ.get(_ENV_REGEXES, "0")),
        )


def exact_origins(count: int) -> list[str]:
    """Distinct exact origins, all of the same shape so that only their number varies."""
    return [f"https://app{i}.example.com" for i in range(count)]


def wildcard_patterns(count: int) -> list[str]:
    """Subdomain wildcards under parents that the probe origins never fall under."""
    return [f"https://*.tenant{i}.example.org" for i in range(count)]


def regex_patterns(count: int) -> list[str]:
    """Regexes of a common real shape, none of which matches a probe origin."""
    return [rf"https://[a-z0-9-]+\.region{i}\.example\.io" for i in range(count)]


def allowed_origin(size: Size) -> str:
    """The last exact origin configured: the worst position for a list scanned in order."""
    return f"https://app{size.exact - 1}.example.com"


@dataclass(frozen=True, slots=True)
class Probe:
    """One request kind as plain values, turned into a WSGI environ, engine facts or Lua."""

    method: str
    origin: str | None = None
    request_method: str | None = None
    request_headers: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        """The request's CORS headers by their HTTP names."""
        names = {
            "Origin": self.origin,
            "Access-Control-Request-Method": self.request_method,
            "Access-Control-Request-Headers": self.request_headers,
        }
        return {name: value for name, value in names.items() if value is not None}


def probes(size: Size) -> dict[str, Probe]:
    """The four request kinds for a stack of this size."""
    allowed = allowed_origin(size)
    return {
        ALLOWED_PREFLIGHT: Probe("OPTIONS", allowed, REQUESTED_METHOD, REQUESTED_HEADERS),
        REFUSED_PREFLIGHT: Probe("OPTIONS", REFUSED_ORIGIN, REQUESTED_METHOD, REQUESTED_HEADERS),
        ALLOWED_GET: Probe("GET", allowed),
        NO_ORIGIN: Probe("GET"),
    }
