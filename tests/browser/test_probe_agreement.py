"""Chromium and ``django_preflight.probe`` judged on the same table of server behaviours.

Each behaviour of ``tests.cors_server`` is called from a page on another origin with the
behaviour's method, headers and credentials mode. Chromium's verdict must be the table's, and
the probe, sending the same requests from Python, must print the very line Chromium printed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Playwright

from django_preflight.engine.browser import CorsRequest
from django_preflight.probe import probe
from example_project.frontend_server import FrontendServer
from tests.cors_server import BEHAVIOURS, Behaviour, serve

from .support import PageSession, launch, page_url

pytestmark = pytest.mark.browser

# The Fetch standard says '*' never covers Authorization; Chromium enforces it only with this
# feature on, so that row is judged by a browser started with it.
STRICT_AUTHORIZATION = "--enable-features=CorsNonWildcardRequestHeadersSupport"
NEEDS_STRICT_BROWSER = {"authorization-star"}


@pytest.fixture(scope="module")
def cors_server() -> Iterator[str]:
    """The configurable server on its own port: another origin than the page's."""
    with serve() as (base, _seen):
        yield base


@pytest.fixture(scope="module")
def strict_chromium(playwright_driver: Playwright, chromium_executable: str) -> Iterator[Browser]:
    """Chromium with the standard's rule for Authorization and '*' switched on."""
    browser = launch(playwright_driver, chromium_executable, STRICT_AUTHORIZATION)
    yield browser
    browser.close()


def body_for(behaviour: Behaviour) -> str | None:
    """A body for methods that carry one, typed as the behaviour's Content-Type says."""
    return None if behaviour.method.upper() in ("GET", "HEAD") else "{}"


@pytest.mark.parametrize("behaviour", BEHAVIOURS, ids=lambda b: b.name)
def test_chromium_and_the_probe_agree(
    behaviour: Behaviour,
    cors_server: str,
    frontend: FrontendServer,
    request: pytest.FixtureRequest,
) -> None:
    browser_fixture = "strict_chromium" if behaviour.name in NEEDS_STRICT_BROWSER else "chromium"
    browser: Browser = request.getfixturevalue(browser_fixture)
    url = f"{cors_server}/{behaviour.name}/"
    page = PageSession(browser, page_url(frontend))
    try:
        outcome = page.fetch(
            url,
            behaviour.method,
            dict(behaviour.request_headers),
            body_for(behaviour),
            credentials="include" if behaviour.credentials else "omit",
        )
    finally:
        page.close()
    report = probe(
        CorsRequest(
            url=url,
            origin=frontend.origin,
            method=behaviour.method,
            headers=behaviour.request_headers,
            credentials=behaviour.credentials,
        ),
        timeout=5,
    )

    if behaviour.verdict is None:
        assert outcome.passed, outcome
        assert report.passed, report.message
    else:
        assert outcome.verdict().startswith(behaviour.verdict), outcome.message
        assert report.message is not None, "the probe let through what Chromium blocked"
        assert report.message == outcome.message, "the probe's line differs from Chromium's"
