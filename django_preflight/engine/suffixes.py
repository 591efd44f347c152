"""Registrable domains, from the Public Suffix List bundled with the ``publicsuffixlist`` package.

A subdomain wildcard on a public suffix (``*.co.uk``, ``*.github.io``) allows every site that
anyone can register or publish under it. The list ships inside the package and is never
fetched at run time; a new list arrives with a dependency update.
"""

from __future__ import annotations

from functools import cache

from publicsuffixlist import PublicSuffixList


@cache
def _list() -> PublicSuffixList:
    """Parsed once per process, on first use (a few tens of milliseconds)."""
    return PublicSuffixList()


def is_public_suffix(host: str) -> bool:
    """True when ``host`` (lower case, ASCII) is a public suffix, ICANN or private section.

    Unknown top-level domains count as public suffixes, as the list's implicit ``*`` rule says.
    """
    return bool(_list().is_public(host))


def registrable_domain(host: str) -> str | None:
    """The public suffix plus one label (``example.co.uk`` for ``a.b.example.co.uk``); None
    for a public suffix itself and for hosts outside the list's reach (IP addresses)."""
    if host.startswith("[") or host.replace(".", "").isdigit():
        return None
    found = _list().privatesuffix(host)
    return str(found) if found else None
