"""The admin's policy pages and audit list: they fit a 1280x800 window, and say what happened.

In real Chromium each page is opened as a signed-in superuser, with the navigation sidebar in
its default (open) state, and must not scroll sideways: the document is no wider than the
window, no box on it scrolls horizontally (the change list's table would), and a full-page
screenshot is exactly 1280 pixels wide.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from playwright.sync_api import Browser, Page, sync_playwright
from pytest_django.live_server_helper import LiveServer

from django_preflight.audit import buffer
from django_preflight.models import AllowedOrigin, CorsPolicy, RejectedPreflight

from .browser_support import CHROMIUM_ARGS, require_chromium

WIDTH, HEIGHT = 1280, 800
PASSWORD = "layout-password"
ORIGINS = (
    (AllowedOrigin.Kind.EXACT, "https://dashboard.partner-company.example", "main dashboard"),
    (AllowedOrigin.Kind.SUBDOMAIN, "https://*.apps.partner-company.example", "customer apps"),
    (
        AllowedOrigin.Kind.REGEX,
        r"https://pr-[0-9]+\.preview\.partner-company\.example",
        "pull request previews of the partner's dashboard",
    ),
)
REFUSALS = (
    ("http://localhost:5173", "/api/notes/", "POST", "authorization,content-type"),
    ("https://dashboard.partner-company.example", "/api/notes/3/", "PURGE", ""),
    ("https://dashboard.partner-company.example", "/api/notes/", "GET", "x-trace-id"),
    ("https://staging.internal-tools.example.org", "/internal/metrics/export/", "GET", ""),
)


@pytest.fixture
def page(
    transactional_db: None, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Page]:
    """A signed-in superuser's page at 1280x800 (Playwright's sync API keeps an event loop
    marked running in this thread, which Django's async guard would misread)."""
    executable = require_chromium()
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    get_user_model().objects.create_superuser("layout", "layout@example.com", PASSWORD)
    with sync_playwright() as playwright:
        browser: Browser = playwright.chromium.launch(
            executable_path=executable, args=list(CHROMIUM_ARGS), headless=True
        )
        context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
        context.set_default_timeout(15_000)
        opened = context.new_page()
        opened.goto(f"{live_server.url}/admin/login/?next=/admin/")
        opened.fill("#id_username", "layout")
        opened.fill("#id_password", PASSWORD)
        opened.click("input[type=submit]")
        opened.wait_for_url(f"{live_server.url}/admin/")
        yield opened
        browser.close()


def partner_policy() -> CorsPolicy:
    policy = CorsPolicy(
        name="partner-company-dashboards",
        description="Partner dashboards read the notes API with a token, never cookies.",
        path_prefix="/api/",
        allowed_headers=["accept", "authorization", "content-type", "x-request-id"],
        exposed_headers=["Location", "X-Total-Count"],
        max_age=7200,
    )
    policy.full_clean()
    policy.save()
    for kind, value, note in ORIGINS:
        origin = AllowedOrigin(policy=policy, kind=kind, value=value, note=note)
        origin.full_clean()
        origin.save()
    return policy


def record_refusals() -> None:
    """Refused preflights sent through the middleware, so the audit has real rows."""
    client = Client()
    for origin, path, method, headers in REFUSALS:
        extra = {"HTTP_ORIGIN": origin, "HTTP_ACCESS_CONTROL_REQUEST_METHOD": method}
        if headers:
            extra["HTTP_ACCESS_CONTROL_REQUEST_HEADERS"] = headers
        assert client.options(path, **extra).status_code == 403
    buffer.flush()
    assert RejectedPreflight.objects.count() == len(REFUSALS)


def png_width(path: Path) -> int:
    """The width field of a PNG's header chunk."""
    return int(struct.unpack(">I", path.read_bytes()[16:20])[0])


def assert_fits(page: Page, url: str, shot: Path) -> None:
    page.goto(url)
    overflow = page.evaluate(
        """() => {
          const name = e => e.id || e.className || e.tagName;
          const all = [...document.querySelectorAll('body *')];
          const wide = all.filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5);
          const scrolled = all.filter(e => !['INPUT', 'TEXTAREA', 'SELECT'].includes(e.tagName)
            && ['auto', 'scroll', 'hidden'].includes(getComputedStyle(e).overflowX)
            && e.clientWidth > 1 && e.scrollWidth > e.clientWidth + 1);
          return {document: document.documentElement.scrollWidth, window: window.innerWidth,
                  wide: wide.slice(0, 8).map(name), scrolled: scrolled.map(name)};
        }"""
    )
    assert overflow["document"] <= overflow["window"] == WIDTH, overflow
    assert overflow["scrolled"] == [], overflow
    page.screenshot(path=str(shot), full_page=True)
    assert png_width(shot) == WIDTH


@pytest.mark.browser
def test_policy_list_pages_and_audit_list_fit_1280_pixels(
    page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    policy = partner_policy()
    record_refusals()
    admin = f"{live_server.url}/admin/django_preflight"
    assert_fits(page, f"{admin}/corspolicy/", tmp_path / "policy-list.png")
    assert_fits(page, f"{admin}/corspolicy/add/", tmp_path / "policy-add.png")
    assert_fits(page, f"{admin}/corspolicy/{policy.pk}/change/", tmp_path / "policy-change.png")
    assert_fits(page, f"{admin}/rejectedpreflight/", tmp_path / "audit-list.png")


@pytest.mark.django_db
def test_audit_list_summarises_and_links_each_refusal(admin_client: Client) -> None:
    partner_policy()
    record_refusals()
    row = RejectedPreflight.objects.get(request_method="PURGE")
    page = admin_client.get("/admin/django_preflight/rejectedpreflight/").content.decode()
    detail = f"/admin/django_preflight/rejectedpreflight/{row.pk}/change/"
    assert f'<a href="{detail}' in page
    assert "No Allow-Origin header (method not allowed: PURGE)" in page
    assert "PURGE /api/notes/3/" in page


@pytest.mark.django_db
def test_audit_detail_has_a_human_title_and_a_true_answer_line(admin_client: Client) -> None:
    partner_policy()
    record_refusals()
    row = RejectedPreflight.objects.get(origin="http://localhost:5173")
    page = admin_client.get(f"/admin/django_preflight/rejectedpreflight/{row.pk}/change/")
    text = page.content.decode()
    assert "POST /api/notes/ from http://localhost:5173: origin not allowed" in text
    assert "origin_not_allowed" not in text.split("<h2>", 1)[1].split("</h2>", 1)[0]
    assert "Refused: the browser got the refusal and blocked the call." in text
    assert "Would have been refused by a report-only policy" not in text
    assert "One distinct refusal, counted each time it recurs." in text
    assert "Counts refusals not stored one by one" not in text
    RejectedPreflight.objects.filter(pk=row.pk).update(report_only=True)
    text = admin_client.get(f"/admin/django_preflight/rejectedpreflight/{row.pk}/change/")
    assert "Report only: a report-only policy would refuse" in text.content.decode()
