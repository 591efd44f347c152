"""The relay's views: ``relay`` for WSGI, ``arelay`` for ASGI; one flow, two kinds of I/O.

A call is checked in this order, each failure answered with JSON naming the upstream:
unknown slug (404), method (405), path and headers (400), body size (413), injected headers
configured (500), authentication (401), rate limit (429 + Retry-After), target address (403).
Then the upstream is called: unreachable is a 502, a timeout a 504, a redirect off the
upstream or a declared body over the limit a 502. Otherwise the upstream's status and body are
streamed back; a body that grows past the limit or the deadline is cut by aborting the
connection, so the browser never takes a truncated body for a whole one.

CORS is not handled here: the relay's path is covered by a policy like any other path, and
``PreflightMiddleware`` answers its preflights and adds its headers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

import httpx
from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponseBase, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from .. import conf, netguard
from ..engine.decision import Outcome
from ..middleware import decide_request, is_same_origin, request_facts
from ..store import store
from . import access, ratelimit, stats
from .client import Outgoing, RedirectRefusedError, asend, send
from .headers import HeaderError, request_headers, response_headers
from .models import ErrorKind, Upstream
from .paths import BadPathError, Base, join, split_base

# Third-party content served from this site's origin must never run as this site's page.
SAFETY_HEADERS = (
    ("x-content-type-options", "nosniff"),
    ("content-security-policy", "sandbox; default-src 'none'"),
)


@dataclass
class RelayError(Exception):
    """A call answered by the relay itself."""

    status: int
    error: str
    cause: str
    kind: ErrorKind | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def response(self, slug: str) -> JsonResponse:
        """The JSON answer: what failed, for which upstream, and why."""
        answer = JsonResponse(
            {"error": self.error, "upstream": slug, "cause": self.cause}, status=self.status
        )
        for name, value in self.headers.items():
            answer[name] = value
        return answer


class BodyAbortedError(Exception):
    """A streamed body cut short; raised to the server so it drops the connection."""


class Prepared(NamedTuple):
    """Everything about a call that needs no network."""

    base: Base
    method: str
    path_and_query: str
    headers: dict[str, str]
    body: bytes


def _check_caller(request: HttpRequest) -> None:
    """Refuse a browser call the relay's CORS policy does not allow, before any upstream call.

    The middleware only withholds the CORS headers from a refused origin's simple request, so
    the page cannot read the answer; the relay must also not make the call, which would spend
    the upstream's quota with the injected key. A cross-site request without Origin (an image,
    a script, a link followed) is not a relay call at all.
    """
    origin = request.META.get("HTTP_ORIGIN")
    if origin is None:
        if request.META.get("HTTP_SEC_FETCH_SITE") in ("cross-site", "same-site"):
            raise RelayError(403, "not_a_cors_request", "call the relay with fetch() or XHR")
        return
    if is_same_origin(request, origin):
        return
    # The middleware refreshed the snapshot for this request already.
    snapshot = store.loaded()
    if snapshot is None:
        raise RelayError(503, "policies_unavailable", "CORS policies are not loaded yet; retry")
    # Decided as the middleware decides it: a policy the relay's view names comes first.
    decision = decide_request(snapshot, request_facts(request), conf.get().MAX_REQUESTED_HEADERS)
    if decision.outcome is not Outcome.ACTUAL_ALLOWED:
        raise RelayError(
            403,
            "origin_refused",
            f"this path's CORS policies refuse the call: {decision.reason.value}",
        )


def _lookup(slug: str) -> Upstream:
    try:
        return Upstream.objects.get(slug=slug, enabled=True)
    except Upstream.DoesNotExist:
        raise RelayError(404, "unknown_upstream", "no enabled upstream has this slug") from None


def _prepare(request: HttpRequest, upstream: Upstream, rest: str) -> Prepared:
    method = request.method or ""
    if method not in upstream.allowed_methods:
        allow = ", ".join(upstream.allowed_methods)
        raise RelayError(405, "method_not_allowed", f"allowed: {allow}", headers={"Allow": allow})
    base = split_base(upstream.base_url)
    try:
        path_and_query = join(base, rest, request.META.get("QUERY_STRING", ""))
    except BadPathError as exc:
        raise RelayError(400, "bad_path", str(exc)) from None
    limit = upstream.max_request_bytes
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise RelayError(400, "bad_request", "invalid Content-Length") from None
    if declared > limit:
        raise RelayError(413, "request_too_large", f"the body is over {limit} bytes")
    body = request.read(limit + 1)
    if len(body) > limit:
        raise RelayError(413, "request_too_large", f"the body is over {limit} bytes")
    try:
        headers = request_headers(
            request.META, upstream.allowed_request_headers, upstream.injections()
        )
    except HeaderError as exc:
        raise RelayError(400, "bad_header", str(exc)) from None
    except LookupError as exc:
        # The name of the missing variable goes to the counters, not to the browser.
        raise RelayError(
            500, "relay_misconfigured", "an injected header has no value", ErrorKind.MISCONFIGURED
        ) from exc
    return Prepared(base, method, path_and_query, headers, body)


def _authenticate(upstream: Upstream, request: HttpRequest) -> list[str]:
    """The rate-limit keys of the caller; a RelayError when authentication is required."""
    user = access.user_id(request)
    if upstream.require_authentication and user is None:
        raise RelayError(401, "authentication_required", "log in to use this upstream")
    return ratelimit.caller_keys(request, user)


def _rate_limited(wait: int | None) -> None:
    if wait is not None:
        raise RelayError(
            429,
            "rate_limited",
            f"too many calls; retry in {wait} s",
            ErrorKind.RATE_LIMITED,
            {"Retry-After": str(wait)},
        )


def _network_failure(exc: BaseException) -> RelayError | None:
    """The answer for an exception raised while calling the upstream, None if not one."""
    if isinstance(exc, netguard.RefusedTargetError):
        return RelayError(403, "refused_target", exc.reason, ErrorKind.REFUSED_TARGET)
    if isinstance(exc, RedirectRefusedError):
        return RelayError(502, "redirect_refused", str(exc), ErrorKind.REDIRECT_REFUSED)
    if isinstance(exc, httpx.TimeoutException | asyncio.TimeoutError):
        cause = "no answer within the timeout"
        return RelayError(504, "upstream_timeout", cause, ErrorKind.TIMEOUT)
    if isinstance(exc, httpx.HTTPError):
        cause = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return RelayError(502, "upstream_unreachable", cause, ErrorKind.UNREACHABLE)
    return None


def _declared_too_large(upstream: Upstream, response: httpx.Response) -> RelayError | None:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > upstream.max_response_bytes:
        return RelayError(
            502,
            "response_too_large",
            f"the upstream's answer is {declared} bytes, over {upstream.max_response_bytes}",
            ErrorKind.TOO_LARGE,
        )
    return None


class Meter:
    """Counts a streamed body against the size limit and the deadline."""

    def __init__(self, upstream: Upstream, status: int, deadline: float) -> None:
        self.upstream_id = upstream.pk
        self.limit = upstream.max_response_bytes
        self.deadline = deadline
        self.outcome = ErrorKind.UPSTREAM_ERROR if status >= 500 else None
        self.sent = 0

    def check(self, chunk: bytes) -> None:
        """Raise BodyAbortedError (counted) when the body has gone too far or too long."""
        self.sent += len(chunk)
        if self.sent > self.limit:
            self.abort(ErrorKind.TOO_LARGE, f"the body grew past {self.limit} bytes")
        if time.monotonic() > self.deadline:
            self.abort(ErrorKind.TIMEOUT, "the body did not arrive within the timeout")

    def abort(self, kind: ErrorKind, cause: str) -> None:
        """Count the failure (written with the next call's counters) and cut the response."""
        stats.counters.record(self.upstream_id, kind, cause)
        raise BodyAbortedError(cause)

    def failed(self, exc: httpx.HTTPError) -> BodyAbortedError:
        """A transport error mid-body: counted, then the connection is cut."""
        failure = _network_failure(exc)
        assert failure is not None
        assert failure.kind is not None
        stats.counters.record(self.upstream_id, failure.kind, failure.cause)
        return BodyAbortedError(failure.cause)


def _streaming(
    upstream: Upstream, response: httpx.Response, body: Iterator[bytes] | AsyncIterator[bytes]
) -> StreamingHttpResponse:
    answer = StreamingHttpResponse(body, status=response.status_code)
    del answer["Content-Type"]
    for name, value in response_headers(
        response.headers.multi_items(), upstream.allowed_response_headers
    ):
        answer[name] = value
    for name, value in SAFETY_HEADERS:
        answer[name] = value
    return answer


def _sync_body(response: httpx.Response, meter: Meter) -> Iterator[bytes]:
    try:
        for chunk in response.iter_raw():
            meter.check(chunk)
            yield chunk
    except httpx.HTTPError as exc:
        raise meter.failed(exc) from exc
    finally:
        response.close()
    stats.record(meter.upstream_id, meter.outcome, f"status {response.status_code}")


@csrf_exempt
def relay(request: HttpRequest, slug: str, rest: str = "") -> HttpResponseBase:
    """Forward one call to a registered upstream (WSGI)."""
    upstream: Upstream | None = None
    try:
        _check_caller(request)
        upstream = _lookup(slug)
        prepared = _prepare(request, upstream, rest)
        _rate_limited(
            ratelimit.hit(upstream.pk, upstream.rate_limit, _authenticate(upstream, request))
        )
        deadline = time.monotonic() + upstream.timeout
        target = netguard.check_host(
            prepared.base.host, prepared.base.port, allow_private=upstream.allow_private_targets
        )
        response = send(
            Outgoing(target=target, timeout=upstream.timeout, **prepared._asdict()), deadline
        )
        too_large = _declared_too_large(upstream, response)
        if too_large is not None:
            response.close()
            raise too_large
    except Exception as exc:
        answer = _failed(exc, upstream, slug)
        if stats.counters.due():
            stats.counters.write()
        return answer
    meter = Meter(upstream, response.status_code, deadline)
    return _streaming(upstream, response, _sync_body(response, meter))


def _failed(exc: Exception, upstream: Upstream | None, slug: str) -> JsonResponse:
    failure = exc if isinstance(exc, RelayError) else _network_failure(exc)
    if failure is None:
        raise exc
    if upstream is not None and failure.kind is not None:
        # A configuration error's cause names the missing variable: for the admin only.
        cause = exc.__cause__ if isinstance(exc, RelayError) and exc.__cause__ else failure.cause
        stats.counters.record(upstream.pk, failure.kind, str(cause))
    return failure.response(slug)


async def _async_body(response: httpx.Response, meter: Meter) -> AsyncIterator[bytes]:
    chunks = response.aiter_raw()
    try:
        while True:
            remaining = max(0.0, meter.deadline - time.monotonic())
            try:
                chunk = await asyncio.wait_for(chunks.__anext__(), remaining)
            except StopAsyncIteration:
                break
            except asyncio.TimeoutError:
                meter.abort(ErrorKind.TIMEOUT, "the body did not arrive within the timeout")
            meter.check(chunk)
            yield chunk
    except httpx.HTTPError as exc:
        raise meter.failed(exc) from exc
    finally:
        await response.aclose()
    await stats.arecord(meter.upstream_id, meter.outcome, f"status {response.status_code}")


@csrf_exempt
async def arelay(request: HttpRequest, slug: str, rest: str = "") -> HttpResponseBase:
    """Forward one call to a registered upstream (ASGI): no step blocks the event loop."""
    upstream: Upstream | None = None
    try:
        _check_caller(request)
        upstream = await sync_to_async(_lookup)(slug)
        prepared = _prepare(request, upstream, rest)
        keys = await sync_to_async(_authenticate)(upstream, request)
        _rate_limited(await ratelimit.ahit(upstream.pk, upstream.rate_limit, keys))
        deadline = time.monotonic() + upstream.timeout
        target = await netguard.acheck_host(
            prepared.base.host, prepared.base.port, allow_private=upstream.allow_private_targets
        )
        outgoing = Outgoing(target=target, timeout=upstream.timeout, **prepared._asdict())
        remaining = max(0.0, deadline - time.monotonic())
        response = await asyncio.wait_for(asend(outgoing), remaining)
        too_large = _declared_too_large(upstream, response)
        if too_large is not None:
            await response.aclose()
            raise too_large
    except Exception as exc:
        answer = _failed(exc, upstream, slug)
        if stats.counters.due():
            await sync_to_async(stats.counters.write)()
        return answer
    meter = Meter(upstream, response.status_code, deadline)
    return _streaming(upstream, response, _async_body(response, meter))
