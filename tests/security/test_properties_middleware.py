"""Property tests through Django: arbitrary header values and paths, sync and async.

Each request's answer is compared with the engine's decision on the same facts (which is
itself checked against the reference model), so a difference between what the middleware
sends and what the engine decided is caught as well as an unsafe decision.
"""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django_preflight.engine import OriginKind, OriginSpec, PolicySpec
from django_preflight.engine.decision import Outcome, RequestFacts, decide
from django_preflight.store import store
from fuzz.generate import PATHS, wire
from fuzz.invariants import decision_problems, enforced_specs, header_problems

from .strategies import header_lists, request_origins
from .support import save_specs

pytestmark = [pytest.mark.django_db, pytest.mark.properties]

SPECS = [
    PolicySpec(
        id=101,
        name="app",
        path_prefix="/api/",
        allow_credentials=True,
        allowed_methods=("GET", "POST", "PUT"),
        allowed_headers=("content-type", "authorization"),
        exposed_headers=("x-total",),
        max_age=600,
        origins=(
            OriginSpec(OriginKind.EXACT, "https://app.example.com"),
            OriginSpec(OriginKind.SUBDOMAIN, "https://*.example.net"),
            OriginSpec(OriginKind.REGEX, r"https://([a-z0-9-]+\.)?example\.com"),
        ),
    ),
    PolicySpec(
        id=102,
        name="open",
        path_prefix="/api/public/",
        allowed_methods=("*",),
        allowed_headers=("*",),
        origins=(OriginSpec(OriginKind.ANY),),
    ),
    PolicySpec(
        id=103,
        name="sandbox",
        path_prefix="/embed/",
        origins=(OriginSpec(OriginKind.NULL),),
        allow_private_network=True,
    ),
    PolicySpec(
        id=104,
        name="trial",
        path_prefix="/api/",
        report_only=True,
        origins=(OriginSpec(OriginKind.EXACT, "https://trial.example.com"),),
    ),
    PolicySpec(
        id=105,
        name="root",
        path_prefix="/",
        origins=(OriginSpec(OriginKind.EXACT, "http://localhost:8000"),),
    ),
]
MIDDLEWARE_SETTINGS = settings(
    max_examples=200,
    deadline=1000,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PRIVATE_NETWORK = st.sampled_from((None, "true", "TRUE", "false", "1", ""))
PATH_TEXT = st.one_of(
    st.sampled_from((*PATHS, "/embed/frame", "/api/public/feed")), st.text(max_size=30)
)


@pytest.fixture
def policies(db: None) -> None:
    save_specs(SPECS)


def expected(method: str, path: str, environ: dict[str, str]) -> RequestFacts:
    """The facts as Django hands them to the middleware."""
    return RequestFacts(
        method=method,
        path=path or "/",
        origin=environ.get("HTTP_ORIGIN"),
        request_method=environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD"),
        request_headers=environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS"),
        request_private_network=(
            environ.get("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK", "").lower() == "true"
        ),
    )


def judge(response: Any, facts: RequestFacts) -> None:
    """The answer is safe and is the engine's decision, header for header."""
    policies = store.current()
    decision = decide(policies, facts)
    assert decision_problems(enforced_specs(SPECS, policies), facts, decision) == []
    granted = decision.outcome in (Outcome.PREFLIGHT_ALLOWED, Outcome.ACTUAL_ALLOWED)
    assert header_problems(response.items(), facts.origin, granted=granted) == []
    if facts.is_preflight:
        assert response.status_code == (204 if granted else 403)
    for name, value in decision.headers if granted else ():
        assert response.headers[name] == value


def build_environ(
    origin: str | None, method: str | None, headers: str | None, private: str | None
) -> dict[str, str]:
    environ = {}
    for key, value in (
        ("HTTP_ORIGIN", origin),
        ("HTTP_ACCESS_CONTROL_REQUEST_METHOD", method),
        ("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", headers),
        ("HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK", private),
    ):
        if value is not None:
            environ[key] = wire(value)
    return environ


@MIDDLEWARE_SETTINGS
@given(
    method=st.sampled_from(("OPTIONS", "OPTIONS", "GET", "POST", "PUT", "HEAD")),
    path=PATH_TEXT,
    origin=request_origins(SPECS),
    request_method=st.one_of(st.none(), st.sampled_from(("PUT", "GET", "put")), st.text()),
    request_headers=header_lists(),
    private=PRIVATE_NETWORK,
)
def test_sync_answers_are_safe(
    policies: None,
    method: str,
    path: str,
    origin: str | None,
    request_method: str | None,
    request_headers: str | None,
    private: str | None,
) -> None:
    environ = build_environ(origin, request_method, request_headers, private)
    client = Client()
    response = client.generic(method, "/", PATH_INFO=wire(path), **environ)
    judge(response, expected(method, path, environ))


@settings(MIDDLEWARE_SETTINGS, max_examples=100)
@given(
    path=st.sampled_from((*[p for p in PATHS if p], "/embed/frame", "/api/public/feed")),
    origin=request_origins(SPECS),
    request_method=st.one_of(st.none(), st.sampled_from(("PUT", "GET", "put")), st.text()),
    request_headers=header_lists(),
)
def test_async_answers_are_safe(
    policies: None,
    path: str,
    origin: str | None,
    request_method: str | None,
    request_headers: str | None,
) -> None:
    environ = build_environ(origin, request_method, request_headers, None)
    headers = {
        name.removeprefix("HTTP_").replace("_", "-").title(): value
        for name, value in environ.items()
    }
    response = async_to_sync(AsyncClient().options)(path, headers=headers)
    judge(response, expected("OPTIONS", path, environ))
