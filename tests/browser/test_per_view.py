"""A view that names its own policy, judged by Chromium: a webhook open to any site inside a
credentialed API, beside an undecorated neighbour that the API's policy keeps closed."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from example_project.frontend_server import FrontendServer

from .servers import ServerProcess
from .support import (
    NO_ALLOW_ORIGIN,
    PREFLIGHT_FAILED,
    WILDCARD_WITH_CREDENTIALS,
    PageSession,
    blocked_prefix,
    page_url,
)

pytestmark = pytest.mark.browser

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def api_and_webhooks(policies: Callable[..., int], credentialed_frontend: int) -> None:
    policies(
        "webhooks",
        ("any", ""),
        views_only=True,
        allowed_methods=["POST"],
        allowed_headers=["content-type"],
    )


@pytest.mark.usefixtures("api_and_webhooks")
def test_decorated_view_answers_any_site_and_its_neighbour_does_not(
    open_page: Callable[[str], PageSession], frontend: FrontendServer, api: ServerProcess
) -> None:
    other_site = open_page(page_url(frontend, "localhost"))
    hook = other_site.fetch(f"{api.origin}/api/hooks/incoming/", "POST", JSON, "{}")
    assert hook.passed, hook
    assert hook.json() == {"received": "POST"}

    url = f"{api.origin}/api/hooks/neighbour/"
    neighbour = other_site.fetch(url, "POST", JSON, "{}")
    assert neighbour.message == (
        blocked_prefix(url, other_site.origin) + PREFLIGHT_FAILED + NO_ALLOW_ORIGIN
    )


@pytest.mark.usefixtures("api_and_webhooks")
def test_the_view_policy_grants_no_credentials_even_to_the_api_frontend(
    open_page: Callable[[str], PageSession], frontend: FrontendServer, api: ServerProcess
) -> None:
    page = open_page(page_url(frontend))
    url = f"{api.origin}/api/hooks/incoming/"
    assert page.fetch(url, "POST", JSON, "{}").passed
    credentialed = page.fetch(url, "POST", JSON, "{}", credentials="include")
    assert credentialed.verdict() == PREFLIGHT_FAILED + WILDCARD_WITH_CREDENTIALS
