"""What the scanner sends to one URL, and the bound on it.

Every origin gets at most two requests: a GET (a safe method, no body) and, only when the GET
did not already grant it, a preflight. The preflight asks for what a JSON ``POST`` needs, the
most common preflighted call, but no ``POST`` is ever sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..engine.browser import CorsRequest
from ..engine.origins import DEFAULT_PORTS
from .origins import MAX_BASES, HostileOrigin, hostile_origins

MAX_TRUSTED = 3
MAX_HOSTILE = 40
REQUESTS_PER_ORIGIN = 2
MAX_REQUESTS_PER_URL = REQUESTS_PER_ORIGIN * (MAX_TRUSTED + MAX_HOSTILE)
USER_AGENT = "django-preflight-scan/1 (defensive CORS scanner; no request bodies, safe methods)"
PREFLIGHT_METHOD = "POST"
PREFLIGHT_HEADERS = (("Content-Type", "application/json"),)

assert MAX_BASES <= MAX_TRUSTED


@dataclass(frozen=True, slots=True)
class Plan:
    """The origins one URL is scanned with, in the order they are sent."""

    url: str
    trusted: tuple[str, ...]
    hostile: tuple[HostileOrigin, ...]

    @property
    def max_requests(self) -> int:
        """The most this plan can send."""
        return REQUESTS_PER_ORIGIN * (len(self.trusted) + len(self.hostile))


def url_origin(url: str) -> str:
    """The URL's own origin, serialised as a browser would (no default port)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"'{url}' is not an http or https URL.")
    default = DEFAULT_PORTS[parts.scheme]
    port = "" if parts.port in (None, default) else f":{parts.port}"
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}{port}"


def make_plan(url: str, trusted: Sequence[str]) -> Plan:
    """The bounded plan for one URL; without trusted origins, the URL's own origin stands in."""
    own = url_origin(url)
    chosen = tuple(dict.fromkeys(trusted))[:MAX_TRUSTED] or (own,)
    return Plan(url, chosen, hostile_origins(chosen, own)[:MAX_HOSTILE])


def preflight_request(url: str, origin: str, *, credentials: bool) -> CorsRequest:
    """The preflighted call the scanner imitates: a JSON POST from ``origin``."""
    return CorsRequest(url, origin, PREFLIGHT_METHOD, PREFLIGHT_HEADERS, credentials)
