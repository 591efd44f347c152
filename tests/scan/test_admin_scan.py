"""The admin's "Scan a URL" page: its permission, the SSRF guard, the bounds and the results."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client, override_settings
from django.urls import reverse

from django_preflight.checks import check_settings
from django_preflight.scan.admin import MAX_CONCURRENT_SCANS, running_scans
from django_preflight.scan.models import KEEP_RESULTS, ScanResult

from .servers import TRUSTED, serve

pytestmark = pytest.mark.django_db

SCAN = reverse("admin:django_preflight_scanresult_scan")
RESULTS = reverse("admin:django_preflight_scanresult_changelist")


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, list[Any]]]:
    with serve() as running:
        yield running


def staff(*permissions: str) -> Client:
    user = User.objects.create(username="staff", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=permissions))
    client = Client()
    client.force_login(user)
    return client


def test_staff_without_the_permission_cannot_scan() -> None:
    client = staff("view_corspolicy")
    assert client.get(SCAN).status_code == 403
    assert client.post(SCAN, {"url": "http://127.0.0.1:9/"}).status_code == 403
    assert client.get(RESULTS).status_code == 403


def test_the_permission_opens_the_page_and_the_results() -> None:
    client = staff("run_scan")
    page = client.get(SCAN)
    assert page.status_code == 200
    assert b"at most 86 requests" in page.content
    listing = client.get(RESULTS)
    assert listing.status_code == 200
    assert f'href="{SCAN}"'.encode() in listing.content


def test_loopback_is_refused_by_default_and_nothing_is_sent(
    server: tuple[str, list[Any]],
) -> None:
    base, seen = server
    seen.clear()
    client = staff("run_scan")
    response = client.post(SCAN, {"url": f"{base}/reflect-anything/", "trusted_origins": TRUSTED})
    assert response.status_code == 200
    assert "resolves to 127.0.0.1, a loopback address" in response.content.decode()
    assert seen == []
    assert not ScanResult.objects.exists()


@override_settings(PREFLIGHT_SCAN_ALLOW_PRIVATE_ADDRESSES=True)
def test_with_the_setting_the_scan_runs_and_its_result_is_kept(
    server: tuple[str, list[Any]],
) -> None:
    base, seen = server
    seen.clear()
    client = staff("run_scan")
    response = client.post(
        SCAN,
        {"url": f"{base}/null-trusting/", "trusted_origins": TRUSTED, "credentials": "on"},
        follow=True,
    )
    saved = ScanResult.objects.get()
    assert response.redirect_chain[-1][0] == reverse(
        "admin:django_preflight_scanresult_change", args=[saved.pk]
    )
    assert (saved.finding_count, saved.highest_severity, saved.requested_by) == (1, "high", "staff")
    assert saved.trusted_origins == [TRUSTED]
    assert saved.report["findings"][0]["id"] == "trusts-null-origin"
    assert len(seen) == saved.report["requests"]
    page = response.content.decode()
    assert 'id="finding-trusts-null-origin"' in page
    assert "Remove &#x27;null&#x27; from the allowed origins" in page
    assert f"Scanned with {len(seen)} requests: 1 finding." in page


@override_settings(PREFLIGHT_SCAN_ALLOW_PRIVATE_ADDRESSES=True, PREFLIGHT_SCAN_TIME_LIMIT=0.001)
def test_the_time_limit_bounds_the_scan(server: tuple[str, list[Any]]) -> None:
    base, _ = server
    client = staff("run_scan")
    client.post(SCAN, {"url": f"{base}/correct/", "trusted_origins": TRUSTED})
    report = ScanResult.objects.get().report
    assert report["complete"] is False
    assert report["requests"] < report["max_requests"]
    assert any("time limit" in note for note in report["notes"])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"url": "ftp://example.com/"}, "Enter a full http:// or https:// URL"),
        ({"url": "http://user@example.com/"}, "no user name"),
        ({"url": "http://[::1/"}, "no user name"),
        ({"url": "http://example.com:http/"}, "no user name"),
        ({"url": "http://example.com:99999/"}, "no user name"),
        (
            {"url": "https://api.example.com/", "trusted_origins": "https://a.example/x"},
            "remove a path",
        ),
        (
            {
                "url": "https://api.example.com/",
                "trusted_origins": "https://a.example\nhttps://b.example\nhttps://c.example\n"
                "https://d.example",
            },
            "At most 3 trusted origins.",
        ),
    ],
)
def test_bad_input_is_explained(data: dict[str, str], message: str) -> None:
    response = staff("run_scan").post(SCAN, data)
    assert response.status_code == 200
    assert message in response.content.decode().replace("&#x27;", "'")


def test_only_the_last_results_are_kept() -> None:
    for index in range(KEEP_RESULTS + 3):
        ScanResult.objects.create(url=f"https://api{index}.example.com/")
    assert ScanResult.objects.count() == KEEP_RESULTS
    assert ScanResult.objects.filter(url="https://api0.example.com/").count() == 0


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("PREFLIGHT_SCAN_TIME_LIMIT", 0),
        ("PREFLIGHT_SCAN_TIME_LIMIT", 301),
        ("PREFLIGHT_SCAN_ALLOW_PRIVATE_ADDRESSES", "yes"),
    ],
)
def test_scan_settings_are_checked(setting: str, value: object) -> None:
    with override_settings(**{setting: value}):
        messages = check_settings()
    assert [(m.id, m.msg.split(" is ")[0]) for m in messages] == [
        ("django_preflight.E003", setting)
    ]


@override_settings(PREFLIGHT_SCAN_ALLOW_PRIVATE_ADDRESSES=True)
def test_only_a_few_scans_run_at_once(server: tuple[str, list[Any]]) -> None:
    base, seen = server
    seen.clear()
    client = staff("run_scan")
    for _ in range(MAX_CONCURRENT_SCANS):
        assert running_scans.acquire(blocking=False)
    try:
        response = client.post(SCAN, {"url": f"{base}/correct/", "trusted_origins": TRUSTED})
    finally:
        for _ in range(MAX_CONCURRENT_SCANS):
            running_scans.release()
    assert "2 scans are already running in this process" in response.content.decode()
    assert seen == []
    assert not ScanResult.objects.exists()
    client.post(SCAN, {"url": f"{base}/correct/", "trusted_origins": TRUSTED})
    assert ScanResult.objects.count() == 1
