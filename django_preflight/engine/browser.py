"""What a browser checks: the Fetch standard's CORS checks, in Chromium's order and words.

Used to judge responses the way the browser will, both our own (``preflight explain``) and any
server's (``preflight probe``). Messages are the text Chromium prints after
``has been blocked by CORS policy: ``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .tokens import is_token

SIMPLE_METHODS = frozenset({"GET", "HEAD", "POST"})
SAFE_CONTENT_TYPES = frozenset(
    {"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}
)
SAFELISTED_HEADERS = frozenset({"accept", "accept-language", "content-language", "content-type"})
NORMALISED_METHODS = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"})
PREFLIGHT_FAILED = "Response to preflight request doesn't pass access control check: "
NO_ALLOW_ORIGIN = "No 'Access-Control-Allow-Origin' header is present on the requested resource."
VALID_VALUE = " Have the server send the header with a valid value."


@dataclass(frozen=True, slots=True)
class CorsRequest:
    """A cross-origin ``fetch()`` as the page makes it."""

    url: str
    origin: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    credentials: bool = False

    @property
    def fetch_method(self) -> str:
        """``fetch()`` upper-cases only the six standard methods; ``patch`` stays ``patch``."""
        upper = self.method.upper()
        return upper if upper in NORMALISED_METHODS else self.method

    @property
    def unsafe_header_names(self) -> tuple[str, ...]:
        """The names a preflight lists in Access-Control-Request-Headers: lower-case, sorted."""
        return tuple(sorted({n.lower() for n, v in self.headers if not _safelisted(n, v)}))

    @property
    def needs_preflight(self) -> bool:
        """Any method but GET/HEAD/POST, or any header outside the safelist."""
        return self.fetch_method not in SIMPLE_METHODS or bool(self.unsafe_header_names)

    def blocked(self, message: str) -> str:
        """The whole console line for a blocked request."""
        return (
            f"Access to fetch at '{self.url}' from origin '{self.origin}' has been blocked by "
            f"CORS policy: {message}"
        )


@dataclass(frozen=True, slots=True)
class RawResponse:
    """A response as received: every header line kept, repeated names included."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()

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
        """3xx with a Location: fetch follows it, a preflight may not."""
        return 300 <= self.status < 400 and bool(self.values("Location"))


def _safelisted(name: str, value: str) -> bool:
    lower = name.lower()
    if lower not in SAFELISTED_HEADERS or len(value.encode()) > 128:
        return False
    if lower == "content-type":
        return value.split(";")[0].strip().lower() in SAFE_CONTENT_TYPES
    return True


def check_allow_origin(request: CorsRequest, response: RawResponse) -> str | None:
    """Allow-Origin and Allow-Credentials, as for both the preflight and the real response."""
    allow_origin = response.combined("Access-Control-Allow-Origin")
    if allow_origin is None:
        return NO_ALLOW_ORIGIN
    if len(response.values("Access-Control-Allow-Origin")) > 1 or "," in allow_origin:
        return (
            "The 'Access-Control-Allow-Origin' header contains multiple values "
            f"'{allow_origin}', but only one is allowed." + VALID_VALUE
        )
    if allow_origin == "*":
        if request.credentials:
            return (
                "The value of the 'Access-Control-Allow-Origin' header in the response must "
                "not be the wildcard '*' when the request's credentials mode is 'include'."
            )
    elif allow_origin != request.origin:
        return (
            f"The 'Access-Control-Allow-Origin' header has a value '{allow_origin}' that is "
            "not equal to the supplied origin." + VALID_VALUE
        )
    return None


def check_credentials(request: CorsRequest, response: RawResponse) -> str | None:
    """With credentials, Allow-Credentials must be exactly ``true``."""
    if not request.credentials:
        return None
    value = response.combined("Access-Control-Allow-Credentials") or ""
    if value == "true":
        return None
    return (
        f"The value of the 'Access-Control-Allow-Credentials' header in the response is "
        f"'{value}' which must be 'true' when the request's credentials mode is 'include'."
    )


def _token_list(value: str | None) -> list[str] | None:
    items = [item.strip(" \t") for item in (value or "").split(",")]
    items = [item for item in items if item]
    return items if all(is_token(item) for item in items) else None


def check_preflight(request: CorsRequest, response: RawResponse) -> str | None:
    """None when the preflight passes, else Chromium's message.

    Redirect, Allow-Origin, status and credentials problems carry the preflight prefix; method
    and header problems are worded on their own, as Chromium prints them.
    """
    if response.is_redirect:
        return PREFLIGHT_FAILED + "Redirect is not allowed for a preflight request."
    problem = check_allow_origin(request, response)
    if problem is None and not 200 <= response.status < 300:
        problem = "It does not have HTTP ok status."
    if problem is None:
        problem = check_credentials(request, response)
    if problem is not None:
        return PREFLIGHT_FAILED + problem
    return _check_methods(request, response) or _check_headers(request, response)


def _check_methods(request: CorsRequest, response: RawResponse) -> str | None:
    methods = _token_list(response.combined("Access-Control-Allow-Methods"))
    if methods is None:
        return (
            "Cannot parse Access-Control-Allow-Methods response header field in preflight response."
        )
    method = request.fetch_method
    if method in methods or method in SIMPLE_METHODS:
        return None
    if "*" in methods and not request.credentials:
        return None
    return f"Method {method} is not allowed by Access-Control-Allow-Methods in preflight response."


def _check_headers(request: CorsRequest, response: RawResponse) -> str | None:
    allowed = _token_list(response.combined("Access-Control-Allow-Headers"))
    if allowed is None:
        return (
            "Cannot parse Access-Control-Allow-Headers response header field in preflight response."
        )
    names = {name.lower() for name in allowed}
    wildcard = "*" in names and not request.credentials
    for name in request.unsafe_header_names:
        if name in names or (wildcard and name != "authorization"):
            continue
        return (
            f"Request header field {name} is not allowed by Access-Control-Allow-Headers in "
            "preflight response."
        )
    return None


def check_actual(request: CorsRequest, response: RawResponse) -> str | None:
    """None when the page may read the real response, else Chromium's message."""
    return check_allow_origin(request, response) or check_credentials(request, response)
