"""Which origins and which paths a policy lets through, judged by Chromium.

Pages are served from several host names on the frontend's port: 127.0.0.1 (the allowed
frontend), localhost (another site), and *.example.test hosts that Chromium resolves to
loopback, so subdomain and regex entries are matched against the Origin a browser really sends.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from example_project.frontend_server import FrontendServer

from .control import Control
from .servers import ServerProcess
from .support import (
    NO_ALLOW_ORIGIN,
    PREFLIGHT_FAILED,
    WILDCARD_WITH_CREDENTIALS,
    Outcome,
    PageSession,
    blocked_prefix,
    frontend_port,
    page_url,
)

pytestmark = pytest.mark.browser

STATUS = "/api/public/status/"
PREFLIGHTED = {"X-Api-Key": "demo-key"}
ALLOWS_IT = {"allowed_headers": ["x-api-key"]}


def call_from(
    open_page: Callable[[str], PageSession],
    frontend: FrontendServer,
    host: str,
    url: str,
    credentials: str = "omit",
) -> tuple[PageSession, Outcome]:
    """A preflighted GET from a page served as ``host``."""
    page = open_page(page_url(frontend, host))
    return page, page.fetch(url, headers=PREFLIGHTED, credentials=credentials)


@pytest.mark.parametrize(
    ("entry", "host", "allowed"),
    [
        pytest.param(("exact", "http://127.0.0.1:{port}"), "127.0.0.1", True, id="exact"),
        pytest.param(("exact", "http://127.0.0.1:{port}"), "localhost", False, id="not-listed"),
        pytest.param(
            ("subdomain", "http://*.example.test:{port}"), "app.example.test", True, id="subdomain"
        ),
        pytest.param(
            ("subdomain", "http://*.example.test:{port}"),
            "eu.app.example.test",
            True,
            id="subdomain-deeper",
        ),
        pytest.param(
            ("subdomain", "http://*.example.test:{port}"),
            "example.test",
            False,
            id="subdomain-not-apex",
        ),
        pytest.param(
            ("regex", r"http://tenant-(a|b)\.example\.test:{port}"),
            "tenant-b.example.test",
            True,
            id="regex",
        ),
        pytest.param(
            ("regex", r"http://tenant-(a|b)\.example\.test:{port}"),
            "tenant-c.example.test",
            False,
            id="regex-no-match",
        ),
        pytest.param(
            ("regex", r"http://tenant-(a|b)\.example\.test:{port}"),
            "tenant-a.example.test.localhost",
            False,
            id="regex-matched-whole",
        ),
    ],
)
def test_origin_entries(
    api: ServerProcess,
    policies: Callable[..., int],
    frontend: FrontendServer,
    open_page: Callable[[str], PageSession],
    control: Control,
    entry: tuple[str, str],
    host: str,
    allowed: bool,
) -> None:
    kind, value = entry
    policies(
        "origins",
        (kind, value.format(port=frontend_port(frontend))),
        path_prefix="/api/",
        **ALLOWS_IT,
    )
    url = api.origin + STATUS

    page, outcome = call_from(open_page, frontend, host, url)

    if allowed:
        assert outcome.passed, outcome
        assert outcome.json()["status"] == "ok"
    else:
        assert outcome.message == blocked_prefix(url, page.origin) + PREFLIGHT_FAILED + (
            NO_ALLOW_ORIGIN
        )
        rows = control.audit_rows(at_least=1)
        assert [(r["origin"], r["reason"]) for r in rows] == [(page.origin, "origin_not_allowed")]


@pytest.mark.parametrize("credentials", ["omit", "include"])
def test_any_origin_policy_works_only_without_credentials(
    api: ServerProcess,
    policies: Callable[..., int],
    frontend: FrontendServer,
    open_page: Callable[[str], PageSession],
    credentials: str,
) -> None:
    policies("anyone", ("any", ""), path_prefix="/api/public/", **ALLOWS_IT)
    url = api.origin + STATUS

    page, outcome = call_from(open_page, frontend, "localhost", url, credentials)

    if credentials == "omit":
        assert outcome.passed, outcome
    else:
        assert outcome.message == blocked_prefix(url, page.origin) + PREFLIGHT_FAILED + (
            WILDCARD_WITH_CREDENTIALS
        )


def test_any_origin_with_credentials_cannot_be_saved(
    policies: Callable[..., int], control: Control
) -> None:
    refused = control(
        "validation_errors",
        name="anyone-with-cookies",
        origins=[["any", ""]],
        path_prefix="/api/",
        allow_credentials=True,
    )
    policies("anyone", ("any", ""), path_prefix="/api/")
    refused_later = control("update_policy", name="anyone", allow_credentials=True)

    sentence = "'Any origin' cannot be combined with credentials"
    assert len(refused) == 1
    assert refused[0].startswith(sentence)
    assert len(refused_later) == 1
    assert refused_later[0].startswith(sentence)
    assert control("origins", policy="anyone-with-cookies") == []


def test_the_longest_covering_prefix_decides_and_uncovered_paths_are_refused(
    api: ServerProcess,
    policies: Callable[..., int],
    frontend: FrontendServer,
    open_page: Callable[[str], PageSession],
    control: Control,
) -> None:
    other_site = f"http://localhost:{frontend_port(frontend)}"
    policies("api", frontend.origin, path_prefix="/api/", **ALLOWS_IT)
    policies("public", other_site, path_prefix="/api/public/", **ALLOWS_IT)
    page = open_page(page_url(frontend))
    other_page = open_page(page_url(frontend, "localhost"))

    broad = page.fetch(api.origin + "/api/headers/", headers=PREFLIGHTED)
    narrower = page.fetch(api.origin + STATUS, headers=PREFLIGHTED)
    narrower_other = other_page.fetch(api.origin + STATUS, headers=PREFLIGHTED)
    uncovered = page.fetch(api.origin + "/internal/ping/", headers=PREFLIGHTED)

    assert broad.passed, broad
    assert narrower_other.passed, narrower_other
    for blocked in (narrower, uncovered):
        assert blocked.message == blocked_prefix(blocked.url, frontend.origin) + (
            PREFLIGHT_FAILED + NO_ALLOW_ORIGIN
        )
    rows = control.audit_rows(at_least=2)
    assert sorted((r["path"], r["reason"], r["policy"]) for r in rows) == [
        ("/api/public/status/", "origin_not_allowed", "public"),
        ("/internal/ping/", "no_policy_for_path", None),
    ]
