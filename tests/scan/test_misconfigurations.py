"""Every misconfiguration class found with the right severity; nothing on the correct server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from django_preflight.scan.plan import MAX_REQUESTS_PER_URL
from django_preflight.scan.runner import scan_url

from .servers import MISCONFIGURATIONS, TRUSTED, serve

EXPECTED: dict[str, dict[str, str]] = {
    "correct": {},
    "reflect-anything": {"reflects-any-origin": "high"},
    "null-trusting": {"trusts-null-origin": "high"},
    "suffix-regex": {"trusts-suffix-lookalike": "high"},
    "unescaped-dot-regex": {"trusts-unescaped-dot": "high"},
    "http-trusting": {"trusts-http-origin": "high"},
    "wildcard-credentials": {"wildcard-with-credentials": "medium"},
    "no-vary": {"missing-vary-origin": "low"},
    "prefix-matching": {"trusts-prefix-lookalike": "high"},
    "hosting-regex": {"trusts-shared-hosting-domain": "high"},
    "public-reflect": {"reflects-any-origin": "medium"},
    "preflight-401": {"preflight-auth-required": "medium"},
    "preflight-301": {"preflight-redirected": "medium"},
    "port-and-subdomain": {"trusts-other-port": "medium", "trusts-any-subdomain": "medium"},
}
"""A subdomain or another port alone is one step lower: a trusted host must be taken over first."""


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, list[Any]]]:
    with serve() as running:
        yield running


def test_every_server_behaviour_has_an_expectation() -> None:
    assert set(EXPECTED) == set(MISCONFIGURATIONS)


@pytest.mark.parametrize("name", EXPECTED)
def test_each_class_is_found_with_its_severity(server: tuple[str, list[Any]], name: str) -> None:
    base, _ = server
    result = scan_url(f"{base}/{name}/", [TRUSTED], credentials=True)
    assert result.error is None
    assert result.complete
    assert {f.id: f.severity.value for f in result.findings} == EXPECTED[name]
    assert 0 < len(result.observations) <= result.plan.max_requests <= MAX_REQUESTS_PER_URL


def test_severity_depends_on_credentials_and_on_the_api_being_public(
    server: tuple[str, list[Any]],
) -> None:
    base, _ = server
    public = scan_url(f"{base}/public-reflect/", [TRUSTED], credentials=False)
    private = scan_url(f"{base}/public-reflect/", [TRUSTED], credentials=True)
    cookies = scan_url(f"{base}/reflect-anything/", [TRUSTED], credentials=False)
    assert [(f.id, f.severity.value) for f in public.findings] == [("reflects-any-origin", "low")]
    assert [f.severity.value for f in private.findings] == ["medium"]
    assert [f.severity.value for f in cookies.findings] == ["high"]


def test_evidence_is_the_exact_exchange(server: tuple[str, list[Any]]) -> None:
    base, seen = server
    seen.clear()
    result = scan_url(f"{base}/null-trusting/", [TRUSTED], credentials=True)
    (finding,) = result.findings
    evidence = finding.evidence
    assert finding.evidence.origin == "null"
    assert (evidence.method, evidence.url) == ("GET", f"{base}/null-trusting/")
    assert ("Origin", "null") in evidence.request_headers
    assert evidence.response.values("Access-Control-Allow-Origin") == ["null"]
    assert evidence.response.values("Access-Control-Allow-Credentials") == ["true"]
    received = [headers for method, _, headers in seen if headers.get("Origin") == "null"]
    assert received[0] == dict(evidence.request_headers)
    assert "cookies" in finding.consequence
    assert "null" in finding.consequence


def test_only_safe_methods_no_bodies_and_a_clear_user_agent(
    server: tuple[str, list[Any]],
) -> None:
    base, seen = server
    seen.clear()
    result = scan_url(f"{base}/correct/", [TRUSTED], credentials=True)
    assert len(seen) == len(result.observations)
    assert {method for method, _, _ in seen} == {"GET", "OPTIONS"}
    for _, _, headers in seen:
        assert "Content-Length" not in headers
        assert headers["User-Agent"].startswith("django-preflight-scan/")
    preflights = [h for m, _, h in seen if m == "OPTIONS"]
    assert all(h["Access-Control-Request-Method"] == "POST" for h in preflights)
