"""Metrics in one process: what each hook counts, the endpoint, and the setting's check."""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from prometheus_client import REGISTRY

from django_preflight import metrics
from django_preflight.audit import buffer
from django_preflight.checks import check_settings
from django_preflight.engine.decision import Decision, Outcome, Reason, RequestFacts
from django_preflight.models import CorsPolicy

APP = "https://app.example.com"
EVIL = "https://evil.example.net"

pytestmark = pytest.mark.django_db


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def enabled(settings: Any) -> None:
    settings.PREFLIGHT_METRICS = True


def preflight(client: Client, origin: str, method: str = "POST") -> Any:
    return client.options(
        "/api/plain/", HTTP_ORIGIN=origin, HTTP_ACCESS_CONTROL_REQUEST_METHOD=method
    )


@pytest.mark.usefixtures("enabled")
def test_preflights_are_counted_by_policy_outcome_and_reason(
    client: Client, credentialed_api: CorsPolicy
) -> None:
    name = "django_preflight_preflights_total"
    allowed = value(name, policy="frontend", outcome="allowed", reason="allowed")
    refused = value(name, policy="frontend", outcome="refused", reason="origin_not_allowed")
    for _ in range(3):
        preflight(client, APP)
    preflight(client, EVIL)
    assert value(name, policy="frontend", outcome="allowed", reason="allowed") == allowed + 3
    assert (
        value(name, policy="frontend", outcome="refused", reason="origin_not_allowed")
        == refused + 1
    )


@pytest.mark.usefixtures("enabled")
def test_real_requests_are_counted_and_same_origin_ones_are_not(
    client: Client, credentialed_api: CorsPolicy
) -> None:
    name = "django_preflight_cross_origin_requests_total"
    before = {o: value(name, policy="frontend", outcome=o) for o in ("allowed", "not_allowed")}
    client.get("/api/plain/", HTTP_ORIGIN=APP)
    client.get("/api/plain/", HTTP_ORIGIN=EVIL)
    client.post("/api/plain/", HTTP_ORIGIN="http://testserver")
    assert value(name, policy="frontend", outcome="allowed") == before["allowed"] + 1
    assert value(name, policy="frontend", outcome="not_allowed") == before["not_allowed"] + 1


@pytest.mark.usefixtures("enabled")
def test_csrf_trust_is_counted_by_policy(credentialed_api: CorsPolicy, settings: Any) -> None:
    settings.MIDDLEWARE = [
        "django_preflight.csrf.CsrfViewMiddleware"
        if name == "django.middleware.csrf.CsrfViewMiddleware"
        else name
        for name in settings.MIDDLEWARE
    ]
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(User.objects.create_user("alice"))
    token = browser.get("/api/csrf/token/").json()["csrfToken"]
    before = value("django_preflight_csrf_origins_trusted_total", policy="frontend")
    response = browser.post("/api/csrf/write/", HTTP_ORIGIN=APP, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200
    assert value("django_preflight_csrf_origins_trusted_total", policy="frontend") == before + 1


@pytest.mark.usefixtures("enabled")
def test_snapshot_rebuilds_and_size_are_reported(
    client: Client, make_policy: Callable[..., CorsPolicy], monkeypatch: pytest.MonkeyPatch
) -> None:
    built_at = 1_800_000_000.0
    monkeypatch.setattr(metrics, "time", SimpleNamespace(time=lambda: built_at))
    make_policy(origins=(APP, EVIL), name="two-origins")
    before = value("django_preflight_snapshot_rebuilds_total")
    preflight(client, APP)
    assert value("django_preflight_snapshot_rebuilds_total") == before + 1
    assert value("django_preflight_snapshot_policies") == 1
    assert value("django_preflight_snapshot_origins") == 2
    assert value("django_preflight_snapshot_built_timestamp_seconds") == built_at


@pytest.mark.usefixtures("enabled")
def test_refusals_folded_into_overflow_are_counted(settings: Any) -> None:
    settings.PREFLIGHT_AUDIT_BUFFER_SIZE = 2
    before = value("django_preflight_audit_overflow_refusals_total")
    for n in range(5):
        facts = RequestFacts("OPTIONS", "/x/", f"https://site{n}.example", "PUT")
        buffer.record(Decision(Outcome.PREFLIGHT_REFUSED, Reason.NO_POLICY), facts)
    assert value("django_preflight_audit_overflow_refusals_total") == before + 3


def test_nothing_is_counted_while_the_setting_is_off(
    client: Client, credentialed_api: CorsPolicy
) -> None:
    name = "django_preflight_preflights_total"
    before = value(name, policy="frontend", outcome="allowed", reason="allowed")
    preflight(client, APP)
    assert value(name, policy="frontend", outcome="allowed", reason="allowed") == before


@pytest.mark.usefixtures("enabled")
def test_the_view_serves_the_exposition_format(
    client: Client, credentialed_api: CorsPolicy, rf: Any
) -> None:
    preflight(client, APP)
    response = metrics.metrics_view(rf.get("/metrics"))
    assert response["Content-Type"].startswith("text/plain; version=")
    body = response.content.decode()
    assert (
        'django_preflight_preflights_total{outcome="allowed",policy="frontend",reason="allowed"}'
        in body
    )
    assert "https://app.example.com" not in body


def test_check_refuses_metrics_without_prometheus_client(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.PREFLIGHT_METRICS = True
    assert [e.id for e in check_settings()] == []
    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    assert [e.id for e in check_settings()] == ["django_preflight.E005"]


@pytest.mark.usefixtures("enabled")
def test_enforced_refusals_are_counted_as_blocked(
    client: Client, make_policy: Callable[..., CorsPolicy]
) -> None:
    make_policy(origins=(APP,), name="enforced", path_prefix="/api/", enforce_on_server=True)
    name = "django_preflight_cross_origin_requests_total"
    before = value(name, policy="enforced", outcome="blocked")
    assert client.post("/api/plain/", HTTP_ORIGIN=EVIL).status_code == 403
    assert value(name, policy="enforced", outcome="blocked") == before + 1
