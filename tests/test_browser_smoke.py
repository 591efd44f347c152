"""Real Chromium against a real server: the demo frontend's credentialed PUT, then a refusal.

The page is served from one port and the API (pytest-django's live server) from another, so
every call crosses origins and the browser alone decides whether it may be made.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from pytest_django.live_server_helper import LiveServer
from rest_framework.authtoken.models import Token

from django_preflight.models import AllowedOrigin
from example_project.frontend_server import FrontendServer
from example_project.notes.models import Note

from .browser_support import (
    CHROMIUM_ARGS,
    CORS_BLOCKED,
    FETCH_FAILED,
    on_loopback_ip,
    require_chromium,
)
from .factories import CorsPolicyFactory

PUT_FROM_PAGE = "([path, body]) => window.callApi('PUT', path, body)"


@pytest.fixture
def frontend() -> Iterator[FrontendServer]:
    """The demo's page on a free port of 127.0.0.1, a different origin from the API."""
    server = FrontendServer("127.0.0.1", 0, quiet=True).start()
    yield server
    server.stop()


@pytest.fixture
def chromium(monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    """Headless Chromium, one per test; each phase of a test opens its own context.

    Between calls, Playwright's sync API leaves its event loop marked as running in this
    thread; the thread stays synchronous, so Django's guard against ORM calls from async code
    would misfire on the test's own queries.
    """
    executable = require_chromium()
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=list(CHROMIUM_ARGS), headless=True
        )
        yield browser
        browser.close()


def smoke_policy(origin: str) -> AllowedOrigin:
    """The demo's credentialed policy on /api/, allowing exactly ``origin``."""
    policy = CorsPolicyFactory(
        name="browser-smoke",
        allow_credentials=True,
        exposed_headers=["Location"],
        max_age=600,
        origins=[origin],
    )
    return policy.origins.get()


def open_page(browser: Browser, url: str) -> tuple[BrowserContext, Page]:
    """A page in a fresh context: nothing cached, in particular no earlier preflight answer."""
    context = browser.new_context()
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(url)
    return context, page


@pytest.mark.browser
@pytest.mark.urls("example_project.urls")
def test_credentialed_put_passes_then_is_blocked_once_the_origin_is_removed(
    transactional_db: None,
    live_server: LiveServer,
    frontend: FrontendServer,
    chromium: Browser,
) -> None:
    allowed = smoke_policy(frontend.origin)
    user = get_user_model().objects.create_user(username="smoke")
    token = Token.objects.create(user=user)
    note = Note.objects.create(owner=user, title="Before", body="unchanged")
    query = urlencode({"api": on_loopback_ip(live_server.url), "token": token.key})
    page_url = f"{frontend.origin}/?{query}"
    note_path = f"/api/notes/{note.pk}/"

    context, page = open_page(chromium, page_url)
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    result: dict[str, Any] = page.evaluate(
        PUT_FROM_PAGE, [note_path, {"title": "After", "body": "sent from Chromium"}]
    )
    assert result.get("error") is None, console_errors
    assert (result["ok"], result["status"]) == (True, 200)
    assert (result["body"]["title"], result["body"]["body"]) == ("After", "sent from Chromium")
    page.click("#btn-status")
    expect(page.locator("#result")).to_contain_text("GET /api/public/status/ -> 200")
    context.close()
    assert not [text for text in console_errors if CORS_BLOCKED in text]
    note.refresh_from_db()
    assert note.title == "After"

    allowed.delete()

    context, page = open_page(chromium, page_url)
    with page.expect_console_message(
        lambda m: m.type == "error" and CORS_BLOCKED in m.text
    ) as console:
        result = page.evaluate(PUT_FROM_PAGE, [note_path, {"title": "Blocked", "body": ""}])
        assert result == {"error": FETCH_FAILED}
    context.close()
    assert f"from origin '{frontend.origin}'" in console.value.text
    note.refresh_from_db()
    assert note.title == "After"
