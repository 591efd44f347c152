"""HTTP tokens: method names, header names and the request-headers list of a preflight."""

from __future__ import annotations

import re

from .limits import MAX_TOKEN_LENGTH

_TOKEN = re.compile(rf"[!#$%&'*+\-.^_`|~0-9A-Za-z]{{1,{MAX_TOKEN_LENGTH}}}")
_OWS = " \t"


def is_token(value: str) -> bool:
    """True for an RFC 9110 token of sane length: the only shape a method or header name has."""
    return _TOKEN.fullmatch(value) is not None


def token_problem(value: str) -> str | None:
    """Why ``value`` cannot be a method or header name, in a few words; None for a token.

    A list entry with a space inside (``PO ST``) is refused rather than split, since the
    person meant one name and typed something else.
    """
    if not value:
        return "is empty"
    if len(value) > MAX_TOKEN_LENGTH:
        return f"is longer than {MAX_TOKEN_LENGTH} characters"
    if is_token(value):
        return None
    if any(ch.isspace() for ch in value):
        return "contains whitespace"
    bad = next(ch for ch in value if not _TOKEN.fullmatch(ch))
    return f"contains {bad!r}, which a name cannot"


def parse_requested_headers(raw: str, limit: int) -> tuple[str, ...] | None:
    """Split ``Access-Control-Request-Headers`` into lower-case names, or None if malformed.

    Accepts what proxies do to the value (several header lines joined by commas, spaces or
    tabs around items, empty items) and refuses anything that is not a token, or more than
    ``limit`` names, so an oversized or hostile value costs little and decides nothing.
    """
    if len(raw) > limit * (MAX_TOKEN_LENGTH + 2):
        return None
    names: list[str] = []
    for item in raw.split(","):
        name = item.strip(_OWS)
        if not name:
            continue
        if not _TOKEN.fullmatch(name):
            return None
        names.append(name.lower())
        if len(names) > limit:
            return None
    return tuple(names)
