"""Address spaces of Chromium's local network access: a page may reach only its own or a more
public space without the user's permission, and headless Chromium never grants it.

Chromium 156 names the spaces ``public``, ``local`` (private networks) and ``loopback``; the
command line keeps the older names ``public``, ``private`` and ``local`` (for loopback).
"""

from __future__ import annotations

import ipaddress

from .ranked import RankedEnum


class AddressSpace(RankedEnum):
    """From most public to most private (a higher rank is more private); the value is the
    command-line name."""

    PUBLIC = "public"
    PRIVATE = "private"
    LOCAL = "local"

    @property
    def chromium_name(self) -> str:
        """The word Chromium 156 prints for the space."""
        return {"public": "public", "private": "local", "local": "loopback"}[self.value]


def of_ip(address: str) -> AddressSpace:
    """The space of one IP address, as Chromium classifies it."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return AddressSpace.LOCAL
    if ip.is_private or ip.is_link_local:
        return AddressSpace.PRIVATE
    return AddressSpace.PUBLIC


def of_host(host: str) -> AddressSpace | None:
    """The space a host name shows on its face: an IP literal or localhost; else unknown."""
    bare = host.strip("[]").lower()
    if bare == "localhost" or bare.endswith(".localhost"):
        return AddressSpace.LOCAL
    try:
        return of_ip(bare)
    except ValueError:
        return None


def blocked_space(page: AddressSpace, target: AddressSpace) -> AddressSpace | None:
    """The target's space when the page may not reach it, else None."""
    return target if target.rank > page.rank else None
