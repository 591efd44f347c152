"""Host names as browsers serialise them in an origin: UTS #46 non-transitional processing.

Chromium (like the URL standard) maps a typed host with UTS #46 in its non-transitional
form: sharp s, final sigma and the zero-width joiners are kept and encoded in punycode, never
replaced by ``ss``, a medial sigma or nothing as IDNA 2003 (Python's ``"idna"`` codec) does.
Storing the form the browser sends is what makes an exact entry a dictionary lookup and a
wildcard a label walk.
"""

from __future__ import annotations

import re

import idna

MAX_HOST_LENGTH = 253
"""Octets of a host name without its trailing dot (RFC 1035), as the IDNA library counts."""

_PLAIN_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
PLAIN_HOST = rf"{_PLAIN_LABEL}(?:\.{_PLAIN_LABEL})*"
"""Labels of lower-case letters, digits and inner hyphens, at most 63 long, as a pattern other
patterns embed. With no ``--`` anywhere and at most 253 characters in all, such a host is
*plain*: UTS #46 maps it to itself (see ``is_plain_host``)."""
_PLAIN_HOST = re.compile(PLAIN_HOST)


class HostError(ValueError):
    """A host name that browsers would not send as typed; the message is for a person."""


def is_plain_host(host: str) -> bool:
    """True when the IDNA library would return ``host`` unchanged, known without running it.

    For such a host the library's whole work is a no-op: the mapping only lower-cases ASCII,
    every character is PVALID, no label starts or ends with a hyphen or is longer than 63, the
    whole is within 253, an ASCII label holds no right-to-left character for the Bidi rule, and
    without ``--`` no label is an encoded ``xn--`` one that must be decoded and checked (nor has
    the hyphens in its third and fourth places that IDNA 2008 reserves). The tests hold this
    against the library on a corpus of edge cases.
    """
    return (
        len(host) <= MAX_HOST_LENGTH
        and "--" not in host
        and _PLAIN_HOST.fullmatch(host) is not None
    )


def to_ascii(host: str) -> str:
    """The host in the ASCII form an origin carries (lower case, punycode), or HostError.

    Upper case, full-width letters and the ideographic and full-width full stops are mapped as
    the browser maps them, so what a person types from an address bar is stored as sent. A
    plain host is its own form and skips the library.
    """
    if is_plain_host(host):
        return host
    return uts46_to_ascii(host)


def uts46_to_ascii(host: str) -> str:
    """``to_ascii`` without its shortcut: always through the IDNA library."""
    try:
        encoded = idna.encode(host, uts46=True, transitional=False, std3_rules=True)
    except idna.IDNAError as exc:
        raise HostError(f"'{host}' is not a valid host name: {exc}.") from exc
    return encoded.decode("ascii")
