"""The likely cause of a blocked call to any server, chosen from the structured trace: which
check failed, on which response, at which hop; never from the console text."""

from __future__ import annotations

from urllib.parse import urljoin

from .address_space import AddressSpace
from .advice import Advice, Cause, advise
from .browser import Check, RawResponse, Stage
from .fetch import Hop, Trace

_ORIGIN_CHECKS = frozenset({Check.ALLOW_ORIGIN_MISSING, Check.ALLOW_ORIGIN_MISMATCH})
_BY_CHECK = {
    Check.PREFLIGHT_REDIRECT: Cause.PREFLIGHT_REDIRECTED,
    Check.ALLOW_ORIGIN_MULTIPLE: Cause.ORIGIN_TWICE,
    Check.ALLOW_ORIGIN_WILDCARD: Cause.WILDCARD_WITH_CREDENTIALS,
    Check.ALLOW_ORIGIN_MISMATCH: Cause.ORIGIN_MISMATCH,
    Check.PREFLIGHT_STATUS: Cause.PREFLIGHT_STATUS,
    Check.ALLOW_CREDENTIALS: Cause.CREDENTIALS_NOT_TRUE,
    Check.METHODS_UNPARSEABLE: Cause.METHODS_UNPARSEABLE,
    Check.HEADERS_UNPARSEABLE: Cause.HEADERS_UNPARSEABLE,
    Check.TOO_MANY_REDIRECTS: Cause.TOO_MANY_REDIRECTS,
}


def cause_of(trace: Trace, page_space: AddressSpace | None = None) -> Advice | None:
    """One cause and one fix for a blocked trace; None when it passed."""
    failure = trace.failure
    if failure is None:
        return None
    hop = trace.last
    params = {
        "origin": trace.request.origin,
        "url": trace.url,
        "value": failure.value,
        "kind": "preflight" if failure.stage is Stage.PREFLIGHT else "response",
        "status": str(hop.response.status) if hop is not None else "",
        "location": _location(hop),
        "page": page_space.chromium_name if page_space is not None else "",
        "target": failure.value,
    }
    if failure.check is Check.ADDRESS_SPACE:
        # Nothing was sent to this URL: the last hop, if any, is the redirect that led here.
        return advise(Cause.ADDRESS_SPACE.value, **params)
    if failure.check is Check.METHOD_NOT_ALLOWED:
        return _method(trace, failure.value, params)
    if failure.check is Check.HEADER_NOT_ALLOWED:
        return _header(trace, failure.value, params)
    redirect_refused = (
        failure.check is not Check.TOO_MANY_REDIRECTS and failure.stage is Stage.ACTUAL
    )
    if hop is not None and redirect_refused and hop.response.is_redirect:
        return advise(Cause.REDIRECT_RESPONSE.value, **params)
    if hop is not None and hop.origin == "null" and failure.check in _ORIGIN_CHECKS:
        return advise(Cause.NULL_ORIGIN_AFTER_REDIRECT.value, **params)
    if failure.check is Check.ALLOW_ORIGIN_MISSING and hop is not None:
        return advise(_missing_origin(trace, hop).value, **params)
    return advise(_BY_CHECK[failure.check].value, **params)


def _location(hop: Hop | None) -> str:
    if hop is None or not hop.response.values("Location"):
        return ""
    return urljoin(hop.url, hop.response.values("Location")[0])


def _allowed_list(trace: Trace, name: str) -> str:
    assert trace.last is not None
    return trace.last.response.combined(name) or ""


def _method(trace: Trace, method: str, params: dict[str, str]) -> Advice:
    params = {**params, "method": method, "upper": method.upper()}
    params["value"] = _allowed_list(trace, "Access-Control-Allow-Methods")
    listed = [item.strip() for item in params["value"].split(",")]
    if method != method.upper():
        return advise(Cause.METHOD_CASE.value, **params)
    if "*" in listed and trace.request.credentials:
        return advise(Cause.METHOD_WILDCARD_WITH_CREDENTIALS.value, **params)
    return advise(Cause.METHOD_NOT_LISTED.value, **params)


def _header(trace: Trace, header: str, params: dict[str, str]) -> Advice:
    params = {**params, "header": header}
    params["value"] = _allowed_list(trace, "Access-Control-Allow-Headers")
    listed = [item.strip() for item in params["value"].split(",")]
    if "*" in listed and trace.request.credentials:
        return advise(Cause.HEADER_WILDCARD_WITH_CREDENTIALS.value, **params)
    return advise(Cause.HEADER_NOT_LISTED.value, **params)


def answered_by_authentication(response: RawResponse) -> bool:
    """A 401 or 403 preflight answer without CORS headers, from something other than a CORS
    layer: a layer that refuses varies on the Origin or the preflight's method; authentication
    looks at neither."""
    return (
        response.status in (401, 403)
        and not response.values("Access-Control-Allow-Origin")
        and not _varies_on_origin(response)
    )


def _varies_on_origin(response: RawResponse) -> bool:
    vary = (response.combined("Vary") or "").lower()
    return any(
        item.strip() in ("origin", "access-control-request-method") for item in vary.split(",")
    )


def _missing_origin(trace: Trace, hop: Hop) -> Cause:
    """No Allow-Origin: tell a refusing CORS layer from a missing one, and the layer from
    whatever answered instead of it."""
    response = hop.response
    status = response.status
    if status >= 500:
        return Cause.SERVER_ERROR
    if hop.preflight:
        if answered_by_authentication(response):
            return Cause.PREFLIGHT_AUTH
        if status in (404, 405):
            return Cause.PREFLIGHT_NO_ROUTE
        if response.values("Access-Control-Allow-Methods") or response.values(
            "Access-Control-Allow-Headers"
        ):
            return Cause.GRANTS_WITHOUT_ORIGIN
    preflight_passed = any(h.preflight and h.url == hop.url for h in trace.hops[:-1])
    if preflight_passed:
        return Cause.ERROR_WITHOUT_CORS if status >= 400 else Cause.REQUEST_WITHOUT_CORS
    if hop.url != trace.request.url:
        return Cause.REDIRECT_TARGET_WITHOUT_CORS
    if _varies_on_origin(response):
        return Cause.CORS_LAYER_REFUSED
    content_type = (response.combined("Content-Type") or "").lower()
    if "text/html" in content_type and response.body:
        return Cause.HTML_PAGE
    return Cause.NO_CORS_LAYER if hop.preflight else Cause.SIMPLE_WITHOUT_CORS
