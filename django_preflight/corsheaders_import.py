"""Translate django-cors-headers' ``CORS_*`` settings into equivalent policies.

Where the old configuration was unsafe or cannot be expressed exactly, the translation does
the safe thing and says so in a note: an unanchored regex becomes a whole-string match, and
allowing every origin with credentials becomes 'any origin' without credentials.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from .engine.browser import SIMPLE_METHODS
from .engine.compiler import CompiledPolicy, Invalid, compile_policy, origin_warning
from .engine.limits import MAX_AGE_CHROMIUM_CAP, MAX_AGE_LIMIT
from .engine.problems import STAR_WITH_CREDENTIALS_CODES
from .engine.specs import OriginKind, OriginSpec
from .mapping import policy_spec

DEFAULT_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "user-agent",
    "x-csrftoken",
    "x-requested-with",
)
DEFAULT_METHODS = ("DELETE", "GET", "OPTIONS", "PATCH", "POST", "PUT")
SETTING_NAMES = (
    "CORS_ALLOWED_ORIGINS",
    "CORS_ORIGIN_WHITELIST",
    "CORS_ALLOWED_ORIGIN_REGEXES",
    "CORS_ORIGIN_REGEX_WHITELIST",
    "CORS_ALLOW_ALL_ORIGINS",
    "CORS_ORIGIN_ALLOW_ALL",
    "CORS_URLS_REGEX",
    "CORS_ALLOW_METHODS",
    "CORS_ALLOW_HEADERS",
    "CORS_EXPOSE_HEADERS",
    "CORS_PREFLIGHT_MAX_AGE",
    "CORS_ALLOW_CREDENTIALS",
    "CORS_ALLOW_PRIVATE_NETWORK",
)
_META = set(".^$*+?{}[]()|\\")
BROWSER_CHANGES = (
    "A refused preflight is answered 403 without any CORS header (django-cors-headers "
    "answered 200 and left the check to the browser), so Chromium's console names the missing "
    "Access-Control-Allow-Origin, not the method or header: read the reason in the admin's "
    "rejected preflights or with 'manage.py preflight explain'.",
    "A preflight for a method the policy does not list is refused, GET, HEAD and POST "
    "included (browsers let those through django-cors-headers' answer whatever it listed).",
)
"""What changes for browsers with any imported configuration; printed with every import."""


@dataclass
class PolicyDraft:
    """A policy to create: the model's field values and its origins as (kind, value)."""

    name: str
    fields: dict[str, Any]
    origins: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Translation:
    """The policies to create and every note about what could not be kept as it was."""

    policies: list[PolicyDraft]
    notes: list[str]


def translate(get: Callable[[str, Any], Any], name: str = "imported-cors-headers") -> Translation:
    """Read the settings through ``get(setting, default)`` and build the policies."""
    notes: list[str] = []
    credentials = bool(get("CORS_ALLOW_CREDENTIALS", False))
    allow_all = bool(get("CORS_ALLOW_ALL_ORIGINS", get("CORS_ORIGIN_ALLOW_ALL", False)))
    prefix = _prefix(get("CORS_URLS_REGEX", r"^.*$"), notes)
    fields: dict[str, Any] = {
        "path_prefix": prefix,
        "allow_credentials": credentials,
        "allowed_methods": _methods(get("CORS_ALLOW_METHODS", DEFAULT_METHODS), notes),
        "allowed_headers": _headers(get("CORS_ALLOW_HEADERS", DEFAULT_HEADERS), credentials, notes),
        "exposed_headers": [str(h) for h in get("CORS_EXPOSE_HEADERS", ())],
        "max_age": _max_age(get("CORS_PREFLIGHT_MAX_AGE", 86400), notes),
        "allow_private_network": bool(get("CORS_ALLOW_PRIVATE_NETWORK", False)),
        "description": "Imported from django-cors-headers settings.",
    }
    origins = _exact_origins(get("CORS_ALLOWED_ORIGINS", get("CORS_ORIGIN_WHITELIST", ())), notes)
    origins += _regexes(
        get("CORS_ALLOWED_ORIGIN_REGEXES", get("CORS_ORIGIN_REGEX_WHITELIST", ())), notes
    )
    notes.extend(BROWSER_CHANGES)
    policies = [PolicyDraft(name, fields, origins)]
    if allow_all:
        if credentials:
            notes.append(
                "CORS_ALLOW_ALL_ORIGINS with CORS_ALLOW_CREDENTIALS echoed every origin with "
                "credentials, so any website could read your users' data. Imported as 'any "
                f"origin' without credentials in policy '{name}-any-origin'; the listed origins "
                f"keep credentials in '{name}'."
            )
            open_fields = {**fields, "allow_credentials": False}
            policies.append(PolicyDraft(f"{name}-any-origin", open_fields, [("any", "")]))
        else:
            policies[0].origins.append(("any", ""))
    for draft in policies:
        _keep_valid(draft, notes)
    return Translation(policies, notes)


def _keep_valid(draft: PolicyDraft, notes: list[str]) -> None:
    """Compile the draft as it will be saved; leave out, with a note, each '*' and each entry
    it refuses.

    What remains is stored in canonical form. Other problems of the policy's own fields are left
    for ``create_drafts``, whose validated save refuses the whole import.
    """
    result = _compile(draft)
    if isinstance(result, Invalid):
        _leave_out_literal_stars(draft, result, notes)
        refused = {p.index: p for p in result.problems if p.index is not None}
        for index, problem in sorted(refused.items()):
            kind, value = draft.origins[index]
            label = "Regex" if kind == "regex" else "Origin"
            notes.append(f"{label} {value!r} was skipped: {problem.message}")
        draft.origins = [o for i, o in enumerate(draft.origins) if i not in refused]
        result = _compile(draft)
    if not isinstance(result, Invalid):
        draft.origins = [(o.kind.value, o.text) for o in result.origins]
    for kind, value in draft.origins:
        warning = origin_warning(OriginSpec(OriginKind(kind), value))
        if warning:
            notes.append(f"Regex {value!r} was kept, but: {warning}")


def _compile(draft: PolicyDraft) -> CompiledPolicy | Invalid:
    """The draft compiled as the policy it will be saved as."""
    from .models import CorsPolicy

    policy = CorsPolicy(name=draft.name, **draft.fields)
    return compile_policy(policy_spec(policy, _pairs(draft)))


def _leave_out_literal_stars(draft: PolicyDraft, result: Invalid, notes: list[str]) -> None:
    """'*' in a credentialed policy's list is a literal name to browsers, so it granted nothing
    with credentials under django-cors-headers either: leave it out of that list, with a note."""
    lists = sorted({p.field for p in result.problems if p.code in STAR_WITH_CREDENTIALS_CODES})
    for name in lists:
        draft.fields[name] = [value for value in draft.fields[name] if value != "*"]
        notes.append(
            f"'*' in {name.replace('_', ' ')} is a literal name on credentialed requests in "
            "browsers; it was left out: list the names you need."
        )


def _pairs(draft: PolicyDraft) -> list[tuple[str, str, bool]]:
    """The draft's entries as origin rows; an import never opts into a public suffix."""
    return [(kind, value, False) for kind, value in draft.origins]


def _methods(values: Any, notes: list[str]) -> list[str]:
    """The listed methods, with HEAD beside GET: browsers never preflighted a HEAD's method."""
    methods = [str(m) for m in values]
    if "GET" in methods and "HEAD" not in methods:
        methods.insert(methods.index("GET") + 1, "HEAD")
        notes.append(
            "HEAD was added beside GET: browsers accepted a preflighted HEAD (one with a custom "
            "header) from django-cors-headers even though its methods lacked HEAD, and "
            "django-preflight refuses a method the policy does not list."
        )
    missing = [m for m in sorted(SIMPLE_METHODS) if m not in methods and "*" not in methods]
    if missing:
        notes.append(
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not listed: a call "
            "with a custom header or a JSON body using "
            f"{'it' if len(missing) == 1 else 'them'} passed before and is refused now; add "
            f"{'it' if len(missing) == 1 else 'them'} to the policy if pages make such calls."
        )
    return methods


def _headers(values: Any, credentials: bool, notes: list[str]) -> list[str]:
    """The listed headers, lower-cased; with '*', Authorization by name as browsers allowed it."""
    headers = [str(h).lower() for h in values]
    if "*" in headers and not credentials and "authorization" not in headers:
        headers.append("authorization")
        notes.append(
            "'*' in CORS_ALLOW_HEADERS let browsers send Authorization, which the Fetch "
            "standard (and django-preflight) never covers by '*': authorization was listed by "
            "name so those calls keep working."
        )
    return headers


def _exact_origins(values: Any, notes: list[str]) -> list[tuple[str, str]]:
    origins: list[tuple[str, str]] = []
    for value in values:
        if value == "null":
            origins.append(("null", ""))
            notes.append(
                "'null' was allowed: kept as the explicit 'null origin' kind; any "
                "sandboxed page can send it."
            )
            continue
        origins.append(("exact", str(value)))
    return origins


def _regexes(values: Any, notes: list[str]) -> list[tuple[str, str]]:
    origins: list[tuple[str, str]] = []
    for value in values:
        text = value.pattern if isinstance(value, re.Pattern) else str(value)
        body = text[1:] if text.startswith("^") else text
        anchored_end = body.endswith("$") and not body.endswith("\\$")
        body = body[:-1] if anchored_end else body
        if not anchored_end and not body.endswith(".*"):
            notes.append(
                f"Regex {text!r} was matched only at its start, so longer origins such as "
                "'...evil.net' passed too; it is now matched against the whole origin."
            )
        origins.append(("regex", body))
    return origins


def _prefix(value: Any, notes: list[str]) -> str:
    text = value.pattern if isinstance(value, re.Pattern) else str(value)
    body = text[1:] if text.startswith("^") else text
    literal = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body) and body[index + 1] in "/.-_":
            literal.append(body[index + 1])
            index += 2
            continue
        if char in _META:
            break
        literal.append(char)
        index += 1
    rest = body[index:]
    prefix = "".join(literal) or "/"
    if not prefix.startswith("/"):
        prefix = "/"
    if rest not in ("", ".*", ".*$", "$") or not text.startswith("^"):
        notes.append(
            f"CORS_URLS_REGEX {text!r} cannot be expressed as a path prefix; the policy covers "
            f"'{prefix}', which may include more paths. Narrow it in the admin if needed."
        )
    elif rest == "$":
        notes.append(
            f"CORS_URLS_REGEX {text!r} matched one path only; the policy covers the prefix "
            f"'{prefix}' and everything below it."
        )
    return prefix


def _max_age(value: Any, notes: list[str]) -> int | None:
    seconds = int(value or 0)
    if seconds <= 0:
        return None
    if seconds > MAX_AGE_LIMIT:
        notes.append(f"CORS_PREFLIGHT_MAX_AGE {seconds} was lowered to {MAX_AGE_LIMIT}.")
        return MAX_AGE_LIMIT
    if seconds > MAX_AGE_CHROMIUM_CAP:
        notes.append(
            f"CORS_PREFLIGHT_MAX_AGE is {seconds}; Chromium caps it at {MAX_AGE_CHROMIUM_CAP} "
            "seconds, so a removed origin may keep its cached preflight that long."
        )
    return seconds


@transaction.atomic
def create_drafts(drafts: list[PolicyDraft]) -> None:
    """Create the policies through validated saves; all or nothing."""
    from .models import AllowedOrigin, CorsPolicy

    for draft in drafts:
        if CorsPolicy.objects.filter(name=draft.name).exists():
            raise ValidationError(f"A policy named '{draft.name}' exists already; pass --name.")
        policy = CorsPolicy(name=draft.name, **draft.fields)
        policy.full_clean()
        policy.save()
        for kind, value in draft.origins:
            origin = AllowedOrigin(policy=policy, kind=kind, value=value)
            origin.full_clean()
            origin.save()
