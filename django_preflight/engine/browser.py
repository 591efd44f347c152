"""What a browser checks: the Fetch standard's CORS checks, in Chromium 156's order and words.

Used to judge responses the way the browser will, both our own (``preflight explain``) and any
server's (``preflight probe``). Each check that fails gives a ``Failure``: which check, on which
response, with the value the console quotes. The console sentences live here and nowhere else,
keyed by check, so another browser's wording can sit next to Chromium's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum

from . import safelist
from .tokens import is_token

SIMPLE_METHODS = frozenset({"GET", "HEAD", "POST"})
NORMALISED_METHODS = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CORS_BLOCKED = "has been blocked by CORS policy"
CHROMIUM_LINE = (
    "Access to fetch at '{url}'{redirected} from origin '{origin}' " + CORS_BLOCKED + ": "
)
"""The start of Chromium's console line; ``sentence`` follows it."""


class Check(str, Enum):
    """The browser check that failed: a stable code the advice is keyed by."""

    ALLOW_ORIGIN_MISSING = "allow-origin-missing"
    ALLOW_ORIGIN_MULTIPLE = "allow-origin-multiple"
    ALLOW_ORIGIN_WILDCARD = "allow-origin-wildcard-with-credentials"
    ALLOW_ORIGIN_MISMATCH = "allow-origin-mismatch"
    PREFLIGHT_STATUS = "preflight-status"
    PREFLIGHT_REDIRECT = "preflight-redirect"
    ALLOW_CREDENTIALS = "allow-credentials"
    METHODS_UNPARSEABLE = "allow-methods-unparseable"
    METHOD_NOT_ALLOWED = "method-not-allowed"
    HEADERS_UNPARSEABLE = "allow-headers-unparseable"
    HEADER_NOT_ALLOWED = "header-not-allowed"
    ADDRESS_SPACE = "address-space"
    TOO_MANY_REDIRECTS = "too-many-redirects"


class Stage(str, Enum):
    """Which response a check ran on."""

    PREFLIGHT = "preflight"
    ACTUAL = "request"


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed check: what failed, on which response, the value and the status quoted.

    Firefox and WebKit quote the failing response's status code; Chromium does not.
    """

    check: Check
    stage: Stage
    value: str = ""
    status: int | None = None


_PREFLIGHT_FAILED = "Response to preflight request doesn't pass access control check: "
_VALID_VALUE = " Have the server send the header with a valid value."
# Chromium 156's sentences, after 'has been blocked by CORS policy: '.
CHROMIUM: dict[Check, str] = {
    Check.ALLOW_ORIGIN_MISSING: (
        "No 'Access-Control-Allow-Origin' header is present on the requested resource."
    ),
    Check.ALLOW_ORIGIN_MULTIPLE: (
        "The 'Access-Control-Allow-Origin' header contains multiple values '{value}', but only "
        "one is allowed." + _VALID_VALUE
    ),
    Check.ALLOW_ORIGIN_WILDCARD: (
        "The value of the 'Access-Control-Allow-Origin' header in the response must not be the "
        "wildcard '*' when the request's credentials mode is 'include'."
    ),
    Check.ALLOW_ORIGIN_MISMATCH: (
        "The 'Access-Control-Allow-Origin' header has a value '{value}' that is not equal to "
        "the supplied origin." + _VALID_VALUE
    ),
    Check.PREFLIGHT_STATUS: "It does not have HTTP ok status.",
    Check.PREFLIGHT_REDIRECT: "Redirect is not allowed for a preflight request.",
    Check.ALLOW_CREDENTIALS: (
        "The value of the 'Access-Control-Allow-Credentials' header in the response is "
        "'{value}' which must be 'true' when the request's credentials mode is 'include'."
    ),
    Check.METHODS_UNPARSEABLE: (
        "Cannot parse Access-Control-Allow-Methods response header field in preflight response."
    ),
    Check.METHOD_NOT_ALLOWED: (
        "Method {value} is not allowed by Access-Control-Allow-Methods in preflight response."
    ),
    Check.HEADERS_UNPARSEABLE: (
        "Cannot parse Access-Control-Allow-Headers response header field in preflight response."
    ),
    Check.HEADER_NOT_ALLOWED: (
        "Request header field {value} is not allowed by Access-Control-Allow-Headers in "
        "preflight response."
    ),
    Check.ADDRESS_SPACE: (
        "Permission was denied for this request to access the `{value}` address space."
    ),
    Check.TOO_MANY_REDIRECTS: "Failed to load resource: net::ERR_TOO_MANY_REDIRECTS",
}
# Checks Chromium words on their own even when they fail on a preflight.
_UNPREFIXED = frozenset(
    {
        Check.METHODS_UNPARSEABLE,
        Check.METHOD_NOT_ALLOWED,
        Check.HEADERS_UNPARSEABLE,
        Check.HEADER_NOT_ALLOWED,
        Check.ADDRESS_SPACE,
    }
)


def sentence(failure: Failure) -> str:
    """Chromium's text after 'has been blocked by CORS policy: ' for one failure."""
    text = CHROMIUM[failure.check].format(value=failure.value)
    if failure.stage is Stage.PREFLIGHT and failure.check not in _UNPREFIXED:
        return _PREFLIGHT_FAILED + text
    return text


def console_line(page_origin: str, url: str, first_url: str, failure: Failure) -> str:
    """The whole console line; a failure after a redirect names both URLs.

    Too many redirects is a network error, not a CORS one: Chromium logs only that.
    """
    if failure.check is Check.TOO_MANY_REDIRECTS:
        return CHROMIUM[failure.check]
    redirected = f" (redirected from '{first_url}')" if url != first_url else ""
    start = CHROMIUM_LINE.format(url=url, redirected=redirected, origin=page_origin)
    return start + sentence(failure)


@dataclass(frozen=True, slots=True)
class CorsRequest:
    """A cross-origin ``fetch()`` as the page makes it."""

    url: str
    origin: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    credentials: bool = False
    # Forbidden names an engine sends all the same (WebKit: user-agent, and preflights it).
    sent_anyway: frozenset[str] = frozenset()
    # Names a preflight must grant though the request no longer carries them (WebKit, after a
    # redirect turned the request into a GET without its body headers).
    still_asked: tuple[str, ...] = ()

    @property
    def fetch_method(self) -> str:
        """``fetch()`` upper-cases only the six standard methods; ``patch`` stays ``patch``."""
        upper = self.method.upper()
        return upper if upper in NORMALISED_METHODS else self.method

    @property
    def sent_headers(self) -> tuple[tuple[str, str], ...]:
        """The headers fetch() really sends: forbidden names dropped, but ``sent_anyway``."""
        return tuple(
            (n, v)
            for n, v in self.headers
            if not safelist.is_forbidden(n) or n.lower() in self.sent_anyway
        )

    @property
    def unsafe_header_names(self) -> tuple[str, ...]:
        """The names a preflight lists in Access-Control-Request-Headers: lower-case, sorted."""
        names = safelist.unsafe_names(self.headers, self.sent_anyway)
        return tuple(sorted({*names, *self.still_asked}))

    @property
    def needs_preflight(self) -> bool:
        """Any method but GET/HEAD/POST, or any header outside the safelist."""
        return self.fetch_method not in SIMPLE_METHODS or bool(self.unsafe_header_names)

    def blocked(self, failure: Failure) -> str:
        """The whole console line for a request blocked on its own URL."""
        return console_line(self.origin, self.url, self.url, failure)


@dataclass(frozen=True, slots=True)
class RawResponse:
    """A response as received: every header line kept, repeated names included."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def values(self, name: str) -> list[str]:
        """Every value of one header, in order."""
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]

    def combined(self, name: str) -> str | None:
        """The header as the browser's network stack sees it: repeated lines joined."""
        values = self.values(name)
        return ", ".join(values) if values else None

    @property
    def is_redirect(self) -> bool:
        """A redirect status with a Location: fetch follows it, a preflight may not."""
        return self.status in REDIRECT_STATUSES and bool(self.values("Location"))


def check_allow_origin(
    origin: str, credentials: bool, response: RawResponse, stage: Stage
) -> Failure | None:
    """Allow-Origin, as for both the preflight and the real response (and every redirect)."""
    allow_origin = response.combined("Access-Control-Allow-Origin")
    if allow_origin is None:
        return Failure(Check.ALLOW_ORIGIN_MISSING, stage)
    if len(response.values("Access-Control-Allow-Origin")) > 1 or "," in allow_origin:
        return Failure(Check.ALLOW_ORIGIN_MULTIPLE, stage, allow_origin)
    if allow_origin == "*":
        if credentials:
            return Failure(Check.ALLOW_ORIGIN_WILDCARD, stage, allow_origin)
    elif allow_origin != origin:
        return Failure(Check.ALLOW_ORIGIN_MISMATCH, stage, allow_origin)
    return None


def check_credentials(credentials: bool, response: RawResponse, stage: Stage) -> Failure | None:
    """With credentials, Allow-Credentials must be exactly ``true``."""
    if not credentials:
        return None
    value = response.combined("Access-Control-Allow-Credentials") or ""
    return None if value == "true" else Failure(Check.ALLOW_CREDENTIALS, stage, value)


def _token_list(value: str | None) -> list[str] | None:
    items = [item.strip(" \t") for item in (value or "").split(",")]
    items = [item for item in items if item]
    return items if all(is_token(item) for item in items) else None


def _bad_token(value: str | None) -> str:
    """The first item that is not a token: Firefox quotes it."""
    items = [item.strip(" \t") for item in (value or "").split(",")]
    return next((item for item in items if item and not is_token(item)), "")


def check_preflight(
    request: CorsRequest, response: RawResponse, origin: str | None = None
) -> Failure | None:
    """None when the preflight passes, else the failed check, in Chromium's order.

    ``origin`` is the Origin the preflight carried: ``null`` after a cross-origin redirect.
    """
    sent_origin = request.origin if origin is None else origin
    stage = Stage.PREFLIGHT
    if response.is_redirect:
        return Failure(Check.PREFLIGHT_REDIRECT, stage, status=response.status)
    failure = check_allow_origin(sent_origin, request.credentials, response, stage)
    if failure is None and not 200 <= response.status < 300:
        failure = Failure(Check.PREFLIGHT_STATUS, stage, str(response.status))
    return _with_status(
        failure
        or check_credentials(request.credentials, response, stage)
        or _check_methods(request, response)
        or _check_headers(request, response),
        response,
    )


def _with_status(failure: Failure | None, response: RawResponse) -> Failure | None:
    return None if failure is None else replace(failure, status=response.status)


def _check_methods(request: CorsRequest, response: RawResponse) -> Failure | None:
    listed = response.combined("Access-Control-Allow-Methods")
    methods = _token_list(listed)
    if methods is None:
        return Failure(Check.METHODS_UNPARSEABLE, Stage.PREFLIGHT, _bad_token(listed))
    method = request.fetch_method
    if method in methods or method in SIMPLE_METHODS:
        return None
    if "*" in methods and not request.credentials:
        return None
    return Failure(Check.METHOD_NOT_ALLOWED, Stage.PREFLIGHT, method)


def _check_headers(request: CorsRequest, response: RawResponse) -> Failure | None:
    """Names compare case-insensitively; ``*`` covers every name without credentials.

    Chromium 156 lets ``*`` cover ``authorization`` too, unlike the Fetch standard: see
    ``authorization_warning``.
    """
    listed = response.combined("Access-Control-Allow-Headers")
    allowed = _token_list(listed)
    if allowed is None:
        return Failure(Check.HEADERS_UNPARSEABLE, Stage.PREFLIGHT, _bad_token(listed))
    names = {name.lower() for name in allowed}
    wildcard = "*" in names and not request.credentials
    for name in request.unsafe_header_names:
        if name not in names and not wildcard:
            return Failure(Check.HEADER_NOT_ALLOWED, Stage.PREFLIGHT, name)
    return None


def cacheable_for_another_origin(response: RawResponse) -> bool:
    """Allow-Origin names one origin but Vary names neither Origin nor '*': a shared cache may
    hand this answer to a page on another origin, which the browser then blocks."""
    if response.combined("Access-Control-Allow-Origin") in (None, "*"):
        return False
    vary = [item.strip() for item in (response.combined("Vary") or "").lower().split(",")]
    return "origin" not in vary and "*" not in vary


def authorization_warning(request: CorsRequest, response: RawResponse) -> str | None:
    """A warning when only ``*`` lets ``authorization`` through: a Chromium leniency."""
    if request.credentials or "authorization" not in request.unsafe_header_names:
        return None
    listed = _token_list(response.combined("Access-Control-Allow-Headers")) or []
    names = {name.lower() for name in listed}
    if "*" not in names or "authorization" in names:
        return None
    return (
        "Only '*' in Access-Control-Allow-Headers lets authorization through. Chromium 156, "
        "Firefox and Safari accept that today, but the Fetch standard says '*' never covers "
        "authorization and Chromium's CorsNonWildcardRequestHeadersSupport feature blocks it: "
        "list authorization by name."
    )


def check_actual(
    request: CorsRequest, response: RawResponse, origin: str | None = None
) -> Failure | None:
    """None when the page may read the response (or follow the redirect), else the failure."""
    sent_origin = request.origin if origin is None else origin
    return _with_status(
        check_allow_origin(sent_origin, request.credentials, response, Stage.ACTUAL)
        or check_credentials(request.credentials, response, Stage.ACTUAL),
        response,
    )
