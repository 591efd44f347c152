"""The hostile-origin corpus against exact, wildcard and regex policies: engine and middleware.

A refused origin gets no grant header at all; an accepted one gets Access-Control-Allow-Origin
equal to the very value it sent. Every row goes through the engine, the synchronous middleware
(test client) and the asynchronous one (ASGI test client).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client

from django_preflight.engine import OriginKind, OriginSpec, PolicySpec, build_policy_set
from django_preflight.engine.decision import Outcome, RequestFacts, decide
from django_preflight.models import AllowedOrigin, CorsPolicy
from fuzz.invariants import decision_problems, enforced_specs, header_problems

from .hostile_origins import (
    EXACT_ORIGIN,
    HOSTILE_ORIGINS,
    KINDS,
    REGEX_ORIGIN,
    WILDCARD_ORIGIN,
    HostileOrigin,
    Verdict,
    wire,
)
from .support import grant_headers, preflight

ENTRIES = {
    "exact": (OriginKind.EXACT, EXACT_ORIGIN),
    "wildcard": (OriginKind.SUBDOMAIN, WILDCARD_ORIGIN),
    "regex": (OriginKind.REGEX, REGEX_ORIGIN),
}
METHODS = ("GET", "HEAD", "POST", "PUT")
SPECS = [
    PolicySpec(
        id=n,
        name=kind,
        path_prefix=f"/{kind}/",
        allow_credentials=True,
        allowed_methods=METHODS,
        allowed_headers=("content-type",),
        origins=(OriginSpec(*ENTRIES[kind]),),
    )
    for n, kind in enumerate(KINDS, start=1)
]
SNAPSHOT = build_policy_set(SPECS)


def case_id(case: HostileOrigin) -> str:
    return f"{HOSTILE_ORIGINS.index(case):03d}-{ascii(case.value)[1:41]}"


def test_the_corpus_is_large_distinct_and_can_tell() -> None:
    assert len(HOSTILE_ORIGINS) >= 150
    assert len({case.value for case in HOSTILE_ORIGINS}) == len(HOSTILE_ORIGINS)
    counts = {kind: Counter(case.verdict(kind) for case in HOSTILE_ORIGINS) for kind in KINDS}
    for kind in KINDS:
        assert counts[kind][Verdict.ACCEPT] >= 1, f"no genuine origin for {kind}"
    print({kind: {v.value: n for v, n in c.items()} for kind, c in counts.items()})


def test_the_snapshot_compiles_every_policy() -> None:
    assert SNAPSHOT.rejected == ()
    assert len(SNAPSHOT.tiers) == 3


@pytest.mark.parametrize("case", HOSTILE_ORIGINS, ids=case_id)
def test_engine_verdict(case: HostileOrigin) -> None:
    specs = enforced_specs(SPECS, SNAPSHOT)
    for kind in KINDS:
        expected = case.verdict(kind)
        for facts in (
            RequestFacts("OPTIONS", f"/{kind}/items/", case.value, "PUT", "content-type"),
            RequestFacts("GET", f"/{kind}/items/", case.value),
        ):
            decision = decide(SNAPSHOT, facts)
            assert decision_problems(specs, facts, decision) == []
            allowed = decision.outcome in (Outcome.PREFLIGHT_ALLOWED, Outcome.ACTUAL_ALLOWED)
            assert allowed is (expected is Verdict.ACCEPT), (kind, facts.method, decision.reason)
            if allowed:
                assert dict(decision.headers)["Access-Control-Allow-Origin"] == case.value
            else:
                assert decision.headers == ()


@pytest.fixture(scope="module")
def corpus_policies(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """The three policies, saved once for the module: 221 tests need the same rows."""
    with django_db_blocker.unblock():
        for kind in KINDS:
            policy = CorsPolicy(
                name=f"corpus-{kind}",
                path_prefix=f"/{kind}/",
                allow_credentials=True,
                allowed_methods=list(METHODS),
                allowed_headers=["content-type"],
            )
            policy.full_clean()
            policy.save()
            entry_kind, value = ENTRIES[kind]
            origin = AllowedOrigin(policy=policy, kind=entry_kind.value, value=value)
            origin.full_clean()
            origin.save()
    yield
    with django_db_blocker.unblock():
        CorsPolicy.objects.filter(name__startswith="corpus-").delete()


def assert_verdict(response: Any, origin: str, expected: Verdict, *, preflight: bool) -> None:
    headers = list(response.items())
    granted = expected is Verdict.ACCEPT
    assert header_problems(headers, origin, granted=granted) == []
    grants = grant_headers(headers)
    if granted:
        assert grants["access-control-allow-origin"] == origin
        assert grants["access-control-allow-credentials"] == "true"
        if preflight:
            assert response.status_code == 204
    else:
        assert grants == {}
        if preflight:
            assert response.status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("case", HOSTILE_ORIGINS, ids=case_id)
def test_middleware_verdict(case: HostileOrigin, corpus_policies: None, client: Client) -> None:
    origin = wire(case.value)
    for kind in KINDS:
        expected = case.verdict(kind)
        response = preflight(client, f"/{kind}/items/", origin, headers="content-type")
        assert_verdict(response, origin, expected, preflight=True)
        response = client.get(f"/{kind}/items/", HTTP_ORIGIN=origin)
        assert_verdict(response, origin, expected, preflight=False)
    async_to_sync(_async_verdicts)(case, origin)


async def _async_verdicts(case: HostileOrigin, origin: str) -> None:
    client = AsyncClient()
    for kind in KINDS:
        response = await client.options(
            f"/{kind}/items/",
            headers={"Origin": origin, "Access-Control-Request-Method": "PUT"},
        )
        assert_verdict(response, origin, case.verdict(kind), preflight=True)
