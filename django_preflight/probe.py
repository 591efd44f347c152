"""Probe a live deployment as a browser would: each preflight, request and redirect.

Works against any server (nothing of this project needs to run there) and through whatever sits
in front of it, because it judges the raw responses with the browser's own checks and follows
redirects as Chromium does.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .engine.address_space import AddressSpace, of_host, of_ip
from .engine.advice import Advice
from .engine.browser import (
    CorsRequest,
    RawResponse,
    authorization_warning,
    cacheable_for_another_origin,
)
from .engine.causes import cause_of
from .engine.fetch import CHROMIUM_RULES, Headers, Rules, Trace, follow
from .engine.limits import MAX_AGE_CHROMIUM_CAP, MAX_AGE_MISSING
from .engine.origins import DEFAULT_PORTS

MAX_BODY = 64 * 1024
# What the page's fetch() sends as the body of a method that carries one.
PAGE_BODY = b"{}"
BODYLESS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request sent and the raw response received."""

    method: str
    headers: Headers
    response: RawResponse
    body: bytes


@dataclass(slots=True)
class ProbeReport:
    """The hops, the verdict, the line Chromium would print, and the likely cause."""

    trace: Trace
    page_space: AddressSpace
    advice: Advice | None = None
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def request(self) -> CorsRequest:
        """The call probed."""
        return self.trace.request

    @property
    def passed(self) -> bool:
        """True when the page would read the response."""
        return self.trace.passed

    @property
    def message(self) -> str | None:
        """Chromium's console line for a blocked call."""
        return self.trace.message


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to an address resolved and checked beforehand, not to a fresh DNS answer."""

    def __init__(self, host: str, port: int | None, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to a pinned address; the certificate is still checked against the host name."""

    def __init__(self, host: str, port: int | None, address: str, timeout: float) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls)
        self.address = address

    def connect(self) -> None:
        raw = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self.tls.wrap_socket(raw, server_hostname=self.host)


def send(
    url: str,
    method: str,
    headers: tuple[tuple[str, str], ...],
    timeout: float,
    address: str | None = None,
    body: bytes | None = None,
) -> Exchange:
    """One HTTP exchange, no redirect followed, every response header line kept.

    ``address``, when given, is the IP address to connect to instead of resolving the host.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"'{url}' is not an http or https URL.")
    https = parts.scheme == "https"
    connection: http.client.HTTPConnection
    if address is not None:
        pinned = _PinnedHTTPSConnection if https else _PinnedHTTPConnection
        connection = pinned(parts.hostname, parts.port, address, timeout)
    elif https:
        connection = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout)
    else:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request(method, target, body=body, headers=dict(headers))
        response = connection.getresponse()
        content = response.read(MAX_BODY)
        raw = RawResponse(response.status, tuple(response.getheaders()), content)
    finally:
        connection.close()
    return Exchange(method, headers, raw, content)


def locate(url: str) -> AddressSpace | None:
    """The address space of the first address the URL's host resolves to, as the browser's
    connection would use it."""
    parts = urlsplit(url)
    if not parts.hostname:
        return None
    try:
        infos = socket.getaddrinfo(
            parts.hostname, parts.port or DEFAULT_PORTS.get(parts.scheme), proto=socket.IPPROTO_TCP
        )
    except OSError:
        return None
    return of_ip(str(infos[0][4][0])) if infos else None


def page_space_of(origin: str) -> tuple[AddressSpace, str | None]:
    """The page's address space as its origin shows it, with a note on how it was inferred."""
    host = urlsplit(origin).hostname or ""
    space = of_host(host)
    if space is not None:
        return space, None
    return AddressSpace.PUBLIC, (
        f"The page at {origin} is taken to be on a public address; pass --address-space "
        "private or local if it is served from a private network or this machine."
    )


def probe(
    request: CorsRequest,
    timeout: float = 10.0,
    *,
    redirects: bool = True,
    address_space: AddressSpace | None = None,
    rules: Rules = CHROMIUM_RULES,
) -> ProbeReport:
    """Send what the browser would send and judge each answer as the browser would.

    ``rules`` say where the engine sends other requests than Chromium (``EngineModel.rules``).
    """
    space, note = (address_space, None) if address_space else page_space_of(request.origin)
    trace = follow(
        request,
        lambda url, method, headers: (
            send(
                url, method, headers, timeout, body=None if method in BODYLESS else PAGE_BODY
            ).response
        ),
        redirects=redirects,
        page_space=space,
        locate=locate,
        rules=rules,
    )
    report = ProbeReport(trace, space, cause_of(trace, space))
    if note:
        report.notes.append(note)
    if not trace.followed:
        report.notes.append(
            "Single-hop check (--no-follow): the redirect was judged alone, not followed."
        )
    report.warnings.extend(_warnings(trace))
    return report


def _warnings(trace: Trace) -> list[str]:
    warnings: list[str] = []
    for hop in trace.hops:
        response = hop.response
        if hop.preflight:
            max_age = response.combined("Access-Control-Max-Age")
            if max_age is None:
                warnings.append(
                    f"No Access-Control-Max-Age at {hop.url}: browsers cache this answer for "
                    f"{MAX_AGE_MISSING} seconds."
                )
            elif max_age.isdigit() and int(max_age) > MAX_AGE_CHROMIUM_CAP:
                warnings.append(
                    f"Access-Control-Max-Age is {max_age}; Chromium caps it at "
                    f"{MAX_AGE_CHROMIUM_CAP}."
                )
            authorization = authorization_warning(trace.request, response)
            if authorization:
                warnings.append(authorization)
        elif cacheable_for_another_origin(response):
            warnings.append(
                "The response echoes the origin without 'Vary: Origin': a shared cache may "
                "serve it to another origin, which the browser then blocks."
            )
    return warnings
