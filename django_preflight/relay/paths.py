"""Joining the caller's path and query to an upstream's base URL, kept under its base path.

Django hands views the percent-decoded path, so ``%2e%2e`` and ``%2f`` arrive here as ``..`` and
``/``. Each decoded segment is judged, then re-encoded: the upstream receives exactly the
segments judged here, under the base path, on the base URL's scheme, host and port.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import SplitResult, quote, urlsplit

from ..engine.origins import DEFAULT_PORTS

MAX_PATH_LENGTH = 2048
MAX_QUERY_LENGTH = 4096
# What a segment may keep unencoded (RFC 3986 pchar without '%').
_SEGMENT_SAFE = "!$&'()*+,;=:@-._~"
_DOUBLE_ENCODED = re.compile(r"%[0-9A-Fa-f]{2}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# A raw query string as a browser sends it: visible ASCII, no fragment.
_QUERY = re.compile(r"[\x21-\x22\x24-\x7e]*")


class BadPathError(ValueError):
    """The caller's path or query could leave the base path or smuggle a target."""


@dataclass(frozen=True)
class Base:
    """An upstream's base URL, split once."""

    scheme: str
    host: str
    port: int
    path: str

    @property
    def netloc(self) -> str:
        """host[:port] as the Host header writes it (default ports left out)."""
        default = DEFAULT_PORTS[self.scheme]
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"

    def url(self, path_and_query: str) -> str:
        """An absolute URL on this base's origin."""
        return f"{self.scheme}://{self.netloc}{path_and_query}"


def split_base(url: str) -> Base:
    """The parts of a validated base URL (the model refuses userinfo, query and fragment)."""
    parts: SplitResult = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadPathError(f"not an http(s) URL: {url!r}")
    port = parts.port or DEFAULT_PORTS[parts.scheme]
    return Base(parts.scheme, parts.hostname, port, parts.path.rstrip("/"))


def check_segment(segment: str) -> None:
    """Refuse one decoded path segment that could move or smuggle anything."""
    if segment in (".", ".."):
        raise BadPathError("dot segments are not allowed")
    if "\\" in segment:
        raise BadPathError("backslashes are not allowed")
    if _CONTROL.search(segment):
        raise BadPathError("control characters are not allowed")
    if _DOUBLE_ENCODED.search(segment):
        raise BadPathError("percent-encoded sequences must not be encoded twice")


def join(base: Base, rest: str, query: str) -> str:
    """The upstream's path and query for the caller's ``rest`` (decoded) and raw ``query``."""
    if len(rest) > MAX_PATH_LENGTH:
        raise BadPathError(f"the path is longer than {MAX_PATH_LENGTH} characters")
    if len(query) > MAX_QUERY_LENGTH:
        raise BadPathError(f"the query is longer than {MAX_QUERY_LENGTH} characters")
    if not _QUERY.fullmatch(query):
        raise BadPathError("the query holds a character a browser would have encoded")
    segments = rest.split("/") if rest else []
    for index, segment in enumerate(segments):
        # Only a trailing slash may leave an empty segment; '//' would start a new authority.
        if segment == "" and index != len(segments) - 1:
            raise BadPathError("empty path segments are not allowed")
        check_segment(segment)
    path = base.path + "/" + "/".join(quote(s, safe=_SEGMENT_SAFE) for s in segments)
    return path + (f"?{query}" if query else "")


def within(base: Base, url: str) -> str | None:
    """The path and query of ``url`` if it stays on the base's origin and under its path."""
    parts = urlsplit(url)
    port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    if (parts.scheme, parts.hostname, port) != (base.scheme, base.host, base.port):
        return None
    if parts.username is not None or parts.password is not None:
        return None
    if parts.path != base.path and not parts.path.startswith(base.path + "/"):
        return None
    segments = parts.path.split("/")
    if any(s in (".", "..") or s.lower() in ("%2e", "%2e%2e", ".%2e", "%2e.") for s in segments):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")
