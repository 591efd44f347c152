"""The origin Chromium sends for a page on a Unicode host is the origin the admin stores for it.

Each host is typed as a person would type it into the admin (and the address bar): the page is
opened at that spelling, the page calls a server on another origin, and that server reports the
``Origin`` header it received. The admin's normalised value must be that very string, or a
policy would grant one domain while the browser presents another.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from playwright.sync_api import Browser
from playwright.sync_api import Error as PlaywrightError

from django_preflight.models import AllowedOrigin

pytestmark = pytest.mark.browser

PAGE = b"<!doctype html><title>unicode host</title>"


class _EchoOrigin(BaseHTTPRequestHandler):
    """``/`` is a blank page; ``/origin`` answers, to any origin, the Origin it was sent."""

    def do_GET(self) -> None:
        origin = self.headers.get("Origin")
        body = PAGE if self.path == "/" else (origin or "(none)").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html" if self.path == "/" else "text/plain")
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def echo_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoOrigin)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def origin_sent(chromium: Browser, page_url: str, echo: str) -> str:
    """Open ``page_url`` in a fresh context and return the Origin its fetch() carried."""
    context = chromium.new_context()
    try:
        page = context.new_page()
        page.goto(page_url)
        return str(page.evaluate("async (u) => (await fetch(u)).text()", echo))
    finally:
        context.close()


def stored_by_admin(typed: str) -> str:
    """The value the admin saves for ``typed``: the model's own validation, run without a
    database (Playwright's event loop forbids queries in this thread)."""
    origin = AllowedOrigin(kind=AllowedOrigin.Kind.EXACT, value=typed)
    origin.clean()
    return origin.value


HOSTS = [
    pytest.param("straße.example.test", id="sharp-s"),
    pytest.param("ΐσος-τελικός-ς.example.test", id="final-sigma"),
    pytest.param("क्\u200dष.example.test", id="zwj-after-virama"),
    pytest.param("\u0646\u0627\u0645\u0647\u200c\u0627\u06cc.example.test", id="zwnj-persian"),
    pytest.param(
        "\uff41\uff50\uff50\uff0e\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0etest",
        id="full-width-letters-and-dots",
    ),
    pytest.param("app\u3002example.test", id="ideographic-full-stop"),
    pytest.param("StraSSe.Café.EXAMPLE.test", id="mixed-case"),
    pytest.param("MÜNCHEN.example.test", id="upper-case-umlaut"),
]


@pytest.mark.parametrize("host", HOSTS)
def test_the_stored_origin_is_the_origin_chromium_sends(
    chromium: Browser, echo_port: int, host: str
) -> None:
    typed = f"http://{host}:{echo_port}"
    sent = origin_sent(chromium, f"{typed}/", f"http://127.0.0.1:{echo_port}/origin")
    assert sent.startswith("http://xn--") or sent.isascii()
    assert stored_by_admin(typed) == sent


@pytest.mark.parametrize(
    "host",
    [
        pytest.param("a\u200db.example.test", id="zwj-between-letters"),
        pytest.param("a\u200cb.example.test", id="zwnj-between-letters"),
    ],
)
def test_a_joiner_chromium_refuses_is_refused_by_the_admin(
    chromium: Browser, echo_port: int, host: str
) -> None:
    """Outside the contexts IDNA allows them, joiners make Chromium refuse the URL outright;
    the admin refuses the same spelling instead of storing a host no browser can send."""
    typed = f"http://{host}:{echo_port}"
    context = chromium.new_context()
    try:
        with pytest.raises(PlaywrightError, match="invalid URL"):
            context.new_page().goto(f"{typed}/")
    finally:
        context.close()
    with pytest.raises(ValidationError, match="not allowed"):
        stored_by_admin(typed)
