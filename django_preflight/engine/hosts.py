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

# Lower-case letters, digits and inner hyphens, no "--" in the third and fourth places (which
# would mark an encoded label): UTS #46 maps such a host to itself, so it skips the library.
_PLAIN_LABEL = r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)"
_PLAIN_HOST = re.compile(rf"(?!(?:[^.]*\.)*..--){_PLAIN_LABEL}(?:\.{_PLAIN_LABEL})*")


class HostError(ValueError):
    """A host name that browsers would not send as typed; the message is for a person."""


def to_ascii(host: str) -> str:
    """The host in the ASCII form an origin carries (lower case, punycode), or HostError.

    Upper case, full-width letters and the ideographic and full-width full stops are mapped as
    the browser maps them, so what a person types from an address bar is stored as sent.
    """
    if len(host) <= 253 and _PLAIN_HOST.fullmatch(host):
        return host
    try:
        encoded = idna.encode(host, uts46=True, transitional=False, std3_rules=True)
    except idna.IDNAError as exc:
        raise HostError(f"'{host}' is not a valid host name: {exc}.") from exc
    return encoded.decode("ascii")
