"""Explain one cross-origin call against a snapshot: our answer, then the browser's verdict.

The engine's decision says what the server answers; running the browser's own checks on that
answer says what the developer will see, including what the server cannot know (the page's
credentials mode).
"""

from __future__ import annotations

from dataclasses import dataclass

from .advice import Advice, Cause, advise, refusal
from .browser import CorsRequest, Failure, RawResponse, check_actual, check_preflight
from .decision import Decision, Outcome, Reason, RequestFacts, decide
from .paths import request_path
from .policy import PolicySet


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """What happens to one call, step by step, and what to change."""

    request: CorsRequest
    preflight: Decision | None
    actual: Decision | None
    browser_message: str | None
    covered_by: str
    matched_by: str
    advice: Advice | None
    failure: Failure | None = None

    @property
    def cause(self) -> str:
        """Why it is blocked, or an empty string."""
        return self.advice.cause if self.advice else ""

    @property
    def fix(self) -> str:
        """What to change, or an empty string."""
        return self.advice.fix if self.advice else ""

    @property
    def allowed(self) -> bool:
        """True when the page can read the response."""
        return self.browser_message is None


def diagnose(policies: PolicySet, request: CorsRequest, refused_status: int = 403) -> Diagnosis:
    """Decide the preflight (if the call needs one) and the real request, then judge both."""
    path = request_path(request.url)
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
        else f"{matched.kind.value} entry (precedence: exact, subdomain, regex, null, any)"
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
        failure = check_preflight(request, _response(preflight, refused_status))
        if failure is not None:
            return Diagnosis(
                request,
                preflight,
                None,
                request.blocked(failure),
                covered_by,
                matched_by,
                _advice(preflight, request, failure),
                failure,
            )
    actual = decide(policies, RequestFacts(request.fetch_method, path, request.origin))
    failure = check_actual(request, _response(actual, 200))
    if failure is None:
        return Diagnosis(request, preflight, actual, None, covered_by, matched_by, None)
    return Diagnosis(
        request,
        preflight,
        actual,
        request.blocked(failure),
        covered_by,
        matched_by,
        _advice(actual, request, failure),
        failure,
    )


def _response(decision: Decision, refused_status: int) -> RawResponse:
    if decision.outcome is Outcome.PREFLIGHT_ALLOWED:
        return RawResponse(204, decision.headers)
    if decision.outcome is Outcome.PREFLIGHT_REFUSED:
        return RawResponse(refused_status)
    return RawResponse(200, decision.headers)


def _advice(decision: Decision, request: CorsRequest, failure: Failure) -> Advice:
    """Our refusal's reason when the engine refused; else what the browser's check shows
    about the policy (credentials)."""
    policy = decision.policy
    name = f"policy '{policy.name}'" if policy is not None else "the policy"
    if decision.outcome in (Outcome.PREFLIGHT_REFUSED, Outcome.ACTUAL_REFUSED):
        method = decision.detail
        if (
            decision.reason is Reason.METHOD_NOT_ALLOWED
            and policy
            and method != method.upper()
            and method.upper() in policy.methods
        ):
            return advise(Cause.METHOD_CASE.value, method=method, upper=method.upper())
        return refusal(
            decision.reason, decision.detail, request.origin, policy.name if policy else None
        )
    params = {"origin": request.origin, "policy": name, "value": failure.value, "kind": "response"}
    if dict(decision.headers).get("Access-Control-Allow-Origin") == "*":
        return advise(Cause.ANY_ORIGIN_WITH_CREDENTIALS.value, **params)
    return advise(Cause.POLICY_WITHOUT_CREDENTIALS.value, **params)
