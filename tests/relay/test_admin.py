"""The relay's admin: counters visible, injected secrets named but never shown."""

from __future__ import annotations

from typing import Any

from django.test import Client

from django_preflight.relay import stats
from django_preflight.relay.models import ErrorKind, Upstream


def test_change_page_shows_counters_and_secret_names_never_values(
    admin_client: Client, loopback: Upstream, api_key: str
) -> None:
    stats.counters.record(loopback.pk, None)
    stats.counters.record(loopback.pk, ErrorKind.TIMEOUT, "no answer within the timeout")
    stats.counters.write()

    page = admin_client.get(f"/admin/preflight_relay/upstream/{loopback.pk}/change/")
    listing = admin_client.get("/admin/preflight_relay/upstream/")

    text = page.content.decode()
    assert page.status_code == 200
    assert "X-Api-Key: env:RELAY_TEST_API_KEY" in text
    assert "calls: 2" in text
    assert "timeout: 1" in text
    assert "no answer within the timeout" in text
    assert api_key not in text
    assert listing.status_code == 200
    assert api_key not in listing.content.decode()


def test_a_missing_secret_is_reported_by_name(
    admin_client: Client, loopback: Upstream, monkeypatch: Any
) -> None:
    monkeypatch.delenv("RELAY_TEST_API_KEY", raising=False)

    page = admin_client.get(f"/admin/preflight_relay/upstream/{loopback.pk}/change/")

    assert "env RELAY_TEST_API_KEY is not set" in page.content.decode()


def test_the_admin_form_refuses_an_http_base_url_with_a_reason(admin_client: Client) -> None:
    response = admin_client.post(
        "/admin/preflight_relay/upstream/add/",
        {
            "slug": "weather",
            "enabled": "on",
            "base_url": "http://api.weather.example/v1",
            "allowed_methods": "GET",
            "timeout": "10",
            "max_request_bytes": "1000",
            "max_response_bytes": "1000",
            "rate_limit": "60",
        },
    )

    assert response.status_code == 200
    assert "must start with https://" in response.content.decode()
    assert not Upstream.objects.exists()
