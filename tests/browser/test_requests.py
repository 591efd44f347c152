"""The demo frontend calling the notes API: methods, headers, credentials, exposed headers,
preflight caching and the audit of refusals, judged by Chromium."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from example_project.frontend_server import FrontendServer

from .control import Control
from .servers import ServerProcess
from .support import (
    ALICE,
    NO_ALLOW_ORIGIN,
    PREFLIGHT_FAILED,
    PageSession,
    blocked_prefix,
    check_method_applied,
    page_url,
)

pytestmark = pytest.mark.browser

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
HEADERS = ["accept", "authorization", "content-type", "x-api-key", "x-csrftoken"]


@pytest.fixture
def frontend_policy(policies: Callable[..., int], frontend: FrontendServer) -> str:
    """The frontend's policy on /api/: credentials, the REST methods, and two exposed headers."""
    policies(
        "frontend",
        frontend.origin,
        path_prefix="/api/",
        allow_credentials=True,
        allowed_methods=METHODS,
        allowed_headers=HEADERS,
        exposed_headers=["Location", "X-Total-Count"],
        max_age=600,
    )
    return frontend.origin


def token_headers(token: str, *, json_body: bool = False) -> dict[str, str]:
    """A token, a custom header and, with a body, JSON: every call below is preflighted."""
    headers = {"Authorization": f"Token {token}", "X-Api-Key": "demo-key"}
    if json_body:
        headers["Content-Type"] = "application/json"
    return headers


@pytest.mark.parametrize(
    ("method", "status"),
    [("GET", 200), ("POST", 201), ("PUT", 200), ("PATCH", 200), ("DELETE", 204)],
)
def test_every_method_with_token_custom_header_and_json(
    any_api: ServerProcess,
    frontend_policy: str,
    frontend: FrontendServer,
    open_page: Callable[[str], PageSession],
    control: Control,
    accounts: dict[str, str],
    method: str,
    status: int,
) -> None:
    note = control("note", owner=ALICE, title="before")
    path = "/api/notes/" if method == "POST" else f"/api/notes/{note}/"
    body = None if method in ("GET", "DELETE") else json.dumps({"title": f"by {method}"})
    page = open_page(page_url(frontend))

    outcome = page.fetch(
        any_api.origin + path,
        method,
        token_headers(accounts[ALICE], json_body=body is not None),
        body,
        credentials="include",
        read=("Location",),
    )

    assert outcome.passed, outcome
    assert outcome.status == status
    check_method_applied(outcome, method, note, control)


@pytest.mark.parametrize("credentials", ["include", "omit"])
def test_credentials_mode_against_a_policy_with_and_without_credentials(
    api: ServerProcess,
    policies: Callable[..., int],
    frontend: FrontendServer,
    open_page: Callable[[str], PageSession],
    accounts: dict[str, str],
    credentials: str,
) -> None:
    common: dict[str, Any] = {"allowed_methods": ["GET"], "allowed_headers": HEADERS}
    policies("with", frontend.origin, path_prefix="/api/notes/", allow_credentials=True, **common)
    policies("without", frontend.origin, path_prefix="/api/public/", **common)
    page = open_page(page_url(frontend))
    headers = token_headers(accounts[ALICE])

    to_credentialed = page.fetch(
        api.origin + "/api/notes/", headers=headers, credentials=credentials
    )
    to_plain = page.fetch(
        api.origin + "/api/public/status/", headers=headers, credentials=credentials
    )

    assert to_credentialed.passed, to_credentialed
    assert to_credentialed.status == 200
    if credentials == "omit":
        assert to_plain.passed, to_plain
        assert to_plain.status == 200
    else:
        assert to_plain.message == blocked_prefix(to_plain.url, frontend.origin) + (
            PREFLIGHT_FAILED + "The value of the 'Access-Control-Allow-Credentials' header in "
            "the response is '' which must be 'true' when the request's credentials mode is "
            "'include'."
        )


def test_exposed_headers_are_readable_only_when_exposed(
    any_api: ServerProcess,
    policies: Callable[..., int],
    frontend: FrontendServer,
    open_page: Callable[[str], PageSession],
) -> None:
    policies(
        "exposing", frontend.origin, path_prefix="/api/headers/", exposed_headers=["X-Total-Count"]
    )
    policies("silent", frontend.origin, path_prefix="/api/public/")
    page = open_page(page_url(frontend))
    read = ("X-Total-Count", "X-Internal-Trace", "Content-Type")

    exposing = page.fetch(any_api.origin + "/api/headers/", read=read)
    silent = page.fetch(any_api.origin + "/api/public/status/", read=read)

    assert exposing.passed, exposing
    assert exposing.headers == {
        "X-Total-Count": "42",
        "X-Internal-Trace": None,
        "Content-Type": "application/json",
    }
    assert silent.passed, silent
    assert silent.headers["X-Total-Count"] is None
    assert silent.headers["Content-Type"] == "application/json"


def test_max_age_spares_the_second_preflight_but_not_a_new_url(
    api: ServerProcess,
    frontend_policy: str,
    frontend: FrontendServer,
    open_page: Callable[[str], PageSession],
    request_log: Callable[[], list[tuple[int, str, str]]],
) -> None:
    case = uuid.uuid4().hex
    first = f"/api/public/status/?case={case}&n=1"
    second = f"/api/public/status/?case={case}&n=2"
    page = open_page(page_url(frontend))
    headers = {"X-Api-Key": "demo-key"}

    outcomes = [
        page.fetch(api.origin + first, headers=headers),
        page.fetch(api.origin + first, headers=headers),
        page.fetch(api.origin + second, headers=headers),
    ]

    assert all(outcome.passed for outcome in outcomes), outcomes
    seen = [(method, target) for _, method, target in request_log() if case in target]
    assert seen == [
        ("OPTIONS", first),
        ("GET", first),
        ("GET", first),
        ("OPTIONS", second),
        ("GET", second),
    ]


def test_a_method_or_header_the_policy_lacks_is_blocked_and_audited(
    any_api: ServerProcess,
    policies: Callable[..., int],
    frontend: FrontendServer,
    open_page: Callable[[str], PageSession],
    control: Control,
) -> None:
    policies(
        "narrow",
        frontend.origin,
        path_prefix="/api/",
        allowed_methods=["GET", "POST"],
        allowed_headers=["content-type"],
    )
    page = open_page(page_url(frontend))
    url = any_api.origin + "/api/public/status/"

    wrong_method = page.fetch(url, "PATCH", {"Content-Type": "application/json"}, "{}")
    wrong_header = page.fetch(url, headers={"X-Api-Key": "demo-key"})
    allowed = page.fetch(url, "POST", {"Content-Type": "application/json"}, "{}")

    expected = blocked_prefix(url, frontend.origin) + PREFLIGHT_FAILED + NO_ALLOW_ORIGIN
    assert wrong_method.message == expected
    assert wrong_header.message == expected
    assert allowed.error is None, allowed
    assert allowed.status == 405  # public status answers GET only: the page can read that
    rows = control.audit_rows(at_least=2)
    found = {(row["reason"], row["detail"], row["request_method"]) for row in rows}
    assert found == {
        ("method_not_allowed", "PATCH", "PATCH"),
        ("header_not_allowed", "x-api-key", "GET"),
    }
    for row in rows:
        assert (row["origin"], row["path"], row["policy"]) == (
            frontend.origin,
            "/api/public/status/",
            "narrow",
        )
        assert row["console_message"] == expected.split("CORS policy: ", 1)[1]
