"""Checking a call typed by a person (``preflight explain``, the admin's "Test a request").

Advice about a call no browser can make is worse than none: a typo in the origin would be
diagnosed as "origin not allowed" and sent to the admin to allow. Each field is checked in the
browser's terms first, and every problem is reported at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from .limits import MAX_URL_LENGTH
from .origins import OriginError, normalise_origin, parse_request_origin
from .tokens import token_problem


def call_problems(
    url: str, origin: str, method: str, header_names: Iterable[str] = ()
) -> dict[str, str]:
    """One sentence per malformed field (``url``, ``origin``, ``method``, ``headers``)."""
    problems = {
        "url": _url_problem(url),
        "origin": _origin_problem(origin),
        "method": _name_problem(method, "method"),
        "headers": next(
            (p for p in (_name_problem(n, "header name") for n in header_names) if p), None
        ),
    }
    return {field: problem for field, problem in problems.items() if problem}


def _origin_problem(origin: str) -> str | None:
    if origin == "null" or parse_request_origin(origin) is not None:
        return None
    try:
        browser_form = normalise_origin(origin)
    except OriginError as exc:
        return f"'{origin}' is not an origin a browser sends: {exc}"
    return (
        f"'{origin}' is not an origin a browser sends; the browser would send {browser_form} "
        "(lower case, punycode, no default port, no path)."
    )


def _name_problem(name: str, what: str) -> str | None:
    problem = token_problem(name)
    return f"'{name}' is not a valid {what}: it {problem}." if problem else None


def _url_problem(url: str) -> str | None:
    if len(url) > MAX_URL_LENGTH:
        return f"A URL is at most {MAX_URL_LENGTH} characters long."
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        return "A URL cannot contain spaces or control characters; percent-encode them."
    if url.startswith("/") and not url.startswith("//"):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        return f"'{url}' is not a valid URL: {exc}."
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return (
            f"'{url}' is neither a path starting with '/' nor an http(s) URL such as "
            "https://api.example.com/api/notes/."
        )
    return None
