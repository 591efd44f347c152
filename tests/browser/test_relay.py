"""The relay judged by Chromium: a page on another origin calls a "third-party" API that has no
CORS at all, through the relay, under gunicorn (sync view) and uvicorn (async view).

The API runs on loopback in the test process; its registration explicitly allows a loopback
target. The API key is injected by the servers from their environment: the API must see it,
and no response that reaches the browser, header or body, may contain it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Response

from example_project.frontend_server import FrontendServer
from tests.relay.upstream import Upstream as LoopbackApi

from .control import Control
from .servers import ServerProcess, gunicorn, running, uvicorn
from .support import NO_ALLOW_ORIGIN, PREFLIGHT_FAILED, PageSession, page_url

pytestmark = pytest.mark.browser

API_KEY = "sk-browser-suite-5b1e0c7d-must-stay-on-the-server"
SLUG = "thirdparty"
FIVE_MB = 5 * 1024 * 1024


@pytest.fixture(scope="module")
def third_party() -> Iterator[LoopbackApi]:
    """The API without CORS, on 127.0.0.1."""
    server = LoopbackApi().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def relay_env(server_env: dict[str, str]) -> dict[str, str]:
    """The servers' environment plus the secret, as an operator would set it."""
    return {**server_env, "RELAY_TEST_API_KEY": API_KEY}


@pytest.fixture(scope="module")
def relay_wsgi(relay_env: dict[str, str], workdir: Path) -> Iterator[ServerProcess]:
    """gunicorn serving the relay's sync view at /relay/."""
    yield from running(gunicorn("relay-gunicorn", relay_env, workdir))


@pytest.fixture(scope="module")
def relay_asgi(relay_env: dict[str, str], workdir: Path) -> Iterator[ServerProcess]:
    """uvicorn serving the relay's async view at /relay-async/."""
    yield from running(uvicorn("relay-uvicorn", relay_env, workdir))


@pytest.fixture(params=["gunicorn", "uvicorn"])
def relay_base(request: pytest.FixtureRequest) -> str:
    """The relay's URL for the upstream under each server."""
    if request.param == "gunicorn":
        server: ServerProcess = request.getfixturevalue("relay_wsgi")
        return f"{server.origin}/relay/{SLUG}"
    server = request.getfixturevalue("relay_asgi")
    return f"{server.origin}/relay-async/{SLUG}"


@pytest.fixture
def registered(
    policies: Callable[..., int],
    control: Control,
    frontend: FrontendServer,
    third_party: LoopbackApi,
) -> LoopbackApi:
    """The relay paths covered by a policy for the frontend; the API registered."""
    for prefix in ("/relay/", "/relay-async/"):
        policies(
            f"relay {prefix}",
            frontend.origin,
            path_prefix=prefix,
            allowed_methods=["GET", "POST"],
            allowed_headers=["content-type", "x-custom"],
            exposed_headers=["X-Rate-Remaining"],
        )
    control(
        "upstream",
        slug=SLUG,
        base_url=third_party.url,
        allow_http=True,
        allow_private_targets=True,
        allowed_methods=["GET", "POST"],
        allowed_request_headers=["x-custom"],
        allowed_response_headers=["x-rate-remaining"],
        injected_headers="X-Api-Key: env:RELAY_TEST_API_KEY",
        max_response_bytes=8 * 1024 * 1024,
        rate_limit=0,
    )
    return third_party


class Watched:
    """A page whose every response (preflights included) is kept for inspection."""

    def __init__(self, session: PageSession) -> None:
        self.session = session
        self.responses: list[Response] = []
        session.page.on("response", self._keep)

    def _keep(self, response: Response) -> None:
        self.responses.append(response)

    def assert_never_saw(self, secret: str) -> None:
        """No header and no body of any response the browser received holds ``secret``."""
        assert self.responses
        for response in self.responses:
            headers = response.all_headers()
            assert all(secret not in f"{k}: {v}" for k, v in headers.items()), response.url
            assert secret.encode() not in response.body(), response.url


@pytest.fixture
def page(open_page: Callable[[str], PageSession], frontend: FrontendServer) -> Watched:
    """The frontend's page, on its own origin."""
    return Watched(open_page(page_url(frontend)))


def test_the_api_itself_has_no_cors(
    registered: LoopbackApi, page: Watched, frontend: FrontendServer
) -> None:
    """Called directly, the API fails in the browser: the reason the relay exists."""
    outcome = page.session.fetch(
        f"{registered.url}/echo",
        "POST",
        {"Content-Type": "application/json"},
        "{}",
    )

    assert outcome.error is not None
    assert outcome.verdict() == PREFLIGHT_FAILED + NO_ALLOW_ORIGIN


def test_get_through_the_relay(registered: LoopbackApi, relay_base: str, page: Watched) -> None:
    outcome = page.session.fetch(f"{relay_base}/echo?city=Z%C3%BCrich", read=("X-Rate-Remaining",))

    assert outcome.passed, outcome
    assert outcome.status == 200
    assert outcome.json()["path"] == "/v1/echo?city=Z%C3%BCrich"
    assert registered.received[-1].headers["x-api-key"] == API_KEY
    page.assert_never_saw(API_KEY)


def test_post_json_with_a_custom_header(
    registered: LoopbackApi, relay_base: str, page: Watched
) -> None:
    outcome = page.session.fetch(
        f"{relay_base}/echo",
        "POST",
        {"Content-Type": "application/json", "X-Custom": "from the page"},
        json.dumps({"order": 42}),
    )

    assert outcome.passed, outcome
    assert outcome.json()["body"] == '{"order": 42}'
    assert outcome.json()["x-custom"] == "from the page"
    seen = registered.received[-1]
    assert (seen.method, seen.headers["x-api-key"]) == ("POST", API_KEY)
    assert "cookie" not in seen.headers
    assert "origin" not in seen.headers
    page.assert_never_saw(API_KEY)


def test_a_streamed_5_mb_response(registered: LoopbackApi, relay_base: str, page: Watched) -> None:
    for chunked in ("0", "1"):
        outcome = page.session.fetch(f"{relay_base}/bytes?n={FIVE_MB}&chunked={chunked}")

        assert outcome.passed, outcome
        assert outcome.status == 200
        assert len(outcome.body) == FIVE_MB
    page.assert_never_saw(API_KEY)


def test_an_upstream_500_is_readable_by_the_page(
    registered: LoopbackApi, relay_base: str, page: Watched, control: Control
) -> None:
    outcome = page.session.fetch(f"{relay_base}/fail", read=("Content-Type",))

    assert outcome.passed, outcome
    assert outcome.status == 500
    assert outcome.json() == {"failed": "on purpose"}
    assert outcome.headers["Content-Type"] == "application/json"
    page.assert_never_saw(API_KEY)
    # The counters reach the database within PREFLIGHT_RELAY_STATS_INTERVAL.
    deadline = time.monotonic() + 10
    while control("upstream_calls", slug=SLUG)["upstream_error_errors"] < 1:
        assert time.monotonic() < deadline, "the 500 was never counted"
        time.sleep(0.2)
        page.session.fetch(f"{relay_base}/echo")  # the next call writes the counts


def test_the_set_cookie_and_cors_headers_of_the_api_never_reach_the_page(
    registered: LoopbackApi, relay_base: str, page: Watched
) -> None:
    outcome = page.session.fetch(f"{relay_base}/cookies", read=("X-Rate-Remaining",))

    assert outcome.passed, outcome
    assert outcome.headers["X-Rate-Remaining"] == "41"
    relayed = [r for r in page.responses if "/cookies" in r.url]
    assert relayed
    for response in relayed:
        headers = response.all_headers()
        assert "set-cookie" not in headers
        assert headers.get("access-control-allow-origin") != "*"
    assert page.session.page.context.cookies() == []
