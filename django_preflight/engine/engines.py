"""Three browser engines side by side: their console sentences and where they part ways.

The checks (``browser``) follow Chromium's order; a refused call reads differently in each engine,
and a few behaviours differ. Everything engine-specific lives in the one table below, so
``explain``, ``probe``, the audit and the troubleshooting page all speak from it. Sentences were
observed in Chromium 156, Firefox 153.8 ESR and WebKitGTK 2.50.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import Enum
from urllib.parse import urljoin

from .browser import (
    CHROMIUM,
    CHROMIUM_LINE,
    REDIRECT_STATUSES,
    Check,
    CorsRequest,
    Failure,
    RawResponse,
    Stage,
    check_allow_origin,
    console_line,
)
from .fetch import CHROMIUM_RULES, Rules, Trace
from .limits import (
    MAX_AGE_CHROMIUM_CAP,
    MAX_AGE_FIREFOX_CAP,
    MAX_AGE_MISSING,
    MAX_AGE_WEBKIT_CAP,
    MAX_REDIRECTS,
)


class Engine(str, Enum):
    """A browser engine the model speaks for."""

    CHROMIUM = "chromium"
    FIREFOX = "firefox"
    WEBKIT = "webkit"


_Q = "\u2018{}\u2019"  # Firefox quotes names and values in typographic single quotes.
_ACAO = _Q.format("Access-Control-Allow-Origin")
FIREFOX_BLOCKED = (
    "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource "
    "at {url}. "
)
FIREFOX_NOT_SUCCEEDED = "(Reason: CORS request did not succeed). Status code: (null)."
FIREFOX_STATUS = " Status code: {status}."
# Firefox 153 ESR: the '(Reason: ...)' after FIREFOX_BLOCKED, keyed by the same checks.
FIREFOX: dict[Check, str] = {
    Check.ALLOW_ORIGIN_MISSING: f"(Reason: CORS header {_ACAO} missing).{FIREFOX_STATUS}",
    Check.ALLOW_ORIGIN_MULTIPLE: f"(Reason: Multiple CORS header {_ACAO} not allowed).",
    Check.ALLOW_ORIGIN_WILDCARD: (
        f"(Reason: Credential is not supported if the CORS header {_ACAO} is \u2018*\u2019)."
    ),
    Check.ALLOW_ORIGIN_MISMATCH: (
        f"(Reason: CORS header {_ACAO} does not match \u2018{{value}}\u2019)."
    ),
    Check.PREFLIGHT_STATUS: f"(Reason: CORS preflight response did not succeed).{FIREFOX_STATUS}",
    Check.PREFLIGHT_REDIRECT: "(Reason: CORS request external redirect not allowed).",
    Check.ALLOW_CREDENTIALS: (
        "(Reason: expected \u2018true\u2019 in CORS header "
        "\u2018Access-Control-Allow-Credentials\u2019)."
    ),
    Check.METHODS_UNPARSEABLE: (
        "(Reason: invalid token \u2018{value}\u2019 in CORS header "
        "\u2018Access-Control-Allow-Methods\u2019)."
    ),
    Check.METHOD_NOT_ALLOWED: (
        "(Reason: Did not find method in CORS header \u2018Access-Control-Allow-Methods\u2019)."
    ),
    Check.HEADERS_UNPARSEABLE: (
        "(Reason: invalid token \u2018{value}\u2019 in CORS header "
        "\u2018Access-Control-Allow-Headers\u2019)."
    ),
    Check.HEADER_NOT_ALLOWED: (
        "(Reason: header \u2018{value}\u2019 is not allowed according to header "
        "\u2018Access-Control-Allow-Headers\u2019 from CORS preflight response)."
    ),
    Check.ADDRESS_SPACE: "",
    # Too many redirects is a network error: only FIREFOX_NOT_SUCCEEDED is logged.
    Check.TOO_MANY_REDIRECTS: "",
}
WEBKIT_CANNOT_LOAD = "Fetch API cannot load {url} due to access control checks."
WEBKIT_STATUS = " Status code: {status}"
WEBKIT_REDIRECTION = (
    "Cross-origin redirection to {location} denied by Cross-Origin Resource Sharing policy: "
)
_WEBKIT_ORIGIN = "Origin {origin} is not allowed by Access-Control-Allow-Origin." + WEBKIT_STATUS
_WEBKIT_INVALID = "Header {name} has an invalid value: {{value}}"
# WebKitGTK 2.50: the first console line; WEBKIT_CANNOT_LOAD follows it. A refused redirect's
# line starts with WEBKIT_REDIRECTION. An unparseable list is quoted whole.
WEBKIT: dict[Check, str] = {
    Check.ALLOW_ORIGIN_MISSING: _WEBKIT_ORIGIN,
    Check.ALLOW_ORIGIN_MULTIPLE: "Access-Control-Allow-Origin cannot contain more than one origin.",
    Check.ALLOW_ORIGIN_WILDCARD: (
        "Cannot use wildcard in Access-Control-Allow-Origin when credentials flag is true."
    ),
    Check.ALLOW_ORIGIN_MISMATCH: _WEBKIT_ORIGIN,
    Check.PREFLIGHT_STATUS: "Preflight response is not successful." + WEBKIT_STATUS,
    Check.PREFLIGHT_REDIRECT: "Preflight response is not successful." + WEBKIT_STATUS,
    Check.ALLOW_CREDENTIALS: (
        'Credentials flag is true, but Access-Control-Allow-Credentials is not "true".'
    ),
    Check.METHODS_UNPARSEABLE: _WEBKIT_INVALID.format(name="Access-Control-Allow-Methods"),
    Check.METHOD_NOT_ALLOWED: "Method {value} is not allowed by Access-Control-Allow-Methods.",
    Check.HEADERS_UNPARSEABLE: _WEBKIT_INVALID.format(name="Access-Control-Allow-Headers"),
    Check.HEADER_NOT_ALLOWED: (
        "Request header field {value} is not allowed by Access-Control-Allow-Headers."
    ),
    Check.ADDRESS_SPACE: "",
    Check.TOO_MANY_REDIRECTS: f"Load cannot follow more than {MAX_REDIRECTS} redirections",
}
_LISTS = {
    Check.METHODS_UNPARSEABLE: "Access-Control-Allow-Methods",
    Check.HEADERS_UNPARSEABLE: "Access-Control-Allow-Headers",
}


@dataclass(frozen=True, slots=True)
class EngineModel:
    """One engine: its name, what a blocked fetch() rejects with, its limits, its deviations."""

    engine: Engine
    label: str
    rejection: str
    max_age_cap: int
    checks_address_space: bool
    forbids_user_agent: bool
    differences: tuple[str, ...]
    # What a probe must send for this engine where it departs from Chromium's requests.
    rules: Rules = CHROMIUM_RULES


# Firefox and WebKit alike: a User-Agent set by the page is sent (and preflighted), and after a
# redirect turns a preflighted call into a GET the target is preflighted for the original headers.
SENDS_USER_AGENT_ASKS_AGAIN = Rules(
    sent_anyway=frozenset({"user-agent"}), asks_again_after_get=True
)


MODELS: dict[Engine, EngineModel] = {
    Engine.CHROMIUM: EngineModel(
        Engine.CHROMIUM,
        "Chromium 156",
        "TypeError: Failed to fetch",
        MAX_AGE_CHROMIUM_CAP,
        checks_address_space=True,
        forbids_user_agent=True,
        differences=(
            f"Max-Age is capped at {MAX_AGE_CHROMIUM_CAP} seconds "
            f"(missing: {MAX_AGE_MISSING} seconds).",
            "'*' in Access-Control-Allow-Headers covers Authorization (the standard says it "
            "never does); only a DevTools issue flags it.",
            "A page in a more public address space may not call a private or loopback one "
            "(Private Network Access): the call is refused before any request.",
            "User-Agent set by the page is dropped, so it never causes a preflight.",
        ),
    ),
    Engine.FIREFOX: EngineModel(
        Engine.FIREFOX,
        "Firefox 153 ESR",
        "TypeError: NetworkError when attempting to fetch resource.",
        MAX_AGE_FIREFOX_CAP,
        checks_address_space=False,
        forbids_user_agent=False,
        differences=(
            f"Max-Age is capped at {MAX_AGE_FIREFOX_CAP} seconds "
            f"(missing: {MAX_AGE_MISSING} seconds).",
            "User-Agent is not a forbidden header: setting it makes the call preflighted.",
            "A redirect that turns a preflighted request into a GET (303, or 301/302 of a POST) "
            "sends the target a preflight for GET that still names the original headers: the "
            "call is refused unless the target grants it.",
            "Too many redirects logs only '" + FIREFOX_NOT_SUCCEEDED + "'",
            "'*' in Access-Control-Allow-Headers covers Authorization while the pref "
            "network.cors_preflight.authorization_covered_by_wildcard is true (the default).",
            "A single Access-Control-Allow-Origin line holding a list is reported as a "
            "mismatch with the whole list, not as multiple values.",
            "A redirected preflight is first checked for Access-Control-Allow-Origin: when that "
            "fails, its reason is logged (with the redirect's status), then '"
            + FIREFOX_NOT_SUCCEEDED
            + "' twice.",
            "No address-space check: a public page may call loopback addresses.",
            "Every refusal is logged with the response's URL; most add a second line, "
            "'" + FIREFOX_NOT_SUCCEEDED + "'",
        ),
        rules=SENDS_USER_AGENT_ASKS_AGAIN,
    ),
    Engine.WEBKIT: EngineModel(
        Engine.WEBKIT,
        "WebKitGTK 2.50",
        "TypeError: Load failed",
        MAX_AGE_WEBKIT_CAP,
        checks_address_space=False,
        forbids_user_agent=False,
        differences=(
            f"Max-Age is capped at {MAX_AGE_WEBKIT_CAP} seconds.",
            "A preflight answered with a non-2xx status fails on its status first, whatever "
            "its CORS headers.",
            "Header names are quoted as the page wrote them (X-Api-Key), not lower-cased.",
            "User-Agent is not a forbidden header: setting it makes the call preflighted.",
            "A redirect that turns a preflighted request into a GET (303, or 301/302 of a POST) "
            "sends the target a preflight for GET that still names the original headers: the "
            "call is refused unless the target grants it.",
            "A refused redirect's line names its target: 'Cross-origin redirection to <target> "
            "denied by Cross-Origin Resource Sharing policy: ...'.",
            "Too many redirects logs '" + WEBKIT[Check.TOO_MANY_REDIRECTS] + "'.",
            "No address-space check: a public page may call loopback addresses.",
        ),
        rules=SENDS_USER_AGENT_ASKS_AGAIN,
    ),
}
ALL_ENGINES = tuple(Engine)


def _written_name(request: CorsRequest, lowered: str) -> str:
    """The header name as the page wrote it: WebKit quotes it so."""
    for name, _ in request.headers:
        if name.lower() == lowered:
            return name
    return lowered


def lines(
    engine: Engine,
    request: CorsRequest,
    url: str,
    failure: Failure,
    origin: str | None = None,
    response: RawResponse | None = None,
) -> tuple[str, ...]:
    """The console lines ``engine`` logs for one failure at ``url`` (after any redirects).

    ``origin`` is the Origin the failing request carried (``null`` after a cross-origin
    redirect) and ``response`` the answer that failed: WebKit quotes both, Firefox reads the
    answer's Allow-Origin lines. Empty when the engine has no such check (address space, for
    Firefox and WebKit).
    """
    if engine is Engine.CHROMIUM:
        return (console_line(request.origin, url, request.url, failure),)
    if engine is Engine.FIREFOX:
        reported = _firefox_failure(request, failure, origin or request.origin, response)
        # A redirected preflight refused on its Allow-Origin: the network error is logged twice.
        twice = failure.check is Check.PREFLIGHT_REDIRECT and reported.check is not failure.check
        return _firefox(url, reported, twice=twice)
    status = "" if failure.status is None else str(failure.status)
    text = WEBKIT[failure.check]
    if not text:
        return ()
    check = failure.check
    if (
        failure.stage is Stage.PREFLIGHT
        and failure.status is not None
        and not 200 <= failure.status < 300
    ):
        check = Check.PREFLIGHT_STATUS
        text = WEBKIT[check]
    value = failure.value
    if check is Check.HEADER_NOT_ALLOWED:
        value = _written_name(request, value)
    if check in _LISTS and response is not None:
        value = response.combined(_LISTS[check]) or value
    first = text.format(value=value, status=status, origin=origin or request.origin)
    redirect_refused = check is not Check.TOO_MANY_REDIRECTS and failure.stage is Stage.ACTUAL
    if redirect_refused and response is not None and response.is_redirect:
        location = urljoin(url, response.values("Location")[0])
        first = WEBKIT_REDIRECTION.format(location=location) + first
    return (first, WEBKIT_CANNOT_LOAD.format(url=url))


def _firefox_failure(
    request: CorsRequest, failure: Failure, origin: str, response: RawResponse | None
) -> Failure:
    """The failure as Firefox reports it, where its order or reading differs from Chromium's.

    A redirected preflight is checked for Allow-Origin first; one Allow-Origin line holding a
    list is a mismatch with the whole line (only separate lines are 'multiple').
    """
    if response is None:
        return failure
    if failure.check is Check.PREFLIGHT_REDIRECT:
        first = check_allow_origin(origin, request.credentials, response, Stage.PREFLIGHT)
        failure = failure if first is None else replace(first, status=failure.status)
    listed = response.values("Access-Control-Allow-Origin")
    if failure.check is Check.ALLOW_ORIGIN_MULTIPLE and len(listed) == 1:
        return replace(failure, check=Check.ALLOW_ORIGIN_MISMATCH, value=listed[0])
    return failure


def _firefox(url: str, failure: Failure, *, twice: bool = False) -> tuple[str, ...]:
    if failure.check is Check.TOO_MANY_REDIRECTS:
        return (FIREFOX_BLOCKED.format(url=url) + FIREFOX_NOT_SUCCEEDED,)
    text = FIREFOX[failure.check]
    if not text:
        return ()
    status = "" if failure.status is None else str(failure.status)
    shown = _Q.format(url) if failure.check is Check.ALLOW_ORIGIN_WILDCARD else url
    found = [FIREFOX_BLOCKED.format(url=shown) + text.format(value=failure.value, status=status)]
    if failure.check is Check.PREFLIGHT_REDIRECT:
        found.append(
            FIREFOX_BLOCKED.format(url=url) + FIREFOX[Check.PREFLIGHT_STATUS].format(status=status)
        )
    elif twice:
        found.append(FIREFOX_BLOCKED.format(url=url) + FIREFOX_NOT_SUCCEEDED)
    if failure.stage is Stage.PREFLIGHT or failure.status in REDIRECT_STATUSES:
        found.append(FIREFOX_BLOCKED.format(url=url) + FIREFOX_NOT_SUCCEEDED)
    return tuple(found)


def trace_lines(engine: Engine, trace: Trace) -> tuple[str, ...]:
    """The console lines ``engine`` logs for a refused fetch the probe followed.

    The last hop gives what WebKit quotes: the Origin sent and the answer that failed.
    """
    if trace.failure is None:
        return ()
    hop = trace.last
    failed_here = hop is not None and trace.failure.check is not Check.ADDRESS_SPACE
    return lines(
        engine,
        trace.request,
        trace.url,
        trace.failure,
        origin=hop.origin if hop is not None and failed_here else None,
        response=hop.response if hop is not None and failed_here else None,
    )


def sends_otherwise(engine: Engine, trace: Trace) -> bool:
    """True when ``engine`` sends other requests for this call than ``trace`` (Chromium's)
    shows: a User-Agent set by the page, or a redirect after which it asks again."""
    rules = MODELS[engine].rules
    request = trace.request
    if any(name.lower() in rules.sent_anyway for name, _ in request.headers):
        return True
    redirected = any(not hop.preflight and hop.response.is_redirect for hop in trace.hops)
    return rules.asks_again_after_get and request.needs_preflight and redirected


def every_sentence(engine: Engine) -> tuple[str, ...]:
    """Every sentence template ``engine`` can log, placeholders left in: for the docs' check."""
    table = {Engine.CHROMIUM: CHROMIUM, Engine.FIREFOX: FIREFOX, Engine.WEBKIT: WEBKIT}[engine]
    found = [text for text in table.values() if text]
    if engine is Engine.FIREFOX:
        found.append(FIREFOX_NOT_SUCCEEDED)
    if engine is Engine.WEBKIT:
        found.append(WEBKIT_CANNOT_LOAD)
        found.append(WEBKIT_REDIRECTION)
    return tuple(dict.fromkeys(found))


@dataclass(frozen=True, slots=True)
class Pasted:
    """What a console line pasted from any engine tells about the call: its URL and origin."""

    url: str | None
    origin: str | None


MAX_PASTED = 4096
_PLACEHOLDER = re.compile(r"\{\w*\}")


def _finder(template: str, name: str, value: str) -> re.Pattern[str]:
    """A pattern that finds the ``{name}`` of a console line made from ``template``: the text on
    each side of the placeholder, as far as the next one, around ``value``, which captures it."""
    before, _, after = template.partition("{" + name + "}")
    before, after = _PLACEHOLDER.split(before)[-1], _PLACEHOLDER.split(after)[0]
    return re.compile(re.escape(before) + value + re.escape(after))


_QUOTED = r"([^'\s]+)"
_PASTED_URL = (
    _finder(CHROMIUM_LINE, "url", _QUOTED),
    # Some Firefox versions quote the URL in typographic quotes.
    _finder(FIREFOX_BLOCKED, "url", "\u2018?([^\\s\u2018\u2019]+?)\u2019?"),
    _finder(WEBKIT_CANNOT_LOAD, "url", r"(\S+)"),
)
_PASTED_ORIGIN = (
    _finder(CHROMIUM_LINE, "origin", _QUOTED),
    _finder(_WEBKIT_ORIGIN, "origin", r"(\S+)"),
)


def parse_pasted(text: str) -> Pasted | None:
    """The URL and origin a pasted console line names, or None when it is no engine's line.

    Firefox names no origin, WebKit names it only when Allow-Origin was the failing check.
    """
    text = text[:MAX_PASTED]
    url = next((m.group(1) for p in _PASTED_URL if (m := p.search(text))), None)
    origin = next((m.group(1) for p in _PASTED_ORIGIN if (m := p.search(text))), None)
    return None if url is None and origin is None else Pasted(url, origin)
