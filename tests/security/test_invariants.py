"""The invariant checks themselves: each unsafe answer they exist for is flagged."""

from __future__ import annotations

import pytest

from django_preflight.engine import (
    OriginKind,
    OriginSpec,
    PolicySpec,
    build_policy_set,
)
from django_preflight.engine.decision import Decision, Outcome, Reason, RequestFacts
from fuzz.invariants import covering_specs, decision_problems, grants_for, header_problems

APP = "https://app.example.com"
SPECS = [
    PolicySpec(1, "api", "/api/", True, origins=(OriginSpec(OriginKind.EXACT, APP),)),
    PolicySpec(
        2, "wide", "/", origins=(OriginSpec(OriginKind.SUBDOMAIN, "https://*.example.net"),)
    ),
]
POLICIES = build_policy_set(SPECS)


@pytest.mark.parametrize(
    ("headers", "granted", "problem"),
    [
        ([("Access-Control-Allow-Origin", "https://evil.net")], True, "not the request's origin"),
        (
            [("Access-Control-Allow-Origin", "*"), ("Access-Control-Allow-Credentials", "true")],
            True,
            "'*' with credentials",
        ),
        ([("Access-Control-Allow-Origin", APP + "\r\nX: 1")], True, "CR, LF or NUL"),
        ([("X-Other", "a\x00b")], False, "CR, LF or NUL"),
        ([("access-control-max-age", "600")], False, "grant header on a refusal"),
        ([], True, "0 Access-Control-Allow-Origin headers"),
        (
            [("Access-Control-Allow-Origin", APP), ("Access-Control-Allow-Credentials", "yes")],
            True,
            "Access-Control-Allow-Credentials is",
        ),
    ],
)
def test_unsafe_headers_are_flagged(
    headers: list[tuple[str, str]], granted: bool, problem: str
) -> None:
    found = header_problems(headers, APP, granted=granted)
    assert any(problem in p for p in found), found


def test_safe_headers_pass() -> None:
    headers = [("Access-Control-Allow-Origin", APP), ("Access-Control-Allow-Credentials", "true")]
    assert header_problems(headers, APP, granted=True) == []
    assert header_problems([("Vary", "Origin")], APP, granted=False) == []


def test_a_grant_by_a_policy_of_another_prefix_is_flagged() -> None:
    facts = RequestFacts("GET", "/api/x", "https://a.example.net")
    wide = POLICIES.tiers[1].policies[0]
    decision = Decision(
        Outcome.ACTUAL_ALLOWED,
        Reason.ALLOWED,
        wide,
        (("Access-Control-Allow-Origin", "https://a.example.net"),),
    )
    assert decision_problems(SPECS, facts, decision) == [
        "granted by a policy of another path prefix"
    ]


def test_a_grant_no_entry_explains_is_flagged() -> None:
    facts = RequestFacts("GET", "/api/x", "https://app.example.com.evil.net")
    api = POLICIES.tiers[0].policies[0]
    decision = Decision(
        Outcome.ACTUAL_ALLOWED,
        Reason.ALLOWED,
        api,
        (
            ("Access-Control-Allow-Origin", facts.origin or ""),
            ("Access-Control-Allow-Credentials", "true"),
        ),
    )
    assert decision_problems(SPECS, facts, decision) == [
        "no entry of the granting policy allows 'https://app.example.com.evil.net'"
    ]


def test_refusing_a_listed_origin_is_flagged() -> None:
    facts = RequestFacts("OPTIONS", "/api/x", APP, "GET")
    decision = Decision(Outcome.PREFLIGHT_REFUSED, Reason.ORIGIN_NOT_ALLOWED)
    assert decision_problems(SPECS, facts, decision) == ["refused an origin listed exactly"]


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        ("https://a.example.net", {"https://a.example.net"}),
        ("https://example.net", set()),
        ("https://a.example.net:443", set()),
        ("http://a.example.net", set()),
        ("https://a.example.net.evil", set()),
        ("https://a..example.net", set()),
    ],
)
def test_the_reference_wildcard(origin: str, expected: set[str]) -> None:
    assert grants_for(SPECS[1], origin) == expected


def test_the_reference_prefix_is_segment_aware() -> None:
    assert [s.name for s in covering_specs(SPECS, "/api")] == ["api"]
    assert [s.name for s in covering_specs(SPECS, "/apix")] == ["wide"]
