"""Which headers cross the relay, in each direction, and where injected secrets come from.

The browser's headers reach the upstream only when the upstream's allowlist names them; the
upstream's headers reach the browser only when they describe the body or are allowlisted.
Hop-by-hop headers, cookies and CORS headers never cross: the relay is not a cookie jar, and
CORS belongs to the middleware. Injected values are read from settings or environment
variables at request time, so the database only ever holds their names.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.conf import settings

from ..engine.tokens import is_token

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# Never forwarded in either direction, whatever an allowlist says.
NEVER = HOP_BY_HOP | {"cookie", "set-cookie", "set-cookie2", "host", "content-length"}
# Response headers that describe the body: always passed back.
BODY_HEADERS = (
    "content-type",
    "content-length",
    "content-encoding",
    "content-language",
    "cache-control",
    "etag",
    "expires",
    "last-modified",
)
MAX_VALUE_LENGTH = 8192
_UNSAFE_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
SOURCES = ("env", "setting")


class HeaderError(ValueError):
    """A header value that must not be forwarded."""


@dataclass(frozen=True)
class Injection:
    """One header the relay adds: its name, and the setting or variable holding its value."""

    header: str
    source: str
    name: str

    def value(self) -> str:
        """The current value; a missing one is a configuration error, not an empty header."""
        if self.source == "env":
            found = os.environ.get(self.name)
        else:
            found = getattr(settings, self.name, None)
        if not isinstance(found, str) or not found:
            raise LookupError(f"{self.source} {self.name} is not set")
        if _UNSAFE_VALUE.search(found):
            raise LookupError(f"{self.source} {self.name} holds a control character")
        return found

    def line(self) -> str:
        """How the admin shows it: the name of the value, never the value."""
        return f"{self.header}: {self.source}:{self.name}"


def can_pass(header: str) -> bool:
    """Whether the relay may carry a header of this name at all: a token, and never a cookie,
    the host or a hop-by-hop header, whichever list or line names it."""
    return is_token(header) and header.lower() not in NEVER


def parse_injections(text: str) -> list[Injection]:
    """``Header: env:NAME`` or ``Header: setting:NAME``, one per line; ValueError names the bad
    line."""
    found: list[Injection] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        header, sep, reference = line.partition(":")
        source, sep2, name = reference.strip().partition(":")
        header = header.strip()
        if not sep or not sep2 or source not in SOURCES:
            raise ValueError(f"line {number}: write 'Header-Name: env:VARIABLE' or 'setting:NAME'")
        if not can_pass(header):
            raise ValueError(f"line {number}: {header!r} cannot be injected")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,99}", name):
            raise ValueError(f"line {number}: {name!r} is not a variable or setting name")
        found.append(Injection(header, source, name))
    return found


def checked_value(name: str, value: str) -> str:
    """A browser-supplied value, refused if it could split or smuggle a header."""
    if len(value) > MAX_VALUE_LENGTH or _UNSAFE_VALUE.search(value):
        raise HeaderError(f"the value of {name} is not forwarded: too long or a control character")
    return value


def request_headers(
    meta: Mapping[str, object], allowed: Iterable[str], injections: Iterable[Injection]
) -> dict[str, str]:
    """The headers sent upstream: the allowlisted ones the browser sent, then the injected
    ones (which replace any browser value of the same name)."""
    forwarded: dict[str, str] = {}
    content_type = meta.get("CONTENT_TYPE")
    if isinstance(content_type, str) and content_type:
        forwarded["content-type"] = checked_value("content-type", content_type)
    for name in allowed:
        lower = name.lower()
        if lower in NEVER or lower == "content-type":
            continue
        value = meta.get("HTTP_" + lower.upper().replace("-", "_"))
        if isinstance(value, str):
            forwarded[lower] = checked_value(lower, value)
    for injection in injections:
        forwarded[injection.header.lower()] = injection.value()
    return forwarded


def response_headers(
    upstream: Iterable[tuple[str, str]], allowed: Iterable[str]
) -> list[tuple[str, str]]:
    """The upstream's headers the browser receives: body headers and allowlisted ones."""
    passed = set(BODY_HEADERS) | {name.lower() for name in allowed}
    kept = []
    for name, value in upstream:
        lower = name.lower()
        if lower in NEVER - {"content-length"} or lower.startswith("access-control-"):
            continue
        if lower in passed and not _UNSAFE_VALUE.search(value):
            kept.append((lower, value))
    return kept
