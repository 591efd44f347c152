"""Refusal reasons in the words an operator needs: what the browser said and what to change."""

from __future__ import annotations

from .browser import NO_ALLOW_ORIGIN, PREFLIGHT_FAILED
from .decision import Reason

_CAUSES = {
    Reason.NO_POLICY: (
        "No enabled policy covers this path.",
        "Add or enable a policy whose path prefix covers the path.",
    ),
    Reason.ORIGIN_NOT_ALLOWED: (
        "The policy covering this path does not allow this origin.",
        "Add the origin to the policy (exact, subdomain wildcard or regex).",
    ),
    Reason.METHOD_NOT_ALLOWED: (
        "The origin is allowed but the requested method {detail} is not.",
        "Add {detail} to the policy's allowed methods (methods are case-sensitive).",
    ),
    Reason.HEADER_NOT_ALLOWED: (
        "The origin is allowed but the request header '{detail}' is not.",
        "Add '{detail}' to the policy's allowed headers ('*' never covers authorization).",
    ),
    Reason.MALFORMED_REQUEST: (
        "The preflight's {detail} value is not a valid list of HTTP tokens.",
        "A browser never sends this; look for a proxy or a script forging the request.",
    ),
    Reason.PRIVATE_NETWORK_NOT_ALLOWED: (
        "The page asked for private network access and the policy does not allow it.",
        "Tick 'allow private network' on the policy if the page may reach this server.",
    ),
}


def console_message(reason: Reason | str) -> str:
    """The text Chromium prints after 'has been blocked by CORS policy: ' for this refusal.

    A refused preflight carries no grant header at all, so whatever the reason, the browser
    reports the missing Allow-Origin; the reason itself is only known on the server.
    """
    del reason
    return PREFLIGHT_FAILED + NO_ALLOW_ORIGIN


def cause(reason: Reason | str, detail: str = "") -> str:
    """One sentence on why the server refused."""
    return _CAUSES[Reason(reason)][0].format(detail=detail)


def fix(reason: Reason | str, detail: str = "") -> str:
    """One sentence on what to change to allow it, if it should be allowed."""
    return _CAUSES[Reason(reason)][1].format(detail=detail)
