"""Probe a live deployment as a browser would: the preflight, then the real request.

Works against any server (nothing of this project needs to run there) and through whatever sits
in front of it, because it judges the raw responses with the browser's own checks.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .engine.browser import (
    CorsRequest,
    RawResponse,
    check_actual,
    check_preflight,
)
from .engine.policy import MAX_AGE_BROWSER_CAP

MAX_BODY = 64 * 1024


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request sent and the raw response received."""

    method: str
    headers: tuple[tuple[str, str], ...]
    response: RawResponse
    body: bytes


@dataclass(slots=True)
class ProbeReport:
    """The verdict, the message Chromium would print, and what probably caused it."""

    request: CorsRequest
    preflight: Exchange | None = None
    actual: Exchange | None = None
    message: str | None = None
    causes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when the page would read the response."""
        return self.message is None


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
        connection.request(method, target, headers=dict(headers))
        response = connection.getresponse()
        body = response.read(MAX_BODY)
        raw = RawResponse(response.status, tuple(response.getheaders()))
    finally:
        connection.close()
    return Exchange(method, headers, raw, body)


def probe(request: CorsRequest, timeout: float = 10.0) -> ProbeReport:
    """Send what the browser would send and judge each answer as the browser would."""
    report = ProbeReport(request)
    origin = (("Origin", request.origin),)
    if request.needs_preflight:
        asked: tuple[tuple[str, str], ...] = (
            ("Access-Control-Request-Method", request.fetch_method),
        )
        if request.unsafe_header_names:
            asked += (("Access-Control-Request-Headers", ",".join(request.unsafe_header_names)),)
        report.preflight = send(request.url, "OPTIONS", origin + asked, timeout)
        report.message = check_preflight(request, report.preflight.response)
        report.warnings.extend(_preflight_warnings(request, report.preflight.response))
        if report.message is not None:
            report.message = request.blocked(report.message)
            report.causes.extend(_causes(report.preflight, report.message, preflight=True))
            return report
    report.actual = send(request.url, request.fetch_method, origin + request.headers, timeout)
    message = check_actual(request, report.actual.response)
    if message is not None:
        report.message = request.blocked(message)
        report.causes.extend(_causes(report.actual, message, preflight=False))
    if report.actual.response.combined("Access-Control-Allow-Origin") not in (None, "*"):
        vary = (report.actual.response.combined("Vary") or "").lower()
        if "origin" not in [v.strip() for v in vary.split(",")] and vary.strip() != "*":
            report.warnings.append(
                "The response echoes the origin without 'Vary: Origin': a shared cache may "
                "serve it to another origin, which the browser then blocks."
            )
    return report


def _causes(exchange: Exchange, message: str, *, preflight: bool) -> list[str]:
    """The likely cause behind a blocked call, from the raw response and the browser's words."""
    response = exchange.response
    status = response.status
    allow_origin = response.values("Access-Control-Allow-Origin")
    kind = "preflight" if preflight else "request"
    if len(allow_origin) > 1 or any("," in v for v in allow_origin):
        return [
            "Access-Control-Allow-Origin is sent twice: two layers add CORS headers (for "
            "example a proxy and the application). Let only one of them do it."
        ]
    if response.is_redirect:
        location = response.combined("Location")
        return [
            f"The {kind} was redirected to {location}: a trailing-slash, HTTPS, host or login "
            "redirect. Call the final URL directly, or answer preflights before redirecting."
        ]
    vary = (response.combined("Vary") or "").lower()
    if preflight and not allow_origin and "access-control-request-method" in vary:
        return [
            f"A CORS layer answered the preflight itself ({status}) and refused it: this origin, "
            "method or header is not allowed. With django-preflight, run `manage.py preflight "
            "explain` on the server, or read the audit of rejected preflights."
        ]
    if preflight and status in (401, 403):
        return [
            f"The preflight was answered {status}: an authentication or permission layer "
            "answered it instead of the CORS layer. Preflights never carry credentials, so they "
            "must be answered before authentication."
        ]
    if status in (404, 405) and not allow_origin:
        return [
            f"The {kind} was answered {status}: no route or view handles {exchange.method} "
            "here, and no CORS layer answered first."
        ]
    if status >= 500:
        return [f"The server failed with {status}; error responses need CORS headers too."]
    if not allow_origin:
        content_type = (response.combined("Content-Type") or "").lower()
        if "text/html" in content_type:
            return [
                f"An HTML page answered the {kind} with status {status} and no CORS headers: "
                "an error page or a single-page-app fallback, not the API."
            ]
        return [
            "No CORS header at all: the origin is not allowed, or no CORS layer covers this path."
        ]
    return [_header_cause(message, kind, status)]


def _header_cause(message: str, kind: str, status: int) -> str:
    if "HTTP ok status" in message:
        return f"The preflight carries CORS headers but status {status}: answer it with 204."
    if "wildcard '*'" in message:
        return (
            "'*' cannot be used with credentials: echo the page's origin and send "
            "Access-Control-Allow-Credentials: true."
        )
    if "Allow-Credentials" in message:
        return (
            f"The page sends credentials: the {kind}'s answer needs "
            "Access-Control-Allow-Credentials: true."
        )
    if "not equal to the supplied origin" in message:
        return (
            "Another origin is echoed: a hard-coded value, or a shared cache serving an answer "
            "meant for another origin (send Vary: Origin)."
        )
    if message.startswith("Method "):
        return "Add the method, exactly as the page writes it, to Access-Control-Allow-Methods."
    return "Add the header to Access-Control-Allow-Headers (with credentials, by name, not '*')."


def _preflight_warnings(request: CorsRequest, response: RawResponse) -> list[str]:
    warnings = []
    max_age = response.combined("Access-Control-Max-Age")
    if max_age is None:
        warnings.append("No Access-Control-Max-Age: browsers cache this answer for 5 seconds.")
    elif max_age.isdigit() and int(max_age) > MAX_AGE_BROWSER_CAP:
        warnings.append(
            f"Access-Control-Max-Age is {max_age}; Chromium caps it at {MAX_AGE_BROWSER_CAP}."
        )
    listed = response.combined("Access-Control-Allow-Headers") or ""
    allowed = {name.strip().lower() for name in listed.split(",")}
    asks_authorization = "authorization" in request.unsafe_header_names
    if asks_authorization and "*" in allowed and "authorization" not in allowed:
        warnings.append(
            "'*' in Access-Control-Allow-Headers does not cover authorization in the Fetch "
            "standard; some browsers block this call. List authorization by name."
        )
    return warnings
