"""Origin values: strict parsing of what browsers send, normalisation of what staff type.

Browsers send an origin already serialised (lower-case scheme and host, punycode, no default
port), so the request side only has to *recognise* that form; anything else is refused rather
than repaired. The configuration side is forgiving in what it accepts from a person and stores
the one canonical form, so that matching a request is a plain dictionary lookup.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache

from .hosts import MAX_HOST_LENGTH, PLAIN_HOST, HostError, to_ascii
from .limits import MAX_ORIGIN_LENGTH, MAX_REGEX_LENGTH
from .linear_regex import LinearRegex, LinearRegexError, unsupported_feature
from .problems import Code

DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}

_IPV6 = r"\[[0-9a-f:.]+\]"
_SERIALISED = re.compile(
    rf"(?P<scheme>[a-z][a-z0-9+.\-]{{0,31}})://(?P<host>{PLAIN_HOST}|{_IPV6})"
    r"(?::(?P<port>[1-9][0-9]{0,4}))?"
)
_SCHEME = re.compile(r"[a-z][a-z0-9+.\-]{0,31}")
_NAMED = re.compile(
    rf"(?P<scheme>{_SCHEME.pattern})://{PLAIN_HOST}(?::(?P<port>[1-9][0-9]{{0,4}}))?"
)
"""``_SERIALISED`` with a host name only: an origin a browser sends that is never rewritten."""
_NORMAL_SUBDOMAIN = re.compile(
    rf"(?P<scheme>{_SCHEME.pattern})://\*\.(?P<host>{PLAIN_HOST})(?::(?P<port>[1-9][0-9]{{0,4}}))?"
)
_NORMAL_SUBDOMAIN_LENGTH = len("a://*.") + MAX_HOST_LENGTH
"""A wildcard as the configuration side stores it, told without normalising it: lower-case
scheme, a plain host (``hosts.is_plain_host``: no ``--`` and at most 253 characters, checked
before the match) and a port. The longest is below ``MAX_ORIGIN_LENGTH``."""


class OriginError(ValueError):
    """A configured origin pattern that cannot be accepted; the message is for a person."""

    def __init__(self, code: Code, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Origin:
    """A serialised origin split into its parts; ``port`` is None for the scheme's default."""

    scheme: str
    host: str
    port: int | None

    def serialise(self) -> str:
        port = "" if self.port is None else f":{self.port}"
        return f"{self.scheme}://{self.host}{port}"


def parse_request_origin(value: str) -> Origin | None:
    """Recognise an origin exactly as a browser serialises it, or return None.

    None covers 'null', upper case, default ports spelled out, paths, whitespace and every
    other deviation: such values are never matched against wildcard or regex patterns.
    """
    if len(value) > MAX_ORIGIN_LENGTH:
        return None
    match = _SERIALISED.fullmatch(value)
    if match is None:
        return None
    scheme, host, port_text = match.group("scheme", "host", "port")
    port = int(port_text) if port_text else None
    if port is not None and (port > 65535 or DEFAULT_PORTS.get(scheme) == port):
        return None
    if host.startswith("[") and not _is_ipv6(host[1:-1]):
        return None
    return Origin(scheme, host, port)


def normalise_origin(text: str) -> str:
    """Turn an origin typed by a person into its serialised form, or explain the problem."""
    return _split_configured(text, allow_wildcard=False).serialise()


def is_serialised_origin(value: str) -> bool:
    """True when ``value`` is an origin exactly as a browser serialises it, with a host name.

    Such a stored exact origin is used as stored, being what the browser sends: a snapshot of
    100,000 of them costs one pattern match each, with no ``Origin`` built. An IPv6 host is left
    out (normalisation may still compress it), as is everything ``parse_request_origin`` refuses.
    """
    if len(value) > MAX_ORIGIN_LENGTH:
        return False
    match = _NAMED.fullmatch(value)
    if match is None:
        return False
    port_text = match["port"]
    if port_text is None:
        return True
    port = int(port_text)
    return port <= 65535 and port != DEFAULT_PORTS.get(match["scheme"])


def normalise_subdomain_pattern(text: str) -> Origin:
    """Parse ``scheme://*.example.com[:port]``; the returned host is the parent domain."""
    plain = len(text) <= _NORMAL_SUBDOMAIN_LENGTH and "--" not in text
    match = _NORMAL_SUBDOMAIN.fullmatch(text) if plain else None
    if match is not None and "." in match["host"]:
        # Already in its stored form, as every saved wildcard is: no UTS #46 processing.
        scheme, host, port_text = match.group("scheme", "host", "port")
        port = None if port_text is None else int(port_text)
        if port is None or port <= 65535:
            return Origin(scheme, host, None if port == DEFAULT_PORTS.get(scheme) else port)
    if "://*." not in text.strip():
        raise OriginError(
            Code.SUBDOMAIN_SHAPE,
            "A subdomain pattern looks like https://*.example.com: scheme, '://*.', then a domain.",
        )
    origin = _split_configured(text, allow_wildcard=True)
    if "." not in origin.host or origin.host.startswith("["):
        raise OriginError(
            Code.SUBDOMAIN_NOT_REGISTRABLE,
            "A subdomain pattern needs a registrable domain such as example.com after '*.'.",
        )
    return origin


def _split_configured(text: str, *, allow_wildcard: bool) -> Origin:
    value = text.strip()
    if not value:
        raise OriginError(Code.ORIGIN_EMPTY, "Enter an origin such as https://app.example.com.")
    if len(value) > MAX_ORIGIN_LENGTH:
        raise OriginError(
            Code.ORIGIN_TOO_LONG, f"An origin is at most {MAX_ORIGIN_LENGTH} characters long."
        )
    if value.lower() == "null":
        raise OriginError(
            Code.ORIGIN_NULL_AS_EXACT,
            "The 'null' origin can be sent by any sandboxed page; allow it only with the "
            "separate 'null origin' kind.",
        )
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise OriginError(
            Code.ORIGIN_CONTROL_CHARACTER, "An origin cannot contain spaces or control characters."
        )
    scheme, sep, rest = value.partition("://")
    if not sep:
        raise OriginError(
            Code.ORIGIN_NO_SCHEME,
            "An origin starts with a scheme, such as https://app.example.com.",
        )
    scheme = scheme.lower()
    if not _SCHEME.fullmatch(scheme):
        raise OriginError(Code.ORIGIN_BAD_SCHEME, f"'{scheme}' is not a valid URL scheme.")
    if rest.endswith("/") and "/" not in rest[:-1]:
        rest = rest[:-1]
    for mark, what in (("/", "a path"), ("?", "a query"), ("#", "a fragment"), ("@", "userinfo")):
        if mark in rest:
            raise OriginError(
                Code.ORIGIN_NOT_ONLY_ORIGIN,
                f"An origin is only scheme, host and port; remove {what} ('{mark}...').",
            )
    host, port = _split_port(rest)
    if allow_wildcard:
        if not host.startswith("*."):
            raise OriginError(
                Code.SUBDOMAIN_SHAPE, "A subdomain pattern starts with '*.' right after '://'."
            )
        host = host[2:]
    host = _normalise_host(host)
    if port is not None and DEFAULT_PORTS.get(scheme) == port:
        port = None
    return Origin(scheme, host, port)


def _split_port(rest: str) -> tuple[str, int | None]:
    if rest.startswith("["):
        end = rest.find("]")
        if end == -1:
            raise OriginError(Code.ORIGIN_BAD_HOST, "An IPv6 host must be closed with ']'.")
        host, tail = rest[: end + 1], rest[end + 1 :]
        if tail and not tail.startswith(":"):
            raise OriginError(Code.ORIGIN_BAD_PORT, "Only ':port' may follow an IPv6 host.")
        port_text = tail[1:] if tail else None
    else:
        host, sep, port_text_raw = rest.partition(":")
        port_text = port_text_raw if sep else None
    if port_text is None:
        return host, None
    if not port_text.isascii() or not port_text.isdigit() or not 0 < int(port_text) <= 65535:
        raise OriginError(
            Code.ORIGIN_BAD_PORT, f"'{port_text}' is not a port number between 1 and 65535."
        )
    return host, int(port_text)


def _normalise_host(host: str) -> str:
    if not host:
        raise OriginError(Code.ORIGIN_BAD_HOST, "The origin has no host.")
    if host.startswith("["):
        inner = host[1:-1].lower()
        if not _is_ipv6(inner):
            raise OriginError(Code.ORIGIN_BAD_HOST, f"'{host}' is not a valid IPv6 address.")
        return f"[{ipaddress.IPv6Address(inner).compressed}]"
    if host.endswith("."):
        raise OriginError(
            Code.ORIGIN_BAD_HOST, "Remove the trailing dot: browsers send the host without it."
        )
    try:
        ascii_host = to_ascii(host)
    except HostError as exc:
        raise OriginError(Code.ORIGIN_BAD_HOST, str(exc)) from exc
    if not re.fullmatch(PLAIN_HOST, ascii_host):
        raise OriginError(
            Code.ORIGIN_BAD_HOST,
            f"'{host}' is not a valid host name: use letters, digits, hyphens and dots.",
        )
    return ascii_host


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=4096)
def compile_origin_regex(pattern: str) -> LinearRegex:
    """Compile a staff-written origin regex on RE2; it is always matched whole, never searched.

    The pattern must also parse as a Python regex, so that the look-alike lint can read it.
    Compiled patterns are immutable and shared between snapshots, so a rebuild after an
    unrelated change compiles nothing again.
    """
    if not pattern.strip():
        raise OriginError(Code.REGEX_EMPTY, "Enter a regular expression.")
    if len(pattern) > MAX_REGEX_LENGTH:
        raise OriginError(
            Code.REGEX_TOO_LONG,
            f"A regular expression is at most {MAX_REGEX_LENGTH} characters long.",
        )
    try:
        re.compile(pattern)
    except re.error as exc:
        # An older Python's parser calls some backtracking-only features (atomic groups before
        # 3.11) unknown syntax: name the feature, as RE2 would.
        if feature := unsupported_feature(pattern):
            raise OriginError(Code.REGEX_NOT_LINEAR, feature) from exc
        raise OriginError(
            Code.REGEX_INVALID, f"This is not a valid regular expression: {exc}."
        ) from exc
    try:
        return LinearRegex(pattern)
    except LinearRegexError as exc:
        raise OriginError(Code.REGEX_NOT_LINEAR, str(exc)) from exc
