"""One cross-origin fetch() followed hop by hop, as Chromium 156 runs it.

Pure: the caller supplies how to send one request (``Sender``) and where a URL's host lives
(``Locator``). Each hop may need its own preflight (a preflight is cached per URL, so a
redirected non-simple request preflights again at its new URL), every response is checked,
redirects are followed up to 20 times, a 303 (and a 301/302 of a POST) turns into a GET without
its body, and after a hop to another origin the request's origin is the opaque ``null``.
``Rules`` say where another engine sends other requests (Firefox, WebKit: ``EngineModel.rules``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from urllib.parse import urljoin, urlsplit

from .address_space import AddressSpace, blocked_space
from .browser import (
    Check,
    CorsRequest,
    Failure,
    RawResponse,
    Stage,
    check_actual,
    check_preflight,
    console_line,
)
from .limits import MAX_REDIRECTS
from .origins import DEFAULT_PORTS

Headers = tuple[tuple[str, str], ...]
Sender = Callable[[str, str, Headers], RawResponse]
Locator = Callable[[str], AddressSpace | None]
# Headers that describe a body: dropped with it when a redirect turns the request into a GET.
BODY_HEADERS = frozenset(
    {"content-encoding", "content-language", "content-location", "content-type"}
)


@dataclass(frozen=True, slots=True)
class Rules:
    """Where an engine sends other requests than Chromium: what a probe must send for it."""

    # Forbidden header names the engine sends (and preflights) when the page sets them.
    sent_anyway: frozenset[str] = frozenset()
    # After a redirect turns a preflighted request into a GET, the target's preflight still
    # asks for the original header names.
    asks_again_after_get: bool = False


CHROMIUM_RULES = Rules()


@dataclass(frozen=True, slots=True)
class Hop:
    """One request sent (a preflight or the request itself) and the answer received."""

    url: str
    method: str
    origin: str
    preflight: bool
    headers: Headers
    response: RawResponse


@dataclass(frozen=True, slots=True)
class Trace:
    """Every hop of one fetch() and the check that failed, if any."""

    request: CorsRequest
    hops: tuple[Hop, ...]
    failure: Failure | None
    url: str
    followed: bool = True

    @property
    def passed(self) -> bool:
        """True when the page reads the final response."""
        return self.failure is None

    @property
    def last(self) -> Hop | None:
        """The last exchange made."""
        return self.hops[-1] if self.hops else None

    @property
    def message(self) -> str | None:
        """Chromium's console line, or None when the call passes."""
        if self.failure is None:
            return None
        return console_line(self.request.origin, self.url, self.request.url, self.failure)


def _origin_of(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port, the default port spelled out: what makes two URLs one origin."""
    parts = urlsplit(url)
    port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    return parts.scheme, (parts.hostname or ""), port


def next_method(status: int, method: str) -> str:
    """The method after a redirect, as the Fetch standard has it: 303 turns anything but GET
    and HEAD into GET, 301 and 302 turn POST into GET; the body and BODY_HEADERS go with it."""
    if (status == 303 and method not in ("GET", "HEAD")) or (
        status in (301, 302) and method == "POST"
    ):
        return "GET"
    return method


def follow(
    request: CorsRequest,
    send: Sender,
    *,
    redirects: bool = True,
    page_space: AddressSpace | None = None,
    locate: Locator | None = None,
    rules: Rules = CHROMIUM_RULES,
) -> Trace:
    """Run the fetch: preflight where needed, the request, each redirect; stop at a failure.

    With ``redirects`` off, a redirect answer is judged alone (its own CORS headers) and ends
    the trace, as a single-hop check. ``rules`` are the engine's departures from Chromium.
    """
    hops: list[Hop] = []
    sent = replace(request, sent_anyway=rules.sent_anyway).sent_headers
    current = CorsRequest(
        request.url,
        request.origin,
        request.fetch_method,
        sent,
        request.credentials,
        sent_anyway=rules.sent_anyway,
    )
    origin = request.origin

    def done(failure: Failure | None, *, followed: bool = True) -> Trace:
        return Trace(request, tuple(hops), failure, current.url, followed)

    for count in range(MAX_REDIRECTS + 1):
        stage = Stage.PREFLIGHT if current.needs_preflight else Stage.ACTUAL
        target = locate(current.url) if locate is not None and page_space is not None else None
        if target is not None and page_space is not None:
            space = blocked_space(page_space, target)
            if space is not None:
                return done(Failure(Check.ADDRESS_SPACE, stage, space.chromium_name))
        sent_origin = (("Origin", origin),)
        if current.needs_preflight:
            asked: Headers = (("Access-Control-Request-Method", current.fetch_method),)
            if current.unsafe_header_names:
                names = ",".join(current.unsafe_header_names)
                asked += (("Access-Control-Request-Headers", names),)
            response = send(current.url, "OPTIONS", sent_origin + asked)
            hops.append(Hop(current.url, "OPTIONS", origin, True, sent_origin + asked, response))
            failure = check_preflight(current, response, origin)
            if failure is not None:
                return done(failure)
        headers = sent_origin + current.headers
        response = send(current.url, current.fetch_method, headers)
        hops.append(Hop(current.url, current.fetch_method, origin, False, headers, response))
        failure = check_actual(current, response, origin)
        if failure is not None or not response.is_redirect:
            return done(failure)
        if not redirects:
            return done(None, followed=False)
        if count == MAX_REDIRECTS:
            break
        location = urljoin(current.url, response.values("Location")[0])
        if _origin_of(location) != _origin_of(current.url):
            origin = "null"
        method = next_method(response.status, current.fetch_method)
        headers_next = current.headers
        still_asked: tuple[str, ...] = ()
        if method != current.fetch_method:
            headers_next = tuple((n, v) for n, v in headers_next if n.lower() not in BODY_HEADERS)
            if rules.asks_again_after_get and current.needs_preflight:
                still_asked = current.unsafe_header_names
        current = CorsRequest(
            location,
            request.origin,
            method,
            headers_next,
            request.credentials,
            sent_anyway=rules.sent_anyway,
            still_asked=still_asked,
        )
    return done(Failure(Check.TOO_MANY_REDIRECTS, Stage.ACTUAL))
