"""Look-alike origins: what an attacker registers to pass a sloppy origin check.

Given an origin a pattern is meant to allow, :func:`lookalike_origins` lists origins of other
sites (or of the same host over another scheme or port) that a careless pattern also accepts:
a label glued to the registrable domain (``https://attackerexample.com``), a dot turned into a
letter (``https://appxexample.com``, what an unescaped ``.`` allows), a suffix after the host
(``https://example.com.attacker.net``), ``http`` for ``https`` and another port. The regex lint
(:func:`regex_lookalike`) derives the intended origins from the pattern itself and reports the
first look-alike it also matches. Reusable by anything that audits origin checks.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .origins import Origin, parse_request_origin
from .suffixes import registrable_domain

# The regex compiler's parser moved in Python 3.11; the old names warn there.
_MODERN = sys.version_info >= (3, 11)
_parser: Any = importlib.import_module("re._parser" if _MODERN else "sre_parse")
_c: Any = importlib.import_module("re._constants" if _MODERN else "sre_constants")

ATTACKER_LABEL = "attacker"
ATTACKER_SUFFIX = ".attacker.net"
MAX_SAMPLES = 16


@dataclass(frozen=True, slots=True)
class LookAlike:
    """An origin that is not the intended one, and how it was made from it."""

    origin: str
    how: str


def site_of(host: str) -> str:
    """The part of ``host`` one registers (``example.co.uk``, ``me.github.io``), or the host
    itself when it is a public suffix or an address."""
    return registrable_domain(host) or host


def dot_variants(host: str) -> Iterator[str]:
    """The host with one dot turned into a letter, for each dot in turn: a name anyone can
    register that an unescaped ``.`` in a regex also accepts."""
    for index, char in enumerate(host):
        if char == ".":
            yield f"{host[:index]}x{host[index + 1 :]}"


def other_port(port: int | None) -> int:
    """A port the intended origin does not use, for a look-alike that differs only there."""
    return 8443 if port != 8443 else 8444


def lookalike_origins(intended: str) -> tuple[LookAlike, ...]:
    """Origins an attacker can obtain that resemble ``intended`` (a browser-form origin).

    Host look-alikes fall outside the intended host's registrable domain, so a pattern that
    allows them allows another site; scheme and port look-alikes keep the host.
    """
    parsed = parse_request_origin(intended)
    if parsed is None:
        return ()
    host = parsed.host
    site = site_of(host)
    hosts = [(ATTACKER_LABEL + site, f"a label prepended to {site} without a dot")]
    hosts.extend((variant, "a dot replaced by a letter") for variant in dot_variants(host))
    hosts.append((host + ATTACKER_SUFFIX, "a suffix appended to the host"))
    found = [
        LookAlike(Origin(parsed.scheme, other, parsed.port).serialise(), how)
        for other, how in hosts
        if not _same_site(other, site)
    ]
    if parsed.scheme == "https":
        found.append(LookAlike(Origin("http", host, parsed.port).serialise(), "http for https"))
    another = Origin(parsed.scheme, host, other_port(parsed.port))
    found.append(LookAlike(another.serialise(), "another port"))
    if parsed.port is not None:
        found.append(LookAlike(Origin(parsed.scheme, host, None).serialise(), "another port"))
    return tuple(found)


def _same_site(host: str, site: str) -> bool:
    return host == site or host.endswith("." + site)


def regex_lookalike(pattern: str, fullmatch: Callable[[str], bool]) -> tuple[str, LookAlike] | None:
    """The first (intended origin, look-alike) pair where ``fullmatch`` accepts the look-alike,
    or None when the pattern accepts no look-alike of any origin it is meant to match.

    Raises ValueError when no intended origin can be derived from the pattern: such a pattern
    cannot be judged, so callers treat it as sloppy.
    """
    intended = intended_origins(pattern, fullmatch)
    if not intended:
        raise ValueError("no origin in browser form can be derived from this pattern")
    for origin in intended:
        for lookalike in lookalike_origins(origin):
            if fullmatch(lookalike.origin):
                return origin, lookalike
    return None


def intended_origins(pattern: str, fullmatch: Callable[[str], bool]) -> tuple[str, ...]:
    """Origins in browser form the pattern matches, built from its simplest readings: each
    alternative, each optional part left out and taken once, repeats at their minimum and
    once."""
    items = list(_parser.parse(pattern))
    found: dict[str, None] = {}
    for minimal in (True, False):
        for text in _expand(items, minimal):
            if len(found) >= MAX_SAMPLES:
                break
            if parse_request_origin(text) is not None and fullmatch(text):
                found[text] = None
    return tuple(found)


def _expand(items: list[Any], minimal: bool) -> Iterator[str]:
    """Strings the items can match, one per choice of alternatives (bounded)."""
    texts = [""]
    for op, av in items:
        options = list(_item(op, av, minimal))
        texts = [t + o for t in texts for o in options][:MAX_SAMPLES]
    yield from texts


def _item(op: Any, av: Any, minimal: bool) -> Iterator[str]:
    if op is _c.LITERAL:
        yield chr(av)
    elif op is _c.NOT_LITERAL:
        yield "a" if chr(av) != "a" else "b"
    elif op is _c.ANY:
        # Meant as a dot between labels, or as any character of a label.
        yield "."
        yield "a"
    elif op is _c.IN:
        yield _class_sample(av)
    elif op is _c.SUBPATTERN:
        yield from _expand(list(av[-1]), minimal)
    elif op is _c.BRANCH:
        for branch in av[1]:
            yield from _expand(list(branch), minimal)
    elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT) or op is getattr(_c, "POSSESSIVE_REPEAT", None):
        low, high, body = av
        count = low if minimal else max(low, min(1, high))
        for sample in _expand(list(body), minimal):
            yield sample * count
    else:
        # Anchors and everything that consumes nothing.
        yield ""


def _class_sample(members: list[Any]) -> str:
    """A representative character of a class: a letter if it has one, else a digit, '-' or
    '.'."""
    negate = any(op is _c.NEGATE for op, _ in members)
    chars: set[str] = set()
    for op, av in members:
        if op is _c.LITERAL:
            chars.add(chr(av))
        elif op is _c.RANGE:
            chars.update(chr(c) for c in range(av[0], min(av[1], 127) + 1))
        elif op is _c.CATEGORY:
            chars.update(_CATEGORIES.get(av, ""))
    for candidate in "abcdefghijklmnopqrstuvwxyz1234567890-.":
        if (candidate in chars) != negate:
            return candidate
    return "a"


_CATEGORIES = {
    _c.CATEGORY_DIGIT: "0123456789",
    _c.CATEGORY_WORD: "abcdefghijklmnopqrstuvwxyz0123456789_",
}
