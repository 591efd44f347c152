"""Regexes that would stall a backtracking engine run in linear time; server-side enforcement
of writes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from django_preflight.engine import Invalid, OriginKind, OriginSpec, PolicySpec, compile_policy
from django_preflight.engine.linear_regex import LinearRegex
from django_preflight.engine.origins import compile_origin_regex
from django_preflight.models import AllowedOrigin, CorsPolicy
from tests.factories import CorsPolicyFactory

APP = "https://app.example.com"


@pytest.mark.parametrize(
    "pattern",
    [
        r"(a+)+",
        r"(a*)*b",
        r"(.*a)+",
        r"(\w+\.?)+example\.com",
        r"https://([a-z]+-?)*\.example\.com",
        r"(aa?)*b",
        r"(a|aa)*b",
        r"(x+x+)+y",
        r"^(([a-z])+.)+[A-Z]([a-z])+$",
    ],
)
def test_backtracking_patterns_run_on_the_linear_time_engine(pattern: str) -> None:
    """Each of these takes Python's backtracking engine longer than the universe's age on the
    input below; RE2 answers at once, so the test finishing is the proof."""
    compiled = compile_origin_regex(pattern)
    assert isinstance(compiled, LinearRegex)
    assert compiled.fullmatch("a" * 10_000 + "!") is False


@pytest.mark.parametrize(
    "pattern",
    [
        r"https://([a-z0-9-]+\.)*example\.com",
        r"https://([a-z0-9-]+\.)?example\.com",
        r"https://([a-z0-9]+(-[a-z0-9]+)*\.)+example\.com",
        r"https://[a-z]+(-[a-z]+)*\.example\.com",
        r"https://(www\.)?example\.(com|org)",
        r"https://(dev|staging)-[a-z]+\.example\.com",
        r"https://(foo|bar)+\.example\.com",
        r"https://pr-\d+\.preview\.example\.com",
    ],
)
def test_usual_patterns_are_accepted_with_credentials(pattern: str) -> None:
    spec = PolicySpec(
        1, "p", allow_credentials=True, origins=(OriginSpec(OriginKind.REGEX, pattern),)
    )
    assert not isinstance(compile_policy(spec), Invalid)


@pytest.mark.django_db
def test_a_backtracking_regex_can_be_saved() -> None:
    origin = AllowedOrigin(policy=CorsPolicyFactory(), kind="regex", value=r"https://(a+)+\.com")
    origin.full_clean()
    origin.save()


@pytest.fixture
def enforced(make_policy: Callable[..., CorsPolicy]) -> CorsPolicy:
    return make_policy(origins=(APP,), name="enforced", path_prefix="/api/", enforce_on_server=True)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "origin", "status"),
    [
        ("post", "https://evil.example", 403),
        ("put", "https://evil.example", 403),
        ("delete", "https://evil.example", 403),
        ("get", "https://evil.example", 200),
        ("post", APP, 200),
        ("post", "http://testserver", 200),
        ("post", None, 200),
    ],
)
def test_enforcement_stops_cross_origin_writes_before_the_view(
    client: Client, enforced: CorsPolicy, method: str, origin: str | None, status: int
) -> None:
    extra = {"HTTP_ORIGIN": origin} if origin else {}
    response = getattr(client, method)("/api/plain/", **extra)
    assert response.status_code == status
    if status == 403:
        assert b"Cross-origin request refused" in response.content
        assert response.headers["Vary"] == "Origin"
        assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.django_db
def test_enforcement_can_be_turned_off(
    client: Client, make_policy: Callable[..., CorsPolicy]
) -> None:
    make_policy(origins=(APP,), name="lenient", path_prefix="/api/", enforce_on_server=False)
    assert client.post("/api/plain/", HTTP_ORIGIN="https://evil.example").status_code == 200


@pytest.mark.django_db
def test_enforcement_on_the_async_path(enforced: CorsPolicy) -> None:
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    async def post() -> Any:
        return await AsyncClient().post("/api/plain/", headers={"Origin": "https://evil.example"})

    assert async_to_sync(post)().status_code == 403
