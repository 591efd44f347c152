"""The admin's guard against scanning the server's own network (SSRF).

The host is resolved once, every address is classified, and the scan then connects to the
address that was checked: a second DNS answer cannot point it elsewhere.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class ScanRefusedError(ValueError):
    """A URL the admin page must not scan; the message is one sentence for staff."""


def _kind(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why an address is not on the public internet, or None when it is."""
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        return _kind(mapped)
    for kind, flag in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved or address.is_unspecified),
        ("private", address.is_private),
    ):
        if flag:
            return kind
    return None if address.is_global else "reserved"


def resolve(url: str, *, allow_private: bool) -> str:
    """The address to connect to for ``url``, refused when it is not a public one.

    With ``allow_private`` any address is accepted (a scan of one's own staging network).
    """
    parts = urlsplit(url)
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        raise ScanRefusedError(f"'{url}' is not an http or https URL.")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise ScanRefusedError(f"'{host}' cannot be resolved: {exc}.") from exc
    addresses = [ipaddress.ip_address(str(answer[4][0]).split("%")[0]) for answer in answers]
    if not allow_private:
        for address in addresses:
            kind = _kind(address)
            if kind is not None:
                raise ScanRefusedError(
                    f"'{host}' resolves to {address}, a {kind} address: scanning private, "
                    "loopback and reserved addresses is off "
                    "(PREFLIGHT_SCAN_ALLOW_PRIVATE_ADDRESSES)."
                )
    return str(addresses[0])
