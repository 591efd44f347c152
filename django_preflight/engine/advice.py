"""What to tell an operator, keyed by stable codes: the one home of every cause and fix.

The codes come from structured results, never from message text: a refusal ``Reason`` of our
own engine (audit rows, ``preflight explain``, the admin's test page) or a ``Cause`` chosen from
the browser check that failed on a live server (``preflight probe``). Console sentences are not
here: they live with the browser model in ``browser``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .decision import Reason
from .limits import MAX_REDIRECTS


@dataclass(frozen=True, slots=True)
class Advice:
    """One cause and one fix, worded for whoever can change the server or the page."""

    code: str
    cause: str
    fix: str


class Cause(str, Enum):
    """Why a browser blocked a call to some server, as far as the responses show."""

    PREFLIGHT_REDIRECTED = "preflight-redirected"
    REDIRECT_RESPONSE = "redirect-response-refused"
    NULL_ORIGIN_AFTER_REDIRECT = "null-origin-after-redirect"
    REDIRECT_TARGET_WITHOUT_CORS = "redirect-target-without-cors"
    TOO_MANY_REDIRECTS = "too-many-redirects"
    ORIGIN_TWICE = "origin-twice"
    WILDCARD_WITH_CREDENTIALS = "wildcard-with-credentials"
    ORIGIN_MISMATCH = "origin-mismatch"
    PREFLIGHT_STATUS = "preflight-status"
    CREDENTIALS_NOT_TRUE = "credentials-not-true"
    METHODS_UNPARSEABLE = "methods-unparseable"
    METHOD_CASE = "method-case"
    METHOD_WILDCARD_WITH_CREDENTIALS = "method-wildcard-with-credentials"
    METHOD_NOT_LISTED = "method-not-listed"
    HEADERS_UNPARSEABLE = "headers-unparseable"
    HEADER_WILDCARD_WITH_CREDENTIALS = "header-wildcard-with-credentials"
    HEADER_NOT_LISTED = "header-not-listed"
    ADDRESS_SPACE = "address-space"
    PREFLIGHT_AUTH = "preflight-auth"
    PREFLIGHT_NO_ROUTE = "preflight-no-route"
    SERVER_ERROR = "server-error"
    GRANTS_WITHOUT_ORIGIN = "grants-without-origin"
    CORS_LAYER_REFUSED = "cors-layer-refused"
    HTML_PAGE = "html-page"
    NO_CORS_LAYER = "no-cors-layer"
    ERROR_WITHOUT_CORS = "error-without-cors"
    REQUEST_WITHOUT_CORS = "request-without-cors"
    SIMPLE_WITHOUT_CORS = "simple-without-cors"
    POLICY_WITHOUT_CREDENTIALS = "policy-without-credentials"
    ANY_ORIGIN_WITH_CREDENTIALS = "any-origin-with-credentials"


_ON_REDIRECTS = (
    "Call the final URL from the page, or answer preflights before anything redirects "
    "(trailing slash, HTTPS, host or login redirects)."
)
_TEXT: dict[str, tuple[str, str]] = {
    # Our own engine's refusals (the audit's reasons).
    Reason.NO_POLICY.value: (
        "No enabled policy covers this path.",
        "Add or enable a policy whose path prefix covers the path.",
    ),
    Reason.ORIGIN_NOT_ALLOWED.value: (
        "The policy covering this path does not allow this origin.",
        "Add the origin {origin} to {policy} (exact, subdomain wildcard or regex).",
    ),
    Reason.METHOD_NOT_ALLOWED.value: (
        "The origin is allowed but the requested method {detail} is not.",
        "Add {detail} to the allowed methods of {policy} (methods are case-sensitive).",
    ),
    Reason.HEADER_NOT_ALLOWED.value: (
        "The origin is allowed but the request header '{detail}' is not.",
        "Add '{detail}' to the allowed headers of {policy} ('*' never covers authorization).",
    ),
    Reason.MALFORMED_REQUEST.value: (
        "The preflight's {detail} value is not a valid list of HTTP tokens.",
        "A browser never sends this; look for a proxy or a script forging the request.",
    ),
    Reason.PRIVATE_NETWORK_NOT_ALLOWED.value: (
        "The page asked for private network access and the policy does not allow it.",
        "Tick 'allow private network' on {policy} if the page may reach this server.",
    ),
    Reason.REFUSED_ON_SERVER.value: (
        "The browser sent this write on a preflight answer it had cached (up to Max-Age "
        "seconds) before the origin lost access; the server refused it before the view ran.",
        "Nothing, if the origin was removed on purpose. Otherwise add {origin} back to {policy}, "
        "or untick 'enforce on the server' on it to let such writes through.",
    ),
    Cause.POLICY_WITHOUT_CREDENTIALS.value: (
        "The page sends credentials and {policy} does not allow them, so the answer has no "
        "Access-Control-Allow-Credentials: true.",
        "Tick 'allow credentials' on {policy}, or call fetch() with credentials 'omit'.",
    ),
    Cause.ANY_ORIGIN_WITH_CREDENTIALS.value: (
        "The {policy} allows any origin and answers '*', which a credentialed call never accepts.",
        "Add {origin} as an exact origin to a policy that allows credentials, or call fetch() "
        "with credentials 'omit'.",
    ),
    # Any server, judged from its responses.
    Cause.PREFLIGHT_REDIRECTED.value: (
        "The preflight was answered {status} with a redirect to {location}; a browser never "
        "follows a preflight's redirect.",
        _ON_REDIRECTS,
    ),
    Cause.REDIRECT_RESPONSE.value: (
        "The {status} redirect to {location} fails the CORS check itself, so the browser does "
        "not follow it.",
        "Send a valid Access-Control-Allow-Origin on the redirect response too, or call "
        "{location} directly.",
    ),
    Cause.NULL_ORIGIN_AFTER_REDIRECT.value: (
        "After a redirect to another origin the browser sends Origin: null, and {url} does not "
        "allow null.",
        "Call {url} directly from the page, so its allow-list sees the page's origin; do not "
        "allow the origin 'null' (any sandboxed page sends it).",
    ),
    Cause.REDIRECT_TARGET_WITHOUT_CORS.value: (
        "The request was redirected to {url}, which answers without "
        "Access-Control-Allow-Origin (the redirect itself carried it).",
        "Call {url} directly from the page, or add CORS headers to it (a login page or another "
        "app behind the redirect is the usual culprit).",
    ),
    Cause.TOO_MANY_REDIRECTS.value: (
        f"The redirects go on for more than {MAX_REDIRECTS} hops (a loop).",
        "Fix the redirect loop at {url}; compare the Location headers above.",
    ),
    Cause.ORIGIN_TWICE.value: (
        "Access-Control-Allow-Origin is sent more than once ('{value}'): two layers add CORS "
        "headers, for example a proxy and the application.",
        "Let only one layer add CORS headers (remove the proxy's add_header, or the app's).",
    ),
    Cause.WILDCARD_WITH_CREDENTIALS.value: (
        "The {kind} answers Access-Control-Allow-Origin: * to a call with credentials.",
        "Answer with the calling origin, taken from an allowlist, and "
        "Access-Control-Allow-Credentials: true; or keep '*' and make the API public, without "
        "credentials.",
    ),
    Cause.ORIGIN_MISMATCH.value: (
        "The {kind} allows another origin ('{value}'): a hard-coded value, or a shared cache "
        "serving an answer meant for another origin.",
        "Echo exactly {origin} (scheme, host and port, no path or slash) and send Vary: Origin.",
    ),
    Cause.PREFLIGHT_STATUS.value: (
        "The preflight carries CORS headers but status {status}: something below the CORS "
        "layer (routing, authentication, an error) answered it.",
        "Answer the preflight with 204 (or 200) from the CORS layer, before authentication "
        "and routing.",
    ),
    Cause.CREDENTIALS_NOT_TRUE.value: (
        "The page sends credentials and the {kind} has Access-Control-Allow-Credentials '{value}'.",
        "Send Access-Control-Allow-Credentials: true on the {kind}, or call fetch() with "
        "credentials 'omit'.",
    ),
    Cause.METHODS_UNPARSEABLE.value: (
        "Access-Control-Allow-Methods ('{value}') is not a comma-separated list of methods.",
        "Send the methods separated by commas, for example 'GET, POST, PUT'.",
    ),
    Cause.METHOD_CASE.value: (
        "The page sends '{method}': fetch() upper-cases only DELETE, GET, HEAD, OPTIONS, POST "
        "and PUT, and methods compare byte for byte.",
        "Write '{upper}' in the page's fetch() call.",
    ),
    Cause.METHOD_WILDCARD_WITH_CREDENTIALS.value: (
        "With credentials, '*' in Access-Control-Allow-Methods is a method named '*', not a "
        "wildcard.",
        "List {method} by name in Access-Control-Allow-Methods.",
    ),
    Cause.METHOD_NOT_LISTED.value: (
        "The preflight's Access-Control-Allow-Methods ('{value}') does not list {method}.",
        "Add {method} to Access-Control-Allow-Methods.",
    ),
    Cause.HEADERS_UNPARSEABLE.value: (
        "Access-Control-Allow-Headers ('{value}') is not a comma-separated list of names.",
        "Send the header names separated by commas, for example 'content-type, x-api-key'.",
    ),
    Cause.HEADER_WILDCARD_WITH_CREDENTIALS.value: (
        "With credentials, '*' in Access-Control-Allow-Headers is a header named '*', not a "
        "wildcard.",
        "List {header} by name in Access-Control-Allow-Headers.",
    ),
    Cause.HEADER_NOT_LISTED.value: (
        "The preflight's Access-Control-Allow-Headers ('{value}') does not list {header}.",
        "Add {header} to Access-Control-Allow-Headers, or stop sending it from the page.",
    ),
    Cause.ADDRESS_SPACE.value: (
        "The page is in the {page} address space and {url} is in the {target} one: Chromium "
        "asks the user's permission for that (local network access), and without it blocks "
        "the call before sending anything.",
        "Serve the page from an address at least as private as the API's, or have users grant "
        "the local network permission; no server header changes this.",
    ),
    Cause.PREFLIGHT_AUTH.value: (
        "The preflight was answered {status} without CORS headers: authentication or a "
        "permission check answered it instead of the CORS layer.",
        "Let the CORS layer answer preflights before authentication: preflights never carry "
        "credentials.",
    ),
    Cause.PREFLIGHT_NO_ROUTE.value: (
        "The preflight was answered {status} without CORS headers: no route or view handles "
        "OPTIONS here and no CORS layer answered first.",
        "Put a CORS layer in front of routing that answers OPTIONS for this path.",
    ),
    Cause.SERVER_ERROR.value: (
        "The server failed with {status} on the {kind} and the error carries no CORS headers.",
        "Fix the error, and have the CORS layer add its headers to error responses too.",
    ),
    Cause.GRANTS_WITHOUT_ORIGIN.value: (
        "The preflight's answer lists methods or headers but no Access-Control-Allow-Origin: "
        "the CORS layer is there and does not allow this origin.",
        "Add {origin} to the allowed origins of the CORS layer for this path.",
    ),
    Cause.CORS_LAYER_REFUSED.value: (
        "A CORS layer answered the {kind} (it varies on Origin) without Access-Control-Allow-"
        "Origin: this origin is not in its allow-list.",
        "Add {origin} to that layer's allowed origins (django-cors-headers: "
        "CORS_ALLOWED_ORIGINS; django-preflight: the policy, see `preflight explain`).",
    ),
    Cause.HTML_PAGE.value: (
        "An HTML page answered the {kind} with status {status} and no CORS headers: an error "
        "page or a single-page-app fallback, not the API.",
        "Check the URL; route it to the API and put a CORS layer in front of it.",
    ),
    Cause.NO_CORS_LAYER.value: (
        "The preflight was answered {status} with no CORS header at all: no CORS layer covers "
        "this path.",
        "Add a CORS layer (django-preflight's middleware, first in MIDDLEWARE) that answers "
        "preflights for this path.",
    ),
    Cause.ERROR_WITHOUT_CORS.value: (
        "The preflight was allowed, and the server ran the request, but its {status} answer "
        "carries no CORS headers: the layer adding them skips error responses.",
        "Add CORS headers to error responses too (nginx: add_header ... always; Django: the "
        "CORS middleware above anything that answers errors).",
    ),
    Cause.REQUEST_WITHOUT_CORS.value: (
        "The preflight was allowed, and the server ran the request, but its answer carries no "
        "Access-Control-Allow-Origin: the preflight and the request are answered by different "
        "layers.",
        "Have the layer that answers preflights add Access-Control-Allow-Origin to every "
        "response of this path.",
    ),
    Cause.SIMPLE_WITHOUT_CORS.value: (
        "The response carries no Access-Control-Allow-Origin; the call needed no preflight, so "
        "the server ran it: the origin is not allowed here, or no CORS layer covers the path.",
        "Allow {origin} for this path in the CORS layer.",
    ),
}


def advise(code: str, **params: str) -> Advice:
    """The cause and fix for one code, with its parameters filled in."""
    cause, fix = _TEXT[code]
    return Advice(code, cause.format(**params), fix.format(**params))


def fix_for(cause: Cause) -> str:
    """The fix of a cause that needs no parameters, for a report that states it on its own
    (the scanner's findings); ValueError for one whose fix names the call's values."""
    fix = _TEXT[cause.value][1]
    if "{" in fix:
        raise ValueError(f"the fix for {cause.value} names the call's values")
    return fix


# The one-click changes the audit offers, as its confirmation page words them.
_CHANGES = {
    "origins": "Add the exact origin {value} to policy “{policy}”.",
    "allowed_methods": "Add the method {value} to policy “{policy}”.",
    "allowed_headers": "Add the request header {value} to policy “{policy}”.",
    "allow_private_network": "Allow private network access on policy “{policy}”.",
}
NO_CHANGE = {
    "overflow": "An overflow row has no single origin or path to allow.",
    "no-policy": "No policy covers {path}: create one whose path prefix covers it.",
    "bad-origin": "{origin!r} cannot be allowed: {problem}",
    "malformed": "A malformed preflight is not something a policy should allow.",
}


def change(field: str, value: str, policy: str) -> str:
    """One policy change the audit can make, in one line."""
    return _CHANGES[field].format(value=value, policy=policy)


def no_change(code: str, **params: str) -> str:
    """Why an audit row cannot be fixed by changing a policy."""
    return NO_CHANGE[code].format(**params)


def refusal(reason: Reason | str, detail: str, origin: str, policy: str | None) -> Advice:
    """The advice for one of our engine's refusals."""
    name = f"policy '{policy}'" if policy else "the policy"
    return advise(Reason(reason).value, detail=detail, origin=origin, policy=name)
