"""Hostile ``Origin`` values derived from the origins a site trusts.

Each value is what an attacker could plausibly serve a page from (a domain they can register,
a sandboxed iframe, a plain-HTTP network position, a shared hosting platform), shaped to slip
through a typical mistake in an allowlist: a regex without anchors, an unescaped dot, a suffix
or prefix test, a scheme or port left free.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from itertools import islice

from ..engine.lookalikes import dot_variants, other_port, site_of
from ..engine.origins import Origin, parse_request_origin

LABEL = "preflight-scan"
"""The label every hostile host carries, so the site's logs show where the requests came from."""

ARBITRARY_ORIGIN = f"https://{LABEL}.example"
HOSTING_SUFFIXES = ("github.io", "herokuapp.com", "vercel.app", "netlify.app", "pages.dev")
"""Platforms where anyone can publish a page under a shared parent domain."""

SPECIAL_CHARACTERS = ("_", "`")
"""Characters some browsers accept in hosts that a regex written for hosts may not expect."""

MAX_BASES = 3
MAX_DOT_VARIANTS = 2


class Kind(str, Enum):
    """What a hostile origin imitates; the finding ids follow from it."""

    ARBITRARY = "arbitrary"
    NULL = "null"
    SUFFIX = "suffix"
    PREFIX = "prefix"
    UNESCAPED_DOT = "unescaped-dot"
    SPECIAL_CHARACTER = "special-character"
    SUBDOMAIN = "subdomain"
    HTTP = "http"
    OTHER_PORT = "other-port"
    HOSTING = "hosting"


@dataclass(frozen=True, slots=True)
class HostileOrigin:
    """One crafted ``Origin`` value, what it imitates, and the trusted origin it is derived from."""

    value: str
    kind: Kind
    base: str = ""
    """The trusted origin it is derived from; empty for the arbitrary, null and hosting ones."""


def bases(trusted: Sequence[str], url_origin: str) -> tuple[Origin, ...]:
    """The origins to derive look-alikes from: the trusted ones, then the URL's own.

    IP hosts are left out: nobody registers a look-alike of an address.
    """
    found: list[Origin] = []
    for value in (*trusted, url_origin):
        parsed = parse_request_origin(value)
        if parsed is None or _is_ip(parsed.host) or "." not in parsed.host or parsed in found:
            continue
        found.append(parsed)
    return tuple(found[:MAX_BASES])


def hostile_origins(trusted: Sequence[str], url_origin: str) -> tuple[HostileOrigin, ...]:
    """Every hostile origin for one URL, most telling first, without duplicates or trusted ones."""
    candidates: list[HostileOrigin] = [
        HostileOrigin(ARBITRARY_ORIGIN, Kind.ARBITRARY),
        HostileOrigin("null", Kind.NULL),
    ]
    for base in bases(trusted, url_origin):
        candidates.extend(look_alikes(base))
    candidates.extend(
        HostileOrigin(f"https://{LABEL}.{suffix}", Kind.HOSTING) for suffix in HOSTING_SUFFIXES
    )
    excluded = {*trusted, url_origin}
    unique: dict[str, HostileOrigin] = {}
    for candidate in candidates:
        if candidate.value not in excluded:
            unique.setdefault(candidate.value, candidate)
    return tuple(unique.values())


def look_alikes(base: Origin) -> Iterable[HostileOrigin]:
    """The look-alikes of one trusted origin, one or two per kind."""
    trusted = base.serialise()
    host, port = base.host, _port_text(base.port)
    registrable = site_of(host)

    def make(
        kind: Kind, new_host: str, scheme: str = base.scheme, tail: str = port
    ) -> HostileOrigin:
        return HostileOrigin(f"{scheme}://{new_host}{tail}", kind, trusted)

    # Glued to the registrable domain: a name anyone can register. (Glued to a longer host it
    # would be a subdomain of the trusted site, which the subdomain look-alike covers.)
    yield make(Kind.SUFFIX, LABEL + registrable)
    yield make(Kind.PREFIX, f"{host}.{LABEL}.example", tail="")
    for variant in islice(dot_variants(host), MAX_DOT_VARIANTS):
        yield make(Kind.UNESCAPED_DOT, variant)
    for char in SPECIAL_CHARACTERS:
        yield make(Kind.SPECIAL_CHARACTER, f"{host}{char}.{LABEL}.example", tail="")
    yield make(Kind.SUBDOMAIN, f"{LABEL}.{host}")
    if base.scheme == "https":
        yield make(Kind.HTTP, host, scheme="http")
    yield make(Kind.OTHER_PORT, host, tail=f":{other_port(base.port)}")


def explained_by(hostile: HostileOrigin) -> Kind | None:
    """The broader hole that also lets ``hostile`` through, if any.

    A prefix test also passes the trusted host followed by a special character or a port; a
    suffix test also passes subdomains and a dot replaced before the registrable domain.
    Reporting the broader hole alone keeps one finding per mistake.
    """
    if hostile.kind in (Kind.SPECIAL_CHARACTER, Kind.OTHER_PORT):
        return Kind.PREFIX
    if hostile.kind is Kind.SUBDOMAIN:
        return Kind.SUFFIX
    if hostile.kind is Kind.UNESCAPED_DOT:
        base, variant = parse_request_origin(hostile.base), parse_request_origin(hostile.value)
        if base is not None and variant is not None:
            return Kind.SUFFIX if variant.host.endswith(site_of(base.host)) else None
    return None


def _port_text(port: int | None) -> str:
    return "" if port is None else f":{port}"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
