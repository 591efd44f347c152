"""The usual causes of "Response to preflight request doesn't pass access control check",
each shown neutralised in Chromium: the middleware answers the preflight before authentication,
login requirements and slash redirects can, and error responses keep their CORS headers so the
page reads the real status instead of a CORS error."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from example_project.frontend_server import FrontendServer

from .control import Control
from .servers import ServerProcess, gunicorn, running
from .support import ADMIN, ALICE, PASSWORD, PageSession, log_in_to_admin, page_url, plain_status

pytestmark = pytest.mark.browser

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def frontend_policy(policies: Callable[..., int], frontend: FrontendServer) -> None:
    """The demo's policy: credentials, the REST methods, token and CSRF headers."""
    policies(
        "frontend",
        frontend.origin,
        path_prefix="/api/",
        allow_credentials=True,
        allowed_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allowed_headers=["accept", "authorization", "content-type", "x-api-key", "x-csrftoken"],
        exposed_headers=["Location"],
    )


@pytest.fixture(scope="module")
def login_required_api(
    server_env: dict[str, str], workdir: Path, accounts: dict[str, str]
) -> Iterator[ServerProcess]:
    """The API with Django's LoginRequiredMiddleware, which redirects anonymous requests."""
    env = {**server_env, "PREFLIGHT_TEST_LOGIN_REQUIRED": "1"}
    yield from running(gunicorn("gunicorn-login-required", env, workdir))


def preflights(log: list[tuple[int, str, str]], target: str) -> int:
    """How many preflights for ``target`` reached the application."""
    return sum(1 for _, method, path in log if method == "OPTIONS" and path == target)


def test_token_authentication_never_sees_the_preflight(
    any_api: ServerProcess,
    frontend_policy: None,
    frontend: FrontendServer,
    open_page: Callable[[str], PageSession],
    control: Control,
    accounts: dict[str, str],
    request_log: Callable[[], list[tuple[int, str, str]]],
) -> None:
    note = control("note", owner=ALICE, title="before")
    path = f"/api/notes/{note}/"
    page = open_page(page_url(frontend))
    body = json.dumps({"title": "after", "body": ""})

    good = page.fetch(
        any_api.origin + path, "PUT", {**JSON, "Authorization": f"Token {accounts[ALICE]}"}, body
    )
    bad = page.fetch(
        any_api.origin + path + "?bad", "PUT", {**JSON, "Authorization": "Token wrong"}, body
    )

    assert good.passed, good
    assert good.status == 200
    assert control("note_title", pk=note) == "after"
    assert bad.passed, bad
    assert bad.status == 401
    assert bad.json() == {"detail": "Invalid token."}
    assert preflights(request_log(), path + "?bad") == 1
    # Without the middleware in front, DRF would have answered the preflight itself: 401.
    assert plain_status(any_api.origin + path, "OPTIONS") == 401


def test_login_required_middleware_never_sees_the_preflight(
    login_required_api: ServerProcess,
    frontend_policy: None,
    frontend: FrontendServer,
    open_page: Callable[[str], PageSession],
    request_log: Callable[[], list[tuple[int, str, str]]],
) -> None:
    # DRF's views are exempt from LoginRequiredMiddleware; a plain Django view is not.
    path = "/api/headers/?login-required"
    page = open_page(f"{login_required_api.origin}/admin/login/")
    log_in_to_admin(page, login_required_api.origin, ADMIN, PASSWORD)
    page.page.goto(page_url(frontend))

    outcome = page.fetch(
        login_required_api.origin + path, headers={"X-Api-Key": "k"}, credentials="include"
    )

    assert outcome.passed, outcome
    assert (outcome.status, outcome.redirected) == (200, False)
    assert preflights(request_log(), path) == 1
    # An anonymous OPTIONS that is not a preflight meets the login redirect.
    assert plain_status(login_required_api.origin + path, "OPTIONS") == 302


def test_append_slash_redirect_is_followed_after_the_preflight(
    any_api: ServerProcess,
    frontend_policy: None,
    frontend: FrontendServer,
    open_page: Callable[[str], PageSession],
    control: Control,
    accounts: dict[str, str],
    request_log: Callable[[], list[tuple[int, str, str]]],
) -> None:
    note = control("note", owner=ALICE, title="before")
    without_slash = f"/api/notes/{note}"
    page = open_page(page_url(frontend))

    outcome = page.fetch(
        any_api.origin + without_slash,
        "PUT",
        {**JSON, "Authorization": f"Token {accounts[ALICE]}"},
        json.dumps({"title": "after", "body": ""}),
    )

    assert outcome.passed, outcome
    assert (outcome.status, outcome.redirected) == (200, True)
    assert control("note_title", pk=note) == "after"
    seen = [(m, t) for _, m, t in request_log() if t.startswith(without_slash)]
    assert seen == [
        ("OPTIONS", without_slash),
        ("PUT", without_slash),
        ("OPTIONS", without_slash + "/"),
        ("PUT", without_slash + "/"),
    ]
    # Without the middleware in front, CommonMiddleware would have redirected the preflight.
    assert plain_status(any_api.origin + without_slash, "OPTIONS") == 301


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/notes/999999/", 404),
        ("/api/no-such-route/", 404),
        ("/api/failing/", 500),
    ],
)
def test_error_responses_are_readable(
    any_api: ServerProcess,
    frontend_policy: None,
    frontend: FrontendServer,
    open_page: Callable[[str], PageSession],
    accounts: dict[str, str],
    path: str,
    status: int,
) -> None:
    page = open_page(page_url(frontend))

    outcome = page.fetch(
        any_api.origin + path,
        headers={"Authorization": f"Token {accounts[ALICE]}"},
        credentials="include",
    )

    assert outcome.passed, outcome
    assert outcome.status == status


def test_session_authentication_from_the_frontend(
    any_api: ServerProcess,
    frontend_policy: None,
    frontend: FrontendServer,
    open_page: Callable[[str], PageSession],
    control: Control,
) -> None:
    frontend_page = page_url(frontend, query=f"api={any_api.origin}")
    anonymous = open_page(frontend_page)
    page = open_page(f"{any_api.origin}/admin/login/")
    log_in_to_admin(page, any_api.origin, ADMIN, PASSWORD)
    page.page.goto(frontend_page)

    refused = anonymous.call_api("POST", "/api/notes/", {"title": "anonymous", "body": ""})
    created = page.call_api("POST", "/api/notes/", {"title": "from the session", "body": ""})
    listed = page.call_api("GET", "/api/notes/")

    assert (refused["messages"], refused["status"]) == ([], 401)
    assert (created["messages"], created.get("error"), created["status"]) == ([], None, 201)
    assert created["body"]["owner"] == ADMIN
    assert created["location"] == created["body"]["url"]
    assert control("note_title", pk=created["body"]["id"]) == "from the session"
    assert listed["status"] == 200
    assert created["body"]["id"] in [note["id"] for note in listed["body"]]
