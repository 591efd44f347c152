"""Server-side request forgery guard: resolve a host once and judge the addresses it names.

Anything that makes this server connect to a host a user can influence (the relay, a probe or a
scanner) asks ``check_host`` (or ``acheck_host`` in async code) for the address to connect to,
then connects to exactly that address. Resolving once and pinning the connection is what stops
DNS rebinding: a second lookup at connect time could answer differently.

Resolution goes through ``socket.getaddrinfo`` unless the ``PREFLIGHT_NETGUARD_RESOLVER``
setting names another callable with the same shape as ``system_resolver``; tests use that seam
to make names resolve to addresses no packet is ever sent to.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

from django.utils.module_loading import import_string

from . import conf

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]

# Ranges that the ipaddress flags below do not all cover on every Python version.
_SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class RefusedTargetError(Exception):
    """The host names an address this server must not connect to; ``reason`` says why.

    ``address`` and ``kind`` name the refused address and its class (None when the host does
    not resolve at all).
    """

    def __init__(
        self, host: str, reason: str, address: IPAddress | None = None, kind: str | None = None
    ) -> None:
        super().__init__(f"{host}: {reason}")
        self.host = host
        self.reason = reason
        self.address = address
        self.kind = kind


@dataclass(frozen=True)
class Target:
    """A checked host: the name (for TLS SNI and the Host header) and the address to dial."""

    host: str
    address: IPAddress

    @property
    def url_host(self) -> str:
        """The address as written in a URL's authority (IPv6 in brackets)."""
        return f"[{self.address}]" if self.address.version == 6 else str(self.address)


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host`` (TCP), in its order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def classify(address: IPAddress) -> str | None:
    """The class of a non-public address (loopback, link-local, multicast, reserved, private),
    or None when it is public.

    IPv4-mapped and NAT64 IPv6 addresses are judged by the IPv4 address they carry; addresses
    that are not globally routable without a class of their own (unspecified, shared address
    space, documentation ranges...) count as reserved.
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return classify(address.ipv4_mapped)
        if address in _NAT64:
            return classify(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    for kind, hit in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved or address.is_unspecified),
        ("reserved", address in _SHARED_ADDRESS_SPACE),
        ("private", address.is_private),
    ):
        if hit:
            return kind
    return None if address.is_global else "reserved"


@cache
def _configured_resolver(path: str | None) -> Resolver:
    return system_resolver if path is None else import_string(path)


def resolver() -> Resolver:
    """The resolver in use: the system's, or the one ``PREFLIGHT_NETGUARD_RESOLVER`` names."""
    return _configured_resolver(conf.get().NETGUARD_RESOLVER)


def judge(host: str, answers: Sequence[str], *, allow_private: bool) -> Target:
    """The address to connect to: every answer must pass, so no round-robin entry sneaks past."""
    if not answers:
        raise RefusedTargetError(host, "the name does not resolve")
    addresses = []
    for answer in answers:
        try:
            address = ipaddress.ip_address(answer.split("%", 1)[0])
        except ValueError as exc:
            reason = f"the resolver gave an invalid address {answer!r}"
            raise RefusedTargetError(host, reason) from exc
        kind = classify(address)
        if kind is not None and not allow_private:
            reason = f"resolves to {address}, a {kind} address"
            raise RefusedTargetError(host, reason, address, kind)
        addresses.append(address)
    return Target(host, addresses[0])


def _literal(host: str) -> str | None:
    """An IP literal as given in a URL (brackets removed), or None for a name."""
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        ipaddress.ip_address(bare)
    except ValueError:
        return None
    return bare


def check_host(host: str, port: int, *, allow_private: bool = False) -> Target:
    """Resolve ``host`` once and return the checked address; raise ``RefusedTargetError`` if any
    address it resolves to is loopback, private, link-local, multicast or reserved (unless
    ``allow_private``) or if it does not resolve."""
    literal = _literal(host)
    if literal is not None:
        return judge(host, [literal], allow_private=allow_private)
    try:
        answers = resolver()(host, port)
    except (OSError, UnicodeError) as exc:
        raise RefusedTargetError(host, f"the name does not resolve ({exc})") from exc
    return judge(host, answers, allow_private=allow_private)


async def acheck_host(host: str, port: int, *, allow_private: bool = False) -> Target:
    """``check_host`` for async code: the lookup runs in the loop's executor, never on it."""
    literal = _literal(host)
    if literal is not None:
        return judge(host, [literal], allow_private=allow_private)
    lookup = resolver()
    try:
        answers = await asyncio.get_running_loop().run_in_executor(None, lookup, host, port)
    except (OSError, UnicodeError) as exc:
        raise RefusedTargetError(host, f"the name does not resolve ({exc})") from exc
    return judge(host, answers, allow_private=allow_private)
