"""What a CORS answer must never be, checked the same way by the tests and the long fuzz run.

Each check returns the problems it found as short strings, empty when the answer is safe, so a
property test asserts on the list and the fuzz run counts problems by kind. The checks use a
small reference model of the policies (which tier covers a path, which entry allows an origin)
written independently of the engine's lookup tables: a grant must be explainable by it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from django_preflight.engine import OriginKind, PolicySet, PolicySpec
from django_preflight.engine.decision import Decision, Outcome, RequestFacts
from django_preflight.engine.origins import OriginError, normalise_origin

ALLOW_ORIGIN = "access-control-allow-origin"
ALLOW_CREDENTIALS = "access-control-allow-credentials"
GRANT_HEADERS = frozenset(
    {
        ALLOW_ORIGIN,
        ALLOW_CREDENTIALS,
        "access-control-allow-methods",
        "access-control-allow-headers",
        "access-control-expose-headers",
        "access-control-max-age",
        "access-control-allow-private-network",
    }
)
FORBIDDEN_IN_HEADERS = ("\r", "\n", "\x00")

# The form browsers serialise an origin in; deliberately not the engine's own pattern.
_BROWSER_FORM = re.compile(r"([a-z][a-z0-9+.\-]*)://([a-z0-9.\-]+|\[[0-9a-f:.]+\])(?::([0-9]+))?")
_DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}


def header_problems(
    headers: Iterable[tuple[str, str]], origin: str | None, *, granted: bool
) -> list[str]:
    """Problems in the headers of one answer; ``granted`` is False for a refusal."""
    problems: list[str] = []
    items = [(name.lower(), value) for name, value in headers]
    for name, value in items:
        if any(ch in name or ch in value for ch in FORBIDDEN_IN_HEADERS):
            problems.append(f"CR, LF or NUL in header {name}")
    grants = sorted({name for name, _ in items if name in GRANT_HEADERS})
    if not granted:
        if grants:
            problems.append(f"grant header on a refusal: {', '.join(grants)}")
        return problems
    allow = [value for name, value in items if name == ALLOW_ORIGIN]
    credentials = [value for name, value in items if name == ALLOW_CREDENTIALS]
    if len(allow) != 1:
        problems.append(f"{len(allow)} Access-Control-Allow-Origin headers on a grant")
        return problems
    if credentials not in ([], ["true"]):
        problems.append(f"Access-Control-Allow-Credentials is {credentials!r}")
    if allow[0] == "*":
        if credentials:
            problems.append("'*' with credentials")
    elif allow[0] != origin:
        problems.append("Access-Control-Allow-Origin is not the request's origin")
    return problems


def enforced_specs(specs: Sequence[PolicySpec], policies: PolicySet) -> list[PolicySpec]:
    """The specs the snapshot enforces: neither report-only nor rejected as invalid."""
    rejected = {r.policy_id for r in policies.rejected}
    return [s for s in specs if not s.report_only and s.id not in rejected]


def covering_specs(specs: Sequence[PolicySpec], path: str) -> list[PolicySpec]:
    """The specs of the longest prefix covering ``path``, matched segment by segment."""
    tiers: dict[str, list[PolicySpec]] = {}
    for spec in specs:
        tiers.setdefault(spec.path_prefix.rstrip("/"), []).append(spec)
    covering = [b for b in tiers if not b or path == b or path.startswith(b + "/")]
    return tiers[max(covering, key=len)] if covering else []


def in_browser_form(origin: str) -> re.Match[str] | None:
    """The origin split into scheme, host, port if a browser could have sent it."""
    match = _BROWSER_FORM.fullmatch(origin)
    if match is None:
        return None
    host, port = match.group(2), match.group(3)
    if not host.startswith("["):
        labels = host.split(".")
        if any(not label or len(label) > 63 for label in labels):
            return None
    if port is not None and (port.startswith("0") or _DEFAULT_PORTS.get(match[1]) == port):
        return None
    return match


def grants_for(spec: PolicySpec, origin: str) -> set[str]:
    """Every Allow-Origin value an entry of ``spec`` may answer ``origin`` with."""
    values: set[str] = set()
    browser_form = in_browser_form(origin)
    for entry in spec.origins:
        if entry.kind is OriginKind.ANY:
            values.add("*")
        elif entry.kind is OriginKind.NULL:
            if origin == "null":
                values.add("null")
        elif entry.kind is OriginKind.EXACT:
            try:
                if normalise_origin(entry.value) == origin:
                    values.add(origin)
            except OriginError:
                continue
        elif browser_form is None:
            continue
        elif entry.kind is OriginKind.REGEX:
            if re.fullmatch(entry.value, origin):
                values.add(origin)
        elif _under_wildcard(entry.value, browser_form):
            values.add(origin)
    return values


def _under_wildcard(pattern: str, origin: re.Match[str]) -> bool:
    scheme, _, rest = pattern.strip().partition("://*.")
    parent, _, port = rest.partition(":")
    if port == _DEFAULT_PORTS.get(scheme.lower()):
        port = ""
    return (
        origin[1] == scheme.lower()
        and origin[2].endswith("." + parent.lower())
        and (origin[3] or "") == port
    )


def decision_problems(
    specs: Sequence[PolicySpec], facts: RequestFacts, decision: Decision
) -> list[str]:
    """Problems with one engine decision, judged against the enforced ``specs``."""
    refused = decision.outcome in (Outcome.PREFLIGHT_REFUSED, Outcome.ACTUAL_REFUSED)
    granted = decision.outcome in (Outcome.PREFLIGHT_ALLOWED, Outcome.ACTUAL_ALLOWED)
    problems = header_problems(decision.headers, facts.origin, granted=granted)
    if refused or decision.outcome is Outcome.NOT_CORS:
        if decision.headers:
            problems.append(f"headers on a {decision.outcome.value} decision")
        if decision.shaped_headers:
            problems += header_problems(decision.shaped_headers, facts.origin, granted=True)
        problems += _completeness(specs, facts, decision)
        return problems
    if decision.policy is None:
        return [*problems, "a grant without a policy"]
    tier = covering_specs(specs, facts.path)
    spec = next((s for s in tier if s.id == decision.policy.id), None)
    if spec is None:
        return [*problems, "granted by a policy of another path prefix"]
    allow = dict((n.lower(), v) for n, v in decision.headers).get(ALLOW_ORIGIN)
    if allow not in grants_for(spec, facts.origin or ""):
        problems.append(f"no entry of the granting policy allows {facts.origin!r}")
    if allow == "*" and spec.allow_credentials:
        problems.append("'*' granted by a credentialed policy")
    if decision.outcome is Outcome.PREFLIGHT_ALLOWED:
        problems += _preflight_grant_problems(spec, facts)
    return problems


def _preflight_grant_problems(spec: PolicySpec, facts: RequestFacts) -> list[str]:
    problems = []
    method = facts.request_method or ""
    if method not in spec.allowed_methods and "*" not in spec.allowed_methods:
        problems.append(f"method {method!r} granted but not allowed")
    allowed = {h.lower() for h in spec.allowed_headers}
    for item in (facts.request_headers or "").split(","):
        name = item.strip(" \t").lower()
        if name and name not in allowed and ("*" not in allowed or name == "authorization"):
            problems.append(f"header {name!r} granted but not allowed")
    if facts.request_private_network and not spec.allow_private_network:
        problems.append("private network granted but not allowed")
    return problems


def _completeness(
    specs: Sequence[PolicySpec], facts: RequestFacts, decision: Decision
) -> list[str]:
    """An origin listed exactly, or an any-origin policy, is never refused as not allowed."""
    if decision.reason.value != "origin_not_allowed" or facts.origin is None:
        return []
    for spec in covering_specs(specs, facts.path):
        for entry in spec.origins:
            if entry.kind is OriginKind.ANY:
                return ["refused although an any-origin policy covers the path"]
            if entry.kind is OriginKind.EXACT:
                try:
                    if normalise_origin(entry.value) == facts.origin:
                        return ["refused an origin listed exactly"]
                except OriginError:
                    continue
    return []
