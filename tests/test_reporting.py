"""Signals for humans and machines: log lines, the refusal signal, report-only, shaping."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from django.test import Client

from django_preflight import reporting
from django_preflight.audit import buffer
from django_preflight.models import CorsPolicy, RejectedPreflight
from django_preflight.signals import preflight_refused

APP = "https://app.example.com"
TRIAL = "https://trial.example.com"

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(make_policy: Callable[..., CorsPolicy]) -> CorsPolicy:
    return make_policy(
        origins=(APP, TRIAL),
        name="enforced",
        path_prefix="/api/",
        allow_credentials=True,
        allowed_methods=["GET", "PUT"],
        allowed_headers=["content-type"],
    )


def preflight(client: Client, origin: str = APP, method: str = "PUT", headers: str = "") -> Any:
    extra = {"HTTP_ORIGIN": origin, "HTTP_ACCESS_CONTROL_REQUEST_METHOD": method}
    if headers:
        extra["HTTP_ACCESS_CONTROL_REQUEST_HEADERS"] = headers
    return client.options("/api/items/1/", **extra)


def test_one_log_line_per_refusal_with_the_facts(
    client: Client, policy: CorsPolicy, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="django_preflight"):
        preflight(client, origin="https://evil.example\r\nforged: 1")
    (record,) = [r for r in caplog.records if r.name == "django_preflight"]
    assert "reason=origin_not_allowed" in record.getMessage()
    assert "\r" not in record.getMessage()
    assert "\\r\\n" in record.getMessage()
    assert record.preflight["policy"] == "enforced"  # type: ignore[attr-defined]


def test_log_lines_are_rate_limited_and_say_what_they_left_out(
    client: Client, policy: CorsPolicy, caplog: pytest.LogCaptureFixture, settings: Any
) -> None:
    settings.PREFLIGHT_LOG_REFUSALS_PER_MINUTE = 3
    clock = [1000.0]
    with (
        mock.patch.object(reporting.time, "monotonic", side_effect=lambda: clock[0]),
        caplog.at_level(logging.WARNING, logger="django_preflight"),
    ):
        for _ in range(50):
            preflight(client, origin="https://evil.example")
        clock[0] += 61
        preflight(client, origin="https://evil.example")
    lines = [r.getMessage() for r in caplog.records if r.name == "django_preflight"]
    assert len(lines) == 4
    assert lines[-1].endswith("(47 more refusals not logged)")
    buffer.flush()
    assert RejectedPreflight.objects.get().count == 51, "the audit counts every one"


def test_signal_is_sent_for_every_refusal(client: Client, policy: CorsPolicy) -> None:
    received: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        received.append(kwargs)

    preflight_refused.connect(receiver)
    try:
        preflight(client, method="DELETE")
        preflight(client)
    finally:
        preflight_refused.disconnect(receiver)
    assert len(received) == 1
    assert received[0]["decision"].reason.value == "method_not_allowed"
    assert received[0]["request"].path == "/api/items/1/"
    assert received[0]["report_only"] is False


def test_a_failing_receiver_never_breaks_the_request(client: Client, policy: CorsPolicy) -> None:
    def broken(sender: Any, **kwargs: Any) -> None:
        raise RuntimeError("alerting is down")

    preflight_refused.connect(broken)
    try:
        assert preflight(client, method="DELETE").status_code == 403
    finally:
        preflight_refused.disconnect(broken)


def test_report_only_policy_records_but_never_changes_a_response(
    client: Client, policy: CorsPolicy, make_policy: Callable[..., CorsPolicy]
) -> None:
    make_policy(
        origins=(APP,),
        name="tightened",
        path_prefix="/api/",
        report_only=True,
        allow_credentials=True,
        allowed_methods=["GET"],
        allowed_headers=["content-type"],
    )
    enforced = preflight(client, origin=APP, method="PUT")
    trial = preflight(client, origin=TRIAL, method="GET")
    assert (enforced.status_code, trial.status_code) == (204, 204)
    assert enforced.headers["Access-Control-Allow-Methods"] == "GET, PUT"
    assert client.get("/api/plain/", HTTP_ORIGIN=TRIAL).headers["Access-Control-Allow-Origin"] == (
        TRIAL
    )
    buffer.flush()
    rows = {(r.origin, r.reason, r.report_only) for r in RejectedPreflight.objects.all()}
    assert rows == {
        (APP, "method_not_allowed", True),
        (TRIAL, "origin_not_allowed", True),
    }
    assert RejectedPreflight.objects.get(origin=APP).policy.name == "tightened"


def test_report_only_and_enforced_refusals_are_separate_rows(
    client: Client, policy: CorsPolicy, make_policy: Callable[..., CorsPolicy]
) -> None:
    make_policy(
        origins=(APP,),
        name="tightened",
        path_prefix="/api/",
        report_only=True,
        allowed_methods=["GET"],
    )
    preflight(client, origin="https://evil.example", method="GET")
    buffer.flush()
    assert sorted(RejectedPreflight.objects.values_list("report_only", flat=True)) == [False, True]


def test_shaping_lets_chromium_name_the_method_or_header(
    client: Client, policy: CorsPolicy, settings: Any
) -> None:
    settings.PREFLIGHT_SHAPE_REFUSALS = True
    method = preflight(client, method="DELETE")
    assert method.status_code == 204
    assert method.headers["Access-Control-Allow-Origin"] == APP
    assert method.headers["Access-Control-Allow-Methods"] == "GET, PUT"
    header = preflight(client, headers="x-secret")
    assert header.headers["Access-Control-Allow-Headers"] == "content-type"
    unknown_origin = preflight(client, origin="https://evil.example")
    assert unknown_origin.status_code == 403
    assert "Access-Control-Allow-Origin" not in unknown_origin.headers
    buffer.flush()
    assert RejectedPreflight.objects.count() == 3, "shaped refusals are still refusals"
