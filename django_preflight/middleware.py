"""PreflightMiddleware: reads the request's CORS facts, asks the engine, writes the response.

Put it first in ``MIDDLEWARE``: a preflight is answered here, so sessions, authentication,
CSRF, redirects and views never see one.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import cast

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import patch_vary_headers

from . import conf, metrics, routing
from .engine.decision import (
    ACTUAL_VARY,
    PREFLIGHT_VARY,
    SAFE_METHODS,
    Decision,
    Outcome,
    Reason,
    RequestFacts,
    decide,
)
from .engine.policy import PolicySet
from .reporting import report_refusal
from .responses import ready_response
from .store import store

SyncGetResponse = Callable[[HttpRequest], HttpResponseBase]
AsyncGetResponse = Callable[[HttpRequest], Awaitable[HttpResponseBase]]


def request_facts(request: HttpRequest) -> RequestFacts:
    """The CORS-relevant facts of a Django request; the path is ``path_info``, as URLs route.

    Built with ``_make`` from the fields in order: less than half the cost of a call by keywords,
    on every request.
    """
    meta = request.META
    return RequestFacts._make(
        (
            request.method or "",
            request.path_info,
            meta.get("HTTP_ORIGIN"),
            meta.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD"),
            meta.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS"),
            meta.get("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK", "").lower() == "true",
        )
    )


class PreflightMiddleware:
    """Answers CORS preflights itself and adds CORS headers to real cross-origin responses."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: SyncGetResponse | AsyncGetResponse) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.is_async:
            return self.__acall__(request)
        policies = store.current()
        if policies is None:
            blocked = unavailable(request, request_facts(request))
            if blocked is not None:
                return blocked
            return cast(HttpResponseBase, self.get_response(request))
        answered, decision = self._handle(request, policies)
        if answered is not None:
            return answered
        response = cast(HttpResponseBase, self.get_response(request))
        return add_cors_headers(response, decision)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        if store.refresh_due():
            await store.arefresh()
        policies = store.loaded()
        if policies is None:
            blocked = unavailable(request, request_facts(request))
            if blocked is not None:
                return blocked
            return await cast(Awaitable[HttpResponseBase], self.get_response(request))
        answered, decision = self._handle(request, policies)
        if answered is not None:
            return answered
        response = await cast(Awaitable[HttpResponseBase], self.get_response(request))
        return add_cors_headers(response, decision)

    @staticmethod
    def _handle(
        request: HttpRequest, policies: PolicySet
    ) -> tuple[HttpResponseBase | None, Decision]:
        """Decide; answer here (a preflight, an enforced refusal) or return None for the view."""
        facts = request_facts(request)
        settings = conf.get()
        decision = decide_request(policies, facts, settings.MAX_REQUESTED_HEADERS)
        if facts.is_preflight:
            return answer_preflight(policies, decision, facts, request, settings), decision
        return check_actual(decision, facts, request), decision


def answer_preflight(
    policies: PolicySet,
    decision: Decision,
    facts: RequestFacts,
    request: HttpRequest,
    settings: conf.PreflightSettings,
) -> HttpResponse:
    """The preflight's answer, from the decision's ready header block; refusals are reported."""
    if decision.outcome is Outcome.PREFLIGHT_ALLOWED:
        response = ready_response(204, decision.answer)
    else:
        response = _refusal(decision, settings)
        report_refusal(decision, facts, request)
    if settings.METRICS:
        metrics.count_preflight(decision)
    if policies.report_only is not None:
        shadow = decide_request(policies.report_only, facts, settings.MAX_REQUESTED_HEADERS)
        if shadow.refused and shadow.reason is not Reason.NO_POLICY:
            report_refusal(shadow, facts, request, report_only=True)
    return response


def _refusal(decision: Decision, settings: conf.PreflightSettings) -> HttpResponse:
    if settings.SHAPE_REFUSALS and decision.shaped_headers:
        response = ready_response(204, decision.answer)
        for name, value in decision.shaped_headers:
            response.headers[name] = value
        return response
    response = ready_response(settings.REFUSED_STATUS, decision.answer)
    if settings.REASON_HEADER:
        response.headers[settings.REASON_HEADER] = decision.reason.value
    return response


def decide_request(
    policies: PolicySet, facts: RequestFacts, max_requested_headers: int
) -> Decision:
    """Decide with the policy the request's view names, if it names one, else by path."""
    view = routing.view_policy(facts.path) if policies.views else None
    return decide(policies, facts, max_requested_headers, view)


def check_actual(
    decision: Decision, facts: RequestFacts, request: HttpRequest
) -> HttpResponse | None:
    """The 403 for a cross-origin write the policies enforce against; counts the request.

    Same-origin requests (browsers send Origin on those writes too) are neither counted nor
    refused; telling them apart costs a host lookup, done only when something depends on it.
    """
    if decision.outcome is Outcome.ACTUAL_ALLOWED:
        metrics.count_request(decision, "allowed")
        return None
    if decision.reason is not Reason.ORIGIN_NOT_ALLOWED or not (
        decision.enforce or metrics.enabled()
    ):
        return None
    if is_same_origin(request, facts.origin):
        return None
    if decision.enforce:
        metrics.count_request(decision, "blocked")
        return forbidden(decision, facts, request)
    metrics.count_request(decision, "not_allowed")
    return None


def is_same_origin(request: HttpRequest, origin: str | None) -> bool:
    """Browsers send Origin on same-origin writes too; those are never CORS refusals."""
    try:
        return origin == f"{request.scheme}://{request.get_host()}"
    except DisallowedHost:
        return False


def forbidden(decision: Decision, facts: RequestFacts, request: HttpRequest) -> HttpResponse:
    """Refuse a cross-origin write from an origin no policy allows, before the view runs.

    Recorded in the audit under its own reason: the browser only sends it on a preflight answer
    cached before the origin lost access, so the operator sees the revocation at work.
    """
    report_refusal(replace(decision, reason=Reason.REFUSED_ON_SERVER), facts, request)
    response = HttpResponse(
        "Cross-origin request refused: this origin is not allowed on this path.",
        status=403,
        content_type="text/plain; charset=utf-8",
    )
    patch_vary_headers(response, decision.vary)
    return response


def unavailable(request: HttpRequest, facts: RequestFacts) -> HttpResponse | None:
    """The answer while no snapshot could be loaded (no database, nothing published in cache).

    Preflights and cross-origin writes get 503 with Retry-After: nobody can say whether they
    are allowed, so neither a grant nor a refusal, and nothing is audited as a refusal. Other
    requests (no Origin, same-origin, cross-origin reads) go on without CORS headers.
    """
    unsafe_write = (
        facts.origin is not None
        and facts.method not in SAFE_METHODS
        and not is_same_origin(request, facts.origin)
    )
    if not (facts.is_preflight or unsafe_write):
        return None
    response = HttpResponse(
        "CORS policies are not loaded yet; retry shortly.",
        status=503,
        content_type="text/plain; charset=utf-8",
    )
    response.headers["Retry-After"] = str(max(1, math.ceil(conf.get().REFRESH_INTERVAL)))
    patch_vary_headers(response, PREFLIGHT_VARY if facts.is_preflight else ACTUAL_VARY)
    return response


def add_cors_headers(response: HttpResponseBase, decision: Decision) -> HttpResponseBase:
    """Grant headers for an allowed origin, and ``Vary`` on every covered path.

    A response that already carries Access-Control-Allow-Origin was answered by something
    that took charge of CORS itself (a view or a decorator): it wins, and no CORS header is
    added to it, so a header never appears twice or in a mix of two policies.
    """
    if decision.outcome is Outcome.ACTUAL_ALLOWED and (
        "Access-Control-Allow-Origin" not in response.headers
    ):
        for name, value in decision.headers:
            response.headers[name] = value
    if decision.vary:
        patch_vary_headers(response, decision.vary)
    return response
