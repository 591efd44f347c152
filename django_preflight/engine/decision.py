"""The decision: from one request's CORS facts and a snapshot to an outcome and exact headers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from typing import NamedTuple

from .compiler import CompiledPolicy, Header
from .index import PathTier
from .limits import MAX_REQUESTED_HEADERS
from .policy import PolicySet
from .tokens import is_token, parse_requested_headers

MEMO_SIZE = 256
MEMO_MAX_INPUT = 256
_PRINTABLE = re.compile(r"[\x20-\x7e]*")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
PREFLIGHT_VARY = ("Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers")
ACTUAL_VARY = ("Origin",)


class Outcome(str, Enum):
    """What the middleware must do with the request."""

    NOT_CORS = "not_cors"
    PREFLIGHT_ALLOWED = "preflight_allowed"
    PREFLIGHT_REFUSED = "preflight_refused"
    ACTUAL_ALLOWED = "actual_allowed"
    ACTUAL_REFUSED = "actual_refused"


class Reason(str, Enum):
    """Why; the refusal reasons are the ones recorded in the audit."""

    ALLOWED = "allowed"
    NO_ORIGIN = "no_origin"
    NO_POLICY = "no_policy_for_path"
    ORIGIN_NOT_ALLOWED = "origin_not_allowed"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    HEADER_NOT_ALLOWED = "header_not_allowed"
    MALFORMED_REQUEST = "malformed_request"
    PRIVATE_NETWORK_NOT_ALLOWED = "private_network_not_allowed"
    REFUSED_ON_SERVER = "request_refused_on_server"
    """A real request with an unsafe method from an origin no policy allows, refused before
    the view: the browser sent it on a preflight answer cached from before a revocation."""


class RequestFacts(NamedTuple):
    """The parts of an HTTP request that CORS depends on, as plain strings.

    A named tuple: one is built per request, and a tuple is the cheapest immutable value to build.
    """

    method: str
    path: str
    origin: str | None = None
    request_method: str | None = None
    request_headers: str | None = None
    request_private_network: bool = False

    @property
    def is_preflight(self) -> bool:
        """OPTIONS with both Origin and Access-Control-Request-Method; any other OPTIONS is not."""
        return (
            self.method == "OPTIONS" and self.origin is not None and self.request_method is not None
        )

    @property
    def called_method(self) -> str | None:
        """The method the page calls with: the one a preflight asks about, else the request's."""
        return self.request_method if self.is_preflight else self.method


class ReadyAnswer:
    """A preflight's header block, checked once, and what the web layer prepared from it.

    ``lines`` are the grant headers (none for a refusal) and ``Vary``, each keyed by its
    lower-case name; how the empty body is framed depends on the status, which the web layer
    chooses. ``prepared`` belongs to the web layer, which keeps there what it builds from the
    lines once (a response template per status) instead of on every request; the engine never
    reads it. Answers compare by identity, so a memoised decision carries what was prepared for
    it, and a new snapshot starts afresh.
    """

    __slots__ = ("lines", "prepared")

    def __init__(self, lines: tuple[tuple[str, Header], ...]) -> None:
        self.lines = lines
        self.prepared: dict[int, object] = {}


NO_ANSWER = ReadyAnswer(())
"""The answer of a decision that is not a preflight's: nothing to send."""


@dataclass(frozen=True, slots=True)
class Decision:
    """The engine's answer. ``detail`` names the method or header that was refused.

    ``shaped_headers`` is only set on a refused method or header from an allowed origin: what
    the policy would grant, which a development server may send so that the browser's console
    names the method or header that failed instead of the missing Allow-Origin.

    ``enforce`` marks a real request with an unsafe method from an origin the path's policies do
    not allow, on a path whose policies ask to be enforced on the server: unless it turns out to
    be same-origin, it must not reach the view.

    ``answer`` is a preflight's whole header block, ready to send (see ``ReadyAnswer``).
    Preflight decisions are memoised, so it is built once per distinct question, not once per
    request.
    """

    outcome: Outcome
    reason: Reason
    policy: CompiledPolicy | None = None
    headers: tuple[Header, ...] = ()
    vary: tuple[str, ...] = ()
    detail: str = ""
    shaped_headers: tuple[Header, ...] = ()
    enforce: bool = False
    answer: ReadyAnswer = field(default=NO_ANSWER, compare=False)

    @property
    def refused(self) -> bool:
        """True when a preflight was refused: the case the audit records."""
        return self.outcome is Outcome.PREFLIGHT_REFUSED


_NOT_CORS = Decision(Outcome.NOT_CORS, Reason.NO_ORIGIN)
_NOT_COVERED_ACTUAL = Decision(Outcome.ACTUAL_REFUSED, Reason.NO_POLICY)


def ready_answer(headers: tuple[Header, ...]) -> ReadyAnswer:
    """A preflight's header block: ``headers`` and ``Vary``.

    Checked here, once per memoised decision, so that the middleware can send it unchanged:
    every name is a token and every value printable ASCII (an allowed origin always is).
    """
    lines = (*headers, ("Vary", ", ".join(PREFLIGHT_VARY)))
    for name, value in lines:
        if not is_token(name) or not _PRINTABLE.fullmatch(value):
            raise ValueError(f"refusing to send header {name!r}: {value!r}")
    return ReadyAnswer(tuple((name.lower(), (name, value)) for name, value in lines))


_REFUSAL_ANSWER = ready_answer(())
_NOT_COVERED_PREFLIGHT = Decision(
    Outcome.PREFLIGHT_REFUSED, Reason.NO_POLICY, vary=PREFLIGHT_VARY, answer=_REFUSAL_ANSWER
)
_COVERED_NO_ORIGIN = Decision(Outcome.NOT_CORS, Reason.NO_ORIGIN, vary=ACTUAL_VARY)


def decide(
    policies: PolicySet,
    facts: RequestFacts,
    max_requested_headers: int = MAX_REQUESTED_HEADERS,
    view_policy: str | None = None,
) -> Decision:
    """Decide one request. Pure: the same snapshot and facts always give the same decision.

    ``view_policy`` is the policy named by the view the path routes to: it alone decides, path
    prefixes aside, and a name no enabled policy has leaves the request covered by nothing.
    """
    tier = (
        policies.tier_for(facts.path) if view_policy is None else policies.views.tier(view_policy)
    )
    if facts.is_preflight:
        if tier is None:
            return _NOT_COVERED_PREFLIGHT
        origin = facts.origin or ""
        method = facts.request_method or ""
        request_headers = facts.request_headers or ""
        decide_preflight = (
            _decide_preflight_memoised
            if len(origin) + len(method) + len(request_headers) <= MEMO_MAX_INPUT
            else _decide_preflight
        )
        return decide_preflight(
            tier,
            origin,
            method,
            request_headers,
            facts.request_private_network,
            max_requested_headers,
        )
    if facts.origin is None:
        return _NOT_CORS if tier is None else _COVERED_NO_ORIGIN
    if tier is None:
        return _NOT_COVERED_ACTUAL
    found = tier.origins.match(facts.origin)
    if found is None:
        return Decision(
            Outcome.ACTUAL_REFUSED,
            Reason.ORIGIN_NOT_ALLOWED,
            tier.policies[0],
            vary=ACTUAL_VARY,
            enforce=tier.enforce_on_server and facts.method not in SAFE_METHODS,
        )
    return _allow_actual(found.policy, found.allow_origin)


@lru_cache(maxsize=MEMO_SIZE)
def _allow_actual(policy: CompiledPolicy, allow_origin: str) -> Decision:
    """The answer to a real request from an allowed origin; memoised like preflight answers.

    The origin is at most 300 characters (longer ones never match), so the memo stays small.
    """
    headers = (("Access-Control-Allow-Origin", allow_origin), *policy.actual_headers)
    return Decision(Outcome.ACTUAL_ALLOWED, Reason.ALLOWED, policy, headers, ACTUAL_VARY)


def _decide_preflight(
    tier: PathTier,
    origin: str,
    method: str,
    request_headers: str,
    private_network: bool,
    max_requested_headers: int,
) -> Decision:
    """A preflight on a covered path: which entry allows the origin, then the policy's checks."""
    found = tier.origins.match(origin)
    if found is None:
        return _origin_refused(tier.policies[0] if tier.policies else None)
    return _check_preflight(
        found.policy,
        found.allow_origin,
        method,
        request_headers,
        private_network,
        max_requested_headers,
    )


def _check_preflight(
    policy: CompiledPolicy,
    allow_origin: str,
    method: str,
    request_headers: str,
    private_network: bool,
    max_requested_headers: int,
) -> Decision:
    """The answer of a policy that allows the origin to the requested method and headers."""
    headers = (("Access-Control-Allow-Origin", allow_origin), *policy.preflight_headers)
    if not is_token(method):
        return _refuse(Reason.MALFORMED_REQUEST, policy, "Access-Control-Request-Method")
    if method not in policy.methods and not policy.any_method:
        return _refuse(Reason.METHOD_NOT_ALLOWED, policy, method, headers)
    requested = parse_requested_headers(request_headers, max_requested_headers)
    if requested is None:
        return _refuse(Reason.MALFORMED_REQUEST, policy, "Access-Control-Request-Headers")
    for name in requested:
        if not policy.allows_header(name):
            return _refuse(Reason.HEADER_NOT_ALLOWED, policy, name, headers)
    if private_network:
        if not policy.allow_private_network:
            return _refuse(Reason.PRIVATE_NETWORK_NOT_ALLOWED, policy)
        headers = (*headers, ("Access-Control-Allow-Private-Network", "true"))
    return Decision(
        Outcome.PREFLIGHT_ALLOWED,
        Reason.ALLOWED,
        policy,
        headers,
        PREFLIGHT_VARY,
        answer=ready_answer(headers),
    )


# Browsers repeat the same few preflights, so most requests skip the origin lookup, the token
# checks, the header list parsing and building the answer. Tiers and policies hash by identity,
# so a new snapshot never reuses an old entry. Only short values are kept, and at most MEMO_SIZE
# answers, so distinct or oversized values sent on purpose cannot make the memo hold much.
_decide_preflight_memoised = lru_cache(maxsize=MEMO_SIZE)(_decide_preflight)


@lru_cache(maxsize=MEMO_SIZE)
def _origin_refused(policy: CompiledPolicy | None) -> Decision:
    """The refusal of an origin no policy of the path allows: one value per policy, memoised."""
    return _refuse(Reason.ORIGIN_NOT_ALLOWED, policy)


def _refuse(
    reason: Reason,
    policy: CompiledPolicy | None,
    detail: str = "",
    shaped: tuple[Header, ...] = (),
) -> Decision:
    return Decision(
        Outcome.PREFLIGHT_REFUSED,
        reason,
        policy,
        vary=PREFLIGHT_VARY,
        detail=detail,
        shaped_headers=shaped,
        answer=_REFUSAL_ANSWER,
    )
