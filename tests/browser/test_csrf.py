"""CSRF after the preflight passes, in Chromium: the policy-aware check against Django's own.

Two API servers share the suite's database: one with Django's CsrfViewMiddleware and DRF's
SessionAuthentication, one with django-preflight's. Neither lists any origin in
CSRF_TRUSTED_ORIGINS. The page on the frontend's origin (allowed with credentials by a policy)
signs in through the API, then sends a credentialed POST carrying the CSRF token. A second page,
on another port of the same site, is allowed by no credentialed policy: it has the token too
(cookies ignore ports) and sends it in a form-encoded POST, which needs no preflight; only the
CSRF origin check can stop it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from example_project.frontend_server import FrontendServer

from .servers import ServerProcess, gunicorn, running
from .support import ALICE, PASSWORD, PageSession, page_url

pytestmark = pytest.mark.browser

WRITES = ("/api/session/write/", "/api/session/drf-write/")
CSRF_PAGE = "CSRF verification failed. Request aborted."

FORM_POST_JS = """
async ({url, token}) => {
  const body = new URLSearchParams({csrfmiddlewaretoken: token});
  await fetch(url, {method: "POST", mode: "no-cors", credentials: "include", body});
  return true;
}
"""


def origin_failure(origin: str) -> str:
    """Django's own sentence for an untrusted origin."""
    return f"Origin checking failed - {origin} does not match any trusted origins."


@pytest.fixture(scope="module")
def django_csrf_api(
    server_env: dict[str, str], workdir: Path, accounts: dict[str, str]
) -> Iterator[ServerProcess]:
    env = {**server_env, "PREFLIGHT_TEST_CSRF": "django"}
    yield from running(gunicorn("csrf-django", env, workdir, workers=1))


@pytest.fixture(scope="module")
def policy_csrf_api(
    server_env: dict[str, str], workdir: Path, accounts: dict[str, str]
) -> Iterator[ServerProcess]:
    env = {**server_env, "PREFLIGHT_TEST_CSRF": "policy"}
    yield from running(gunicorn("csrf-policy", env, workdir, workers=1))


@pytest.fixture(scope="module")
def other_frontend() -> Iterator[FrontendServer]:
    """The same page on another port of 127.0.0.1: same site, another origin."""
    server = FrontendServer("127.0.0.1", 0, quiet=True).start()
    yield server
    server.stop()


def sign_in(session: PageSession, api: ServerProcess) -> str:
    """Sign in through the API from the page; returns the CSRF token the API handed out."""
    outcome = session.fetch(
        f"{api.origin}/api/session/login/",
        "POST",
        {"Content-Type": "application/json"},
        json.dumps({"username": ALICE, "password": PASSWORD}),
        credentials="include",
    )
    assert outcome.passed, outcome
    assert outcome.status == 200, outcome
    token: str = outcome.json()["csrfToken"]
    return token


def write(session: PageSession, api: ServerProcess, path: str, token: str) -> Any:
    return session.fetch(
        f"{api.origin}{path}",
        "POST",
        {"Content-Type": "application/json", "X-CSRFToken": token},
        "{}",
        credentials="include",
    )


def writes_since(api: ServerProcess, start: int) -> list[str]:
    """The writes the server logged after offset ``start``. A view logs before it answers and
    fetch() settles on the answer, so every write of an awaited call is already there."""
    return re.findall(r"write by \S+ from \S+", api.log_path.read_text()[start:])


@pytest.mark.usefixtures("credentialed_frontend")
@pytest.mark.parametrize("path", WRITES, ids=["django", "drf"])
def test_credentialed_post_passes_the_policy_aware_csrf_check(
    open_page: Callable[[str], PageSession],
    frontend: FrontendServer,
    policy_csrf_api: ServerProcess,
    path: str,
) -> None:
    session = open_page(page_url(frontend))
    token = sign_in(session, policy_csrf_api)
    outcome = write(session, policy_csrf_api, path, token)
    assert outcome.passed, outcome
    assert outcome.status == 200
    assert outcome.json() == {"user": ALICE}


@pytest.mark.usefixtures("credentialed_frontend")
@pytest.mark.parametrize("path", WRITES, ids=["django", "drf"])
def test_django_and_drf_own_checks_refuse_the_allowed_origin_in_their_words(
    open_page: Callable[[str], PageSession],
    frontend: FrontendServer,
    django_csrf_api: ServerProcess,
    path: str,
) -> None:
    session = open_page(page_url(frontend))
    token = sign_in(session, django_csrf_api)
    start = len(django_csrf_api.log_path.read_text())
    outcome = write(session, django_csrf_api, path, token)
    # The refusal carries the policy's CORS headers, so the page reads it.
    assert outcome.passed, outcome
    assert outcome.status == 403
    if path == "/api/session/write/":
        assert CSRF_PAGE in outcome.body
        logged = django_csrf_api.log_path.read_text()[start:]
        assert f"Forbidden ({origin_failure(frontend.origin)})" in logged
    else:
        assert outcome.json() == {"detail": "CSRF Failed: " + origin_failure(frontend.origin)}


@pytest.mark.usefixtures("credentialed_frontend")
@pytest.mark.parametrize("path", WRITES, ids=["django", "drf"])
def test_an_origin_no_credentialed_policy_allows_still_fails_the_csrf_check(
    open_page: Callable[[str], PageSession],
    frontend: FrontendServer,
    other_frontend: FrontendServer,
    policy_csrf_api: ServerProcess,
    path: str,
) -> None:
    session = open_page(page_url(frontend))
    token = sign_in(session, policy_csrf_api)
    log = policy_csrf_api.log_path
    start = len(log.read_text(errors="replace"))
    attacker = session.context.new_page()
    attacker.goto(page_url(other_frontend))
    url = f"{policy_csrf_api.origin}{path}"
    attacker.evaluate(FORM_POST_JS, {"url": url, "token": token})
    # The same form-encoded POST with the same token from the allowed page is the control:
    # it writes, so the other page's POST differed only by its origin.
    session.page.evaluate(FORM_POST_JS, {"url": url, "token": token})
    written = writes_since(policy_csrf_api, start)
    assert written == [f"write by {ALICE} from {frontend.origin}"]
    if path == "/api/session/write/":
        # Django logs its reason; DRF only answers it, to a page that cannot read it.
        assert origin_failure(other_frontend.origin) in log.read_text(errors="replace")[start:]
