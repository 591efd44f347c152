"""Policies as configured: plain values, the engine's input, whatever stores them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple


class OriginKind(str, Enum):
    """How an allowed-origin entry matches the request's ``Origin``."""

    EXACT = "exact"
    """One origin, stored in the form browsers send it."""
    SUBDOMAIN = "subdomain"
    """Every subdomain of a registrable domain, at any depth, on one scheme and port."""
    REGEX = "regex"
    """A regular expression matched against the whole origin."""
    ANY = "any"
    """Any origin, answered with '*'; never with credentials."""
    NULL = "null"
    """The 'null' origin of sandboxed pages and local files."""


class OriginSpec(NamedTuple):
    """One allowed-origin entry as configured; a tuple, the cheapest value to build 100,000 of.

    ``allow_public_suffix`` is the explicit opt-in a subdomain wildcard on a public suffix
    (``https://*.github.io``) needs; it is never enough with credentials.
    """

    kind: OriginKind
    value: str = ""
    allow_public_suffix: bool = False


@dataclass(frozen=True, slots=True)
class PolicySpec:
    """One policy as configured."""

    id: int
    name: str
    path_prefix: str = "/"
    """Requests under it, segment by segment; the longest covering prefix decides."""
    allow_credentials: bool = False
    allowed_methods: tuple[str, ...] = ("GET", "HEAD", "POST")
    """Compared byte for byte; '*' means any, only without credentials."""
    allowed_headers: tuple[str, ...] = ()
    """Request header names, case-insensitive; '*' means any but authorization."""
    exposed_headers: tuple[str, ...] = ()
    max_age: int | None = None
    """Seconds; None sends no Max-Age (browsers then cache for ``MAX_AGE_MISSING``)."""
    allow_private_network: bool = False
    origins: tuple[OriginSpec, ...] = ()
    report_only: bool = False
    """Decided beside the enforced policies; never changes a response."""
    enforce_on_server: bool = False
    """Refuse unsafe cross-origin writes from unlisted origins before the view runs."""
    views_only: bool = False
    """Covers no path of its own: only the views that name it."""
