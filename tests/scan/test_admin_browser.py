"""The "Scan a URL" page in real Chromium: a staff member with the permission, the SSRF
refusal of a loopback URL, then, with private addresses allowed, a scan and its findings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import override_settings
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from tests.test_browser_smoke import chromium  # noqa: F401  (the shared Chromium fixture)

from .servers import TRUSTED, serve

PASSWORD = "scan-page-password"


@pytest.fixture
def target() -> Iterator[tuple[str, list[Any]]]:
    with serve() as running:
        yield running


def fill_and_submit(page: Page, url: str) -> None:
    page.fill("#id_url", url)
    page.fill("#id_trusted_origins", TRUSTED)
    page.check("#id_credentials")
    page.click("#scan-form input[type=submit]")


@pytest.mark.browser
def test_scan_page_refuses_loopback_then_scans_when_allowed(
    transactional_db: None,
    live_server: LiveServer,
    chromium: Browser,  # noqa: F811
    target: tuple[str, list[Any]],
) -> None:
    base, seen = target
    user = User.objects.create_user("auditor", password=PASSWORD, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename="run_scan"))
    context = chromium.new_context()
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/django_preflight/scanresult/")
    page.fill("#id_username", "auditor")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.get_by_role("link", name="Scan a URL").click()
    expect(page.locator("h1")).to_have_text("Scan a URL")

    fill_and_submit(page, f"{base}/null-trusting/")
    expect(page.locator(".errorlist")).to_contain_text(
        "resolves to 127.0.0.1, a loopback address: scanning private, loopback and reserved "
        "addresses is off (PREFLIGHT_SCAN_ALLOW_PRIVATE_ADDRESSES)."
    )
    assert seen == []

    with override_settings(PREFLIGHT_SCAN_ALLOW_PRIVATE_ADDRESSES=True):
        fill_and_submit(page, f"{base}/null-trusting/")
        finding = page.locator("#finding-trusts-null-origin")
        expect(finding).to_contain_text("HIGH trusts-null-origin: The 'null' origin is allowed")
        expect(finding).to_contain_text("Access-Control-Allow-Origin: null")
        expect(page.locator(".messagelist")).to_contain_text(
            f"Scanned with {len(seen)} requests: 1 finding."
        )
    assert len(seen) > 0
    page.goto(f"{live_server.url}/admin/django_preflight/scanresult/")
    expect(page.locator("#result_list")).to_contain_text(f"{base}/null-trusting/")
    context.close()
