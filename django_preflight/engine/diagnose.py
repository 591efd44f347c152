"""Explain one cross-origin call against a snapshot: our answer, then the browser's verdict.

The engine's decision says what the server answers; running the browser's own checks on that
answer says what the developer will see, including what the server cannot know (the page's
credentials mode).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from . import explain
from .browser import CorsRequest, RawResponse, check_actual, check_preflight
from .decision import Decision, Outcome, Reason, RequestFacts, decide
from .origins import parse_request_origin
from .policy import OriginKind, PolicySet


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """What happens to one call, step by step, and what to change."""

    request: CorsRequest
    preflight: Decision | None
    actual: Decision | None
    browser_message: str | None
    covered_by: str
    matched_by: str
    fix: str

    @property
    def allowed(self) -> bool:
        """True when the page can read the response."""
        return self.browser_message is None


def diagnose(policies: PolicySet, request: CorsRequest, refused_status: int = 403) -> Diagnosis:
    """Decide the preflight (if the call needs one) and the real request, then judge both."""
    # The middleware matches Django's path_info, which is percent-decoded.
    path = unquote(urlsplit(request.url).path) or "/"
    tier = policies.tier_for(path)
    covered_by = (
        "no enabled policy covers this path"
        if tier is None
        else f"path prefix '{tier.base or '/'}' (the longest covering prefix) with policies "
        + ", ".join(f"'{p.name}'" for p in tier.policies)
    )
    matched = tier.origins.match(request.origin) if tier is not None else None
    matched_by = (
        "no origin entry matches"
        if matched is None
        else _matched_by(policies, path, request.origin, matched[1])
    )
    preflight: Decision | None = None
    if request.needs_preflight:
        facts = RequestFacts(
            "OPTIONS",
            path,
            request.origin,
            request.fetch_method,
            ",".join(request.unsafe_header_names) or None,
        )
        preflight = decide(policies, facts)
        message = check_preflight(request, _response(preflight, refused_status))
        if message is not None:
            return Diagnosis(
                request,
                preflight,
                None,
                request.blocked(message),
                covered_by,
                matched_by,
                _fix(preflight, request),
            )
    actual = decide(policies, RequestFacts(request.fetch_method, path, request.origin))
    message = check_actual(request, _response(actual, 200))
    blocked = None if message is None else request.blocked(message)
    fix = "" if blocked is None else _fix(actual, request)
    return Diagnosis(request, preflight, actual, blocked, covered_by, matched_by, fix)


def _matched_by(policies: PolicySet, path: str, origin: str, allow_origin: str) -> str:
    tier = policies.tier_for(path)
    assert tier is not None
    if origin in tier.origins.exact:
        kind = OriginKind.EXACT
    elif allow_origin == "*":
        kind = OriginKind.ANY
    elif origin == "null":
        kind = OriginKind.NULL
    else:
        parsed = parse_request_origin(origin)
        host = parsed.host if parsed is not None else ""
        parents = {host[i + 1 :] for i, ch in enumerate(host) if ch == "."}
        in_wildcard = parsed is not None and any(
            (parsed.scheme, parsed.port, parent) in tier.origins.subdomains for parent in parents
        )
        kind = OriginKind.SUBDOMAIN if in_wildcard else OriginKind.REGEX
    return f"{kind.value} entry (precedence: exact, subdomain, regex, null, any)"


def _response(decision: Decision, refused_status: int) -> RawResponse:
    if decision.outcome is Outcome.PREFLIGHT_ALLOWED:
        return RawResponse(204, decision.headers)
    if decision.outcome is Outcome.PREFLIGHT_REFUSED:
        return RawResponse(refused_status)
    return RawResponse(200, decision.headers)


def _fix(decision: Decision, request: CorsRequest) -> str:
    name = f"policy '{decision.policy.name}'" if decision.policy is not None else "a policy"
    if decision.outcome in (Outcome.PREFLIGHT_REFUSED, Outcome.ACTUAL_REFUSED):
        if decision.reason is Reason.ORIGIN_NOT_ALLOWED:
            return f"Add the origin {request.origin} to {name}."
        policy = decision.policy
        method = decision.detail
        if (
            decision.reason is Reason.METHOD_NOT_ALLOWED
            and policy
            and method.upper() in policy.methods
        ):
            return (
                f"The page sends '{method}', which fetch() does not upper-case: write "
                f"'{method.upper()}' in the page ({name} allows {method.upper()})."
            )
        return f"{explain.fix(decision.reason, decision.detail)} ({name})"
    policy = decision.policy
    if request.credentials and policy is not None and not policy.allow_credentials:
        if dict(decision.headers).get("Access-Control-Allow-Origin") == "*":
            return (
                f"{name} allows any origin, which can never be credentialed: add "
                f"{request.origin} as an exact origin to a policy that allows credentials, "
                "or call fetch() with credentials 'omit'."
            )
        return f"Tick 'allow credentials' on {name}, or call fetch() with credentials 'omit'."
    return "Compare the response headers above with the browser's message."
