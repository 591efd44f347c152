"""Findings: what each observed answer means, how bad it is, and how to fix it.

Ids are stable (CI configurations and the documentation refer to them). Severity follows what
an attacker gains: a hostile origin granted with credentials reads users' data (high); granted
without credentials on an API that is not public, it reads what the network position allows
(medium); public data, missing ``Vary`` and the like are low.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..engine.advice import Cause, fix_for
from ..engine.browser import RawResponse, cacheable_for_another_origin, check_preflight
from ..engine.causes import answered_by_authentication
from ..engine.ranked import RankedEnum
from .origins import HostileOrigin, Kind, explained_by
from .plan import preflight_request

Headers = tuple[tuple[str, str], ...]


class Severity(RankedEnum):
    """How much a finding exposes, from low to high."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    def lowered(self) -> Severity:
        """One step less severe, never below low."""
        return list(Severity)[max(self.rank - 1, 0)]


@dataclass(frozen=True, slots=True)
class Check:
    """One kind of finding as documented: id, title and fix."""

    id: str
    title: str
    fix: str


_WHO: dict[Kind, str] = {
    Kind.ARBITRARY: "Any website",
    Kind.NULL: "Any sandboxed iframe, data: or file: page",
    Kind.SUFFIX: "A page on a domain anyone can register",
    Kind.PREFIX: "A page on a domain anyone can register",
    Kind.UNESCAPED_DOT: "A page on a domain anyone can register",
    Kind.SPECIAL_CHARACTER: "A page on a domain anyone can register",
    Kind.SUBDOMAIN: "A page on any subdomain (a forgotten or taken-over one included)",
    Kind.HTTP: "Anyone on the network path, injecting into the plain-HTTP site",
    Kind.OTHER_PORT: "Another service on another port of the trusted host",
    Kind.HOSTING: "Anyone publishing on the shared hosting platform",
}

GRANT_CHECKS: dict[Kind, Check] = {
    Kind.ARBITRARY: Check(
        "reflects-any-origin",
        "Any origin is echoed in Access-Control-Allow-Origin",
        "Stop echoing the request's Origin: answer with it only when it is one of an "
        "allowlist of exact origins.",
    ),
    Kind.NULL: Check(
        "trusts-null-origin",
        "The 'null' origin is allowed",
        "Remove 'null' from the allowed origins: sandboxed iframes, data: and file: pages and "
        "cross-origin redirects all send it, so any site can.",
    ),
    Kind.SUFFIX: Check(
        "trusts-suffix-lookalike",
        "A host that merely ends like a trusted one is allowed",
        "Anchor the pattern at the start of the host: list exact origins, or match subdomains "
        r"after a literal dot (https://([a-z0-9-]+\.)?example\.com), never a bare suffix.",
    ),
    Kind.PREFIX: Check(
        "trusts-prefix-lookalike",
        "A host that merely starts like a trusted one is allowed",
        "Match the whole origin (a final $ or a full match): a prefix test or Python's "
        "re.match lets https://example.com.attacker.tld through.",
    ),
    Kind.UNESCAPED_DOT: Check(
        "trusts-unescaped-dot",
        "A dot in an origin regex matches any character",
        r"Escape every dot in the regex (\.): an unescaped dot lets appxexample.com, which "
        "anyone can register, pass for app.example.com.",
    ),
    Kind.SPECIAL_CHARACTER: Check(
        "trusts-special-character-host",
        "A host with characters browsers accept ('_', '`') after a trusted host is allowed",
        "Match the whole origin with only letters, digits, hyphens and escaped dots in hosts.",
    ),
    Kind.SUBDOMAIN: Check(
        "trusts-any-subdomain",
        "Every subdomain of a trusted host is allowed",
        "List the subdomains that serve your frontends instead of all of them: one taken-over "
        "or XSS-prone subdomain then cannot read the API.",
    ),
    Kind.HTTP: Check(
        "trusts-http-origin",
        "The plain-HTTP twin of a trusted HTTPS origin is allowed",
        "Allow only the https:// origin: a page served over HTTP can be rewritten by anyone "
        "on the network path.",
    ),
    Kind.OTHER_PORT: Check(
        "trusts-other-port",
        "Another port of a trusted host is allowed",
        "Allow the exact origin, port included: another port is another origin, often "
        "another program.",
    ),
    Kind.HOSTING: Check(
        "trusts-shared-hosting-domain",
        "Every site of a shared hosting platform is allowed",
        "Never trust a hosting platform's shared domain (github.io, herokuapp.com...) as a "
        "whole: list your own site's exact origin.",
    ),
}

WILDCARD_WITH_CREDENTIALS = Check(
    "wildcard-with-credentials",
    "'*' is answered to credentialed calls",
    fix_for(Cause.WILDCARD_WITH_CREDENTIALS),
)
MISSING_VARY = Check(
    "missing-vary-origin",
    "An answer that depends on Origin lacks 'Vary: Origin'",
    "Send 'Vary: Origin' on every response whose CORS headers depend on the Origin header.",
)
PREFLIGHT_AUTH = Check(
    "preflight-auth-required",
    "The trusted origin's preflight is answered by authentication",
    fix_for(Cause.PREFLIGHT_AUTH)
    + " With django-preflight, put PreflightMiddleware first in MIDDLEWARE.",
)
PREFLIGHT_REDIRECT = Check(
    "preflight-redirected",
    "The trusted origin's preflight is redirected",
    fix_for(Cause.PREFLIGHT_REDIRECTED),
)

CHECKS: tuple[Check, ...] = (
    *GRANT_CHECKS.values(),
    WILDCARD_WITH_CREDENTIALS,
    MISSING_VARY,
    PREFLIGHT_AUTH,
    PREFLIGHT_REDIRECT,
)
"""Every finding the scanner can report, for the documentation and the renderers."""


@dataclass(frozen=True, slots=True)
class Observation:
    """One request the scanner sent and the response it received."""

    url: str
    method: str
    origin: str
    request_headers: Headers
    """Every header exactly as sent, in order, so the evidence can be replayed."""
    response: RawResponse
    hostile: HostileOrigin | None = None
    """What ``origin`` imitates; None for a trusted origin or the URL's own."""


@dataclass(frozen=True, slots=True)
class Attribution:
    """The policy and entry of this project that grant the same origin on the same path."""

    policy_id: int
    policy_name: str
    entry: str
    """The matching origin entry, as the admin lists it: its kind and pattern."""
    admin_url: str | None
    """The policy's change page; None when the admin is not installed."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One misconfiguration, with the exchange that shows it."""

    check: Check
    severity: Severity
    evidence: Observation
    consequence: str
    attribution: Attribution | None = None

    @property
    def id(self) -> str:
        """The stable id of the check."""
        return self.check.id


def granted(observation: Observation) -> bool:
    """The answer lets a page on the observation's origin read it (preflight: and proceed)."""
    response = observation.response
    if response.values("Access-Control-Allow-Origin") != [observation.origin]:
        return False
    return observation.method != "OPTIONS" or 200 <= response.status < 300


def _with_credentials(response: RawResponse) -> bool:
    return response.combined("Access-Control-Allow-Credentials") == "true"


def judge(
    observations: Sequence[Observation], *, credentials: bool
) -> tuple[list[Finding], list[str]]:
    """Findings (one per check, the most severe evidence) and notes for one URL's observations.

    ``credentials`` says the API is called with credentials, so it is not public.
    """
    found: dict[str, Finding] = {}
    notes: list[str] = []
    grants = [(o, o.hostile) for o in observations if o.hostile is not None and granted(o)]
    holes = {(hostile.base, hostile.kind) for _, hostile in grants}
    arbitrary = ("", Kind.ARBITRARY) in holes
    for observation, hostile in grants:
        if arbitrary and hostile.kind is not Kind.ARBITRARY:
            continue  # every other hostile origin is granted for the same reason
        if (hostile.base, explained_by(hostile)) in holes:
            continue
        _add(found, _grant_finding(observation, hostile, credentials=credentials))
    for observation in observations:
        _add(found, _wildcard_finding(observation, credentials=credentials))
        _add(found, _vary_finding(observation))
        if observation.hostile is None and observation.method == "OPTIONS":
            _add(found, _preflight_finding(observation, credentials=credentials))
    for origin in dict.fromkeys(o.origin for o in observations if o.hostile is None):
        if not any(
            o.origin == origin
            and o.response.combined("Access-Control-Allow-Origin") in (origin, "*")
            for o in observations
        ):
            notes.append(
                f"The trusted origin {origin} was not granted by the preflight or the GET: "
                "check the trusted origins given (findings about hostile origins still hold)."
            )
    ordered = sorted(found.values(), key=lambda f: (-f.severity.rank, CHECKS.index(f.check)))
    return ordered, notes


def _add(found: dict[str, Finding], finding: Finding | None) -> None:
    """Keep one finding per check: the first of the most severe."""
    if finding is None:
        return
    kept = found.get(finding.id)
    if kept is None or finding.severity.rank > kept.severity.rank:
        found[finding.id] = finding


def _grant_finding(
    observation: Observation, hostile: HostileOrigin, *, credentials: bool
) -> Finding:
    with_cookies = _with_credentials(observation.response)
    severity = Severity.MEDIUM if credentials else Severity.LOW
    if with_cookies:
        severity = Severity.HIGH
    if hostile.kind in (Kind.SUBDOMAIN, Kind.OTHER_PORT):
        severity = severity.lowered()
    action = "send the user's cookies to" if with_cookies else "call"
    consequence = (
        f"{_WHO[hostile.kind]} ({hostile.value}) can {action} {observation.url} and read the "
        "response."
    )
    return Finding(GRANT_CHECKS[hostile.kind], severity, observation, consequence)


def _wildcard_finding(observation: Observation, *, credentials: bool) -> Finding | None:
    response = observation.response
    if response.combined("Access-Control-Allow-Origin") != "*":
        return None
    if not (_with_credentials(response) or credentials):
        return None
    consequence = (
        "Browsers refuse every credentialed call to this URL ('*' cannot be used with "
        "credentials), and the usual quick fix, echoing any origin, opens it to every site."
    )
    return Finding(WILDCARD_WITH_CREDENTIALS, Severity.MEDIUM, observation, consequence)


def _vary_finding(observation: Observation) -> Finding | None:
    if observation.method == "OPTIONS" or not granted(observation):
        return None
    if not cacheable_for_another_origin(observation.response):
        return None
    consequence = (
        f"A shared cache can serve the answer made for {observation.origin} to another origin, "
        "which the browser then blocks, or keep serving it after the origin is removed."
    )
    return Finding(MISSING_VARY, Severity.LOW, observation, consequence)


def _preflight_finding(observation: Observation, *, credentials: bool) -> Finding | None:
    response = observation.response
    if response.is_redirect:
        check = PREFLIGHT_REDIRECT
    elif answered_by_authentication(response):
        check = PREFLIGHT_AUTH
    else:
        return None
    request = preflight_request(observation.url, observation.origin, credentials=credentials)
    message = check_preflight(request, response)
    assert message is not None
    return Finding(check, Severity.MEDIUM, observation, request.blocked(message))


def highest(findings: Iterable[Finding]) -> Severity | None:
    """The most severe finding's severity, None without findings."""
    return max((f.severity for f in findings), key=lambda s: s.rank, default=None)
