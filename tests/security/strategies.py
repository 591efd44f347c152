"""Hypothesis strategies: policy specs and requests aimed at them, with hostile variations.

They draw from the same pools as the long fuzz run, but as strategies, so a failure shrinks to
a small policy set and a short origin.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from django_preflight.engine import OriginKind, OriginSpec, PolicySpec
from django_preflight.engine.decision import RequestFacts
from fuzz.generate import (
    HEADER_NAMES,
    HOSTS,
    JUNK,
    METHODS,
    PATHS,
    PORTS,
    PREFIX_TRICKS,
    PREFIXES,
    REGEXES,
    REQUEST_METHODS,
    SCHEMES,
    SUFFIXES,
    origin_text,
)

from .hostile_origins import HOSTILE_ORIGINS

WILDCARD_PARENTS = tuple(h for h in HOSTS if "." in h and not h[0].isdigit())
SHORT_HOSTILE = tuple(c.value for c in HOSTILE_ORIGINS if len(c.value) <= 300)


@st.composite
def origin_specs(draw: Any) -> OriginSpec:
    """One allowed-origin entry of any kind."""
    kind = draw(st.sampled_from(OriginKind))
    if kind in (OriginKind.ANY, OriginKind.NULL):
        return OriginSpec(kind)
    if kind is OriginKind.REGEX:
        return OriginSpec(kind, draw(st.sampled_from(REGEXES)))
    scheme = draw(st.sampled_from(SCHEMES[:3]))
    port = draw(st.sampled_from(PORTS))
    if kind is OriginKind.SUBDOMAIN:
        parent = draw(st.sampled_from(WILDCARD_PARENTS))
        return OriginSpec(kind, origin_text(scheme, "*." + parent, port))
    return OriginSpec(kind, origin_text(scheme, draw(st.sampled_from(HOSTS)), port))


def _subset(pool: tuple[str, ...], min_size: int = 0) -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.sampled_from(pool), min_size=min_size, max_size=4, unique=True).map(tuple)


@st.composite
def policy_sets(draw: Any) -> list[PolicySpec]:
    """One to four policies over a few prefixes; some invalid on purpose."""
    count = draw(st.integers(1, 4))
    return [
        PolicySpec(
            id=n + 1,
            name=f"p{n}",
            path_prefix=draw(st.sampled_from(PREFIXES)),
            allow_credentials=draw(st.booleans()),
            allowed_methods=draw(_subset(METHODS, 1)),
            allowed_headers=draw(_subset(HEADER_NAMES)),
            exposed_headers=draw(_subset(("x-total", "x-request-id"))),
            max_age=draw(st.sampled_from((None, 0, 600))),
            allow_private_network=draw(st.booleans()),
            origins=tuple(dict.fromkeys(draw(st.lists(origin_specs(), max_size=4)))),
            report_only=draw(st.booleans()) and draw(st.booleans()),
        )
        for n in range(count)
    ]


def genuine_origins(specs: list[PolicySpec]) -> list[str]:
    """Origins the entries allow, as browsers send them."""
    found = []
    for spec in specs:
        for entry in spec.origins:
            if entry.kind is OriginKind.EXACT:
                found.append(entry.value)
            elif entry.kind is OriginKind.SUBDOMAIN:
                found += [entry.value.replace("*", "a", 1), entry.value.replace("*", "x.y", 1)]
            elif entry.kind is OriginKind.NULL:
                found.append("null")
    return [*found, "https://example.com", "https://a.example.com", "http://localhost:8000"]


@st.composite
def bent(draw: Any, base: str) -> str:
    """``base`` with one hostile edit."""
    edit = draw(st.integers(0, 6))
    position = draw(st.integers(0, len(base)))
    if edit == 0:
        return base + draw(st.sampled_from(SUFFIXES))
    if edit == 1:
        return draw(st.sampled_from(PREFIX_TRICKS)) + base
    if edit == 2:
        return base[:position] + draw(st.sampled_from(JUNK)) + base[position:]
    if edit == 3:
        return base[:position] + base[position + 1 :]
    if edit == 4:
        return base[:position] + base[position:].upper()
    if edit == 5:
        return base[:position] + draw(st.text(max_size=3)) + base[position:]
    return base.replace(".", draw(st.sampled_from(("X", "%2E", "..", "\u3002", ""))), 1)


@st.composite
def request_origins(draw: Any, specs: list[PolicySpec]) -> str | None:
    """None, a genuine origin, a bent one, a corpus value, or any text."""
    genuine = genuine_origins(specs)
    choice = draw(st.integers(0, 5))
    if choice == 0:
        return None
    if choice == 1:
        return draw(st.sampled_from(genuine))
    if choice in (2, 3):
        return draw(bent(draw(st.sampled_from(genuine))))
    if choice == 4:
        return draw(st.sampled_from(SHORT_HOSTILE))
    return draw(st.text(max_size=40))


def header_lists() -> st.SearchStrategy[str | None]:
    """Access-Control-Request-Headers values: none, well-formed, or anything."""
    names = st.lists(st.sampled_from((*HEADER_NAMES, "x-other")), min_size=1, max_size=4)
    return st.one_of(
        st.none(),
        names.map(",".join),
        names.map(", ".join),
        st.text(max_size=30),
    )


@st.composite
def scenarios(draw: Any) -> tuple[list[PolicySpec], RequestFacts]:
    """A policy set and one request aimed at it."""
    specs = draw(policy_sets())
    preflight = draw(st.booleans())
    path = draw(
        st.one_of(
            st.sampled_from(PATHS),
            st.sampled_from(PREFIXES).flatmap(lambda p: st.just(p + "x")),
            st.text(max_size=20),
        )
    )
    methods = st.one_of(st.sampled_from((*METHODS, *REQUEST_METHODS)), st.text(max_size=8))
    facts = RequestFacts(
        method="OPTIONS" if preflight else draw(st.sampled_from(("GET", "POST", "OPTIONS"))),
        path=path,
        origin=draw(request_origins(specs)),
        request_method=draw(methods) if preflight else draw(st.none() | methods),
        request_headers=draw(header_lists()),
        request_private_network=draw(st.booleans()),
    )
    return specs, facts
