"""The admin's guard against scanning the server's own network (SSRF).

The check itself is ``django_preflight.netguard``'s: the host is resolved once, every address
is classified, and the scan then connects to the address that was checked, so a second DNS
answer cannot point it elsewhere. This module turns its refusals into one sentence for staff.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from .. import netguard
from ..engine.origins import DEFAULT_PORTS


class ScanRefusedError(ValueError):
    """A URL the admin page must not scan; the message is one sentence for staff."""


def resolve(url: str, *, allow_private: bool) -> str:
    """The address to connect to for ``url``, refused when it is not a public one.

    With ``allow_private`` any address is accepted (a scan of one's own staging network).
    """
    parts = urlsplit(url)
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        raise ScanRefusedError(f"'{url}' is not an http or https URL.")
    port = parts.port or DEFAULT_PORTS[parts.scheme]
    try:
        target = netguard.check_host(host, port, allow_private=allow_private)
    except netguard.RefusedTargetError as exc:
        if exc.address is None:
            raise ScanRefusedError(f"'{host}' cannot be resolved: {exc.reason}.") from exc
        raise ScanRefusedError(
            f"'{host}' resolves to {exc.address}, a {exc.kind} address: scanning private, "
            "loopback and reserved addresses is off (PREFLIGHT_SCAN_ALLOW_PRIVATE_ADDRESSES)."
        ) from exc
    return str(target.address)
