"""nginx in front of gunicorn: forwarding only works; adding Access-Control-Allow-Origin as
well makes Chromium see two values and block every call."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from example_project.frontend_server import FrontendServer

from .control import Control
from .servers import Nginx, ServerProcess, require_nginx
from .support import ALICE, MULTIPLE_VALUES, PREFLIGHT_FAILED, PageSession, blocked_prefix, page_url

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def nginx(api: ServerProcess, workdir: Path) -> Iterator[Nginx]:
    """nginx proxying to the gunicorn API; stopped by its PID."""
    require_nginx()
    proxy = Nginx(prefix=workdir / "nginx", upstream_port=api.port).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def frontend_policy(policies: Callable[..., int], frontend: FrontendServer) -> None:
    """The frontend's credentialed policy on /api/."""
    policies(
        "frontend",
        frontend.origin,
        path_prefix="/api/",
        allow_credentials=True,
        allowed_methods=["GET", "PUT"],
        allowed_headers=["authorization", "content-type"],
    )


def test_a_forwarding_proxy_lets_preflights_and_calls_through(
    nginx: Nginx,
    frontend_policy: None,
    frontend: FrontendServer,
    open_page: Callable[[str], PageSession],
    control: Control,
    accounts: dict[str, str],
    request_log: Callable[[], list[tuple[int, str, str]]],
) -> None:
    note = control("note", owner=ALICE, title="before")
    path = f"/api/notes/{note}/"
    url = f"http://127.0.0.1:{nginx.forward_port}{path}"
    page = open_page(page_url(frontend))
    headers = {"Authorization": f"Token {accounts[ALICE]}", "Content-Type": "application/json"}

    put = page.fetch(url, "PUT", headers, json.dumps({"title": "via nginx", "body": ""}))
    get = page.fetch(url, headers=headers, credentials="include")

    assert put.passed, put
    assert get.passed, get
    assert (put.status, get.status) == (200, 200)
    assert get.json()["title"] == "via nginx"
    assert [m for _, m, t in request_log() if t == path] == ["OPTIONS", "PUT", "OPTIONS", "GET"]
    access_log = (nginx.prefix / "access.log").read_text()
    assert f'"OPTIONS {path} HTTP/1.1" 204' in access_log


@pytest.mark.parametrize("preflighted", [True, False], ids=["preflight", "simple-get"])
def test_a_proxy_that_adds_allow_origin_too_is_blocked(
    nginx: Nginx,
    frontend_policy: None,
    frontend: FrontendServer,
    open_page: Callable[[str], PageSession],
    preflighted: bool,
) -> None:
    url = f"http://127.0.0.1:{nginx.adding_port}/api/public/status/"
    page = open_page(page_url(frontend))
    headers = {"Authorization": "Token unused"} if preflighted else {}

    outcome = page.fetch(url, headers=headers)

    doubled = f"'{frontend.origin}, {frontend.origin}'"
    expected = (
        f"{MULTIPLE_VALUES} {doubled}, but only one is allowed. "
        "Have the server send the header with a valid value."
    )
    prefix = blocked_prefix(url, frontend.origin) + (PREFLIGHT_FAILED if preflighted else "")
    assert outcome.message == prefix + expected
