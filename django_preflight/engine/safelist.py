"""Which request headers a page may send without a preflight, as Chromium 156 decides it.

One place for the Fetch standard's CORS-safelisted request-header rules, shared by the browser
model (probe, explain) and the audit: the byte rules per header, the 128-byte cap per value,
the 1,024-byte cap over all safelisted values, and the headers a script cannot set at all.
"""

from __future__ import annotations

import re

MAX_VALUE_BYTES = 128
MAX_TOTAL_BYTES = 1024
SAFE_CONTENT_TYPES = frozenset(
    {"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}
)
# Bytes the standard calls CORS-unsafe request-header bytes: controls but tab, DEL, and these.
_UNSAFE_BYTES = frozenset(b'"():<>?@[\\]{}\x7f') | (frozenset(range(0x20)) - {0x09})
_LANGUAGE = re.compile(r"[0-9A-Za-z *,\-.;=]*")
_SIMPLE_RANGE = re.compile(r"bytes=([0-9]+)-([0-9]*)")
# Names fetch() drops without a word: never sent, never preflighted. Chromium adds User-Agent.
FORBIDDEN = frozenset(
    {
        "accept-charset",
        "accept-encoding",
        "access-control-request-headers",
        "access-control-request-method",
        "access-control-request-private-network",
        "connection",
        "content-length",
        "cookie",
        "cookie2",
        "date",
        "dnt",
        "expect",
        "host",
        "keep-alive",
        "origin",
        "referer",
        "set-cookie",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "user-agent",
        "via",
    }
)
FORBIDDEN_PREFIXES = ("proxy-", "sec-")


def is_forbidden(name: str) -> bool:
    """True for a header fetch() silently leaves out of the request."""
    lower = name.lower()
    return lower in FORBIDDEN or lower.startswith(FORBIDDEN_PREFIXES)


def _has_unsafe_byte(value: str) -> bool:
    return any(byte in _UNSAFE_BYTES for byte in value.encode())


def _safe_range(value: str) -> bool:
    """``bytes=<start>-[<end>]``, one range, start given, start <= end."""
    match = _SIMPLE_RANGE.fullmatch(value)
    if match is None:
        return False
    start, end = match.groups()
    return not end or int(start) <= int(end)


def _safe_content_type(value: str) -> bool:
    if _has_unsafe_byte(value):
        return False
    essence = value.split(";", 1)[0].strip(" \t").lower()
    return essence in SAFE_CONTENT_TYPES


def is_safelisted(name: str, value: str) -> bool:
    """One header (repeated values already joined with ', ') needs no preflight."""
    lower = name.lower()
    if len(value.encode()) > MAX_VALUE_BYTES:
        return False
    if lower == "accept":
        return not _has_unsafe_byte(value)
    if lower in ("accept-language", "content-language"):
        return _LANGUAGE.fullmatch(value) is not None
    if lower == "content-type":
        return _safe_content_type(value)
    if lower == "range":
        return _safe_range(value)
    return False


def joined(
    headers: tuple[tuple[str, str], ...], sent_anyway: frozenset[str] = frozenset()
) -> dict[str, str]:
    """The headers fetch() sends, by lower-case name: forbidden ones dropped (but those of
    ``sent_anyway``, which an engine sends), repeats joined."""
    result: dict[str, str] = {}
    for name, value in headers:
        if is_forbidden(name) and name.lower() not in sent_anyway:
            continue
        lower = name.lower()
        result[lower] = f"{result[lower]}, {value}" if lower in result else value
    return result


def unsafe_names(
    headers: tuple[tuple[str, str], ...], sent_anyway: frozenset[str] = frozenset()
) -> tuple[str, ...]:
    """The names a preflight lists in Access-Control-Request-Headers: lower-case, sorted.

    When the safelisted values add up to more than 1,024 bytes, they all need the preflight.
    """
    sent = joined(headers, sent_anyway)
    safe = {name for name, value in sent.items() if is_safelisted(name, value)}
    if sum(len(sent[name].encode()) for name in safe) > MAX_TOTAL_BYTES:
        safe = set()
    return tuple(sorted(set(sent) - safe))
