"""Real sites: django-preflight in this project, django-cors-headers under gunicorn.

Both are scanned over loopback exactly as a deployed site would be.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import DatabaseError
from django.urls import reverse
from pytest_django.live_server_helper import LiveServer

from django_preflight.models import CorsPolicy
from django_preflight.scan import attribution
from django_preflight.scan.attribution import attribute
from django_preflight.scan.runner import scan_url
from tests.browser.servers import ServerProcess, free_port, running

from .servers import TRUSTED, serve


def findings(url: str) -> dict[str, str]:
    result = scan_url(url, [TRUSTED], credentials=True)
    assert result.error is None
    assert result.complete
    return {f.id: f.severity.value for f in result.findings}


@pytest.fixture
def make_policy(
    transactional_db: None, make_policy: Callable[..., CorsPolicy]
) -> Callable[..., CorsPolicy]:
    """Credentialed policies on /api/, committed for the live server's thread."""

    def make(name: str, *origins: tuple[str, str]) -> CorsPolicy:
        return make_policy(
            tuple(value for _, value in origins),
            kinds=[kind for kind, _ in origins],
            name=name,
            path_prefix="/api/",
            allow_credentials=True,
        )

    return make


def test_a_correct_django_preflight_site_has_no_finding(
    make_policy: Callable[..., CorsPolicy], live_server: LiveServer
) -> None:
    make_policy("frontend", ("exact", TRUSTED))
    assert findings(f"{live_server.url}/api/public/") == {}
    assert findings(f"{live_server.url}/api/items/") == {}


def test_a_finding_names_this_projects_policy_and_entry(
    make_policy: Callable[..., CorsPolicy], live_server: LiveServer
) -> None:
    policy = make_policy("frontend", ("exact", TRUSTED), ("null", ""))
    wildcard = make_policy("partners", ("subdomain", "https://*.example.com"))
    result = scan_url(f"{live_server.url}/api/public/", [TRUSTED], credentials=True)
    attributed = {f.id: f for f in attribute(result.findings)}
    assert {i: f.severity.value for i, f in attributed.items()} == {
        "trusts-null-origin": "high",
        "trusts-any-subdomain": "medium",
    }
    null = attributed["trusts-null-origin"].attribution
    assert null is not None
    assert (null.policy_name, null.entry) == ("frontend", "null")
    assert null.admin_url == reverse("admin:django_preflight_corspolicy_change", args=[policy.pk])
    subdomain = attributed["trusts-any-subdomain"].attribution
    assert subdomain is not None
    assert (subdomain.policy_name, subdomain.entry) == (
        "partners",
        "subdomain: https://*.example.com",
    )
    assert subdomain.policy_id == wildcard.pk


def test_no_attribution_for_another_site(make_policy: Callable[..., CorsPolicy]) -> None:
    """The project's policies grant nothing on this path: the findings name no policy here."""
    make_policy("frontend", ("exact", TRUSTED))
    with serve() as (base, _):
        result = scan_url(f"{base}/null-trusting/", [TRUSTED], credentials=True)
    (finding,) = attribute(result.findings)
    assert finding.attribution is None


@pytest.fixture(params=["sloppy", "correct"])
def corsheaders_site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerProcess]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "tests.scan.corsheaders_site.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--no-control-socket",
        "--graceful-timeout",
        "3",
    ]
    env = {**os.environ, "PREFLIGHT_SCAN_CORSHEADERS": request.param}
    server = ServerProcess(request.param, command, env, port, tmp_path / "gunicorn.log")
    yield from running(server)


@pytest.mark.servers
def test_django_cors_headers_with_sloppy_and_correct_regexes(
    corsheaders_site: ServerProcess,
) -> None:
    found = findings(f"{corsheaders_site.origin}/api/data/")
    if corsheaders_site.name == "sloppy":
        assert found == {"trusts-prefix-lookalike": "high", "trusts-unescaped-dot": "high"}
    else:
        assert found == {}


def test_without_the_tables_findings_are_reported_unattributed(
    transactional_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def missing() -> None:
        raise DatabaseError("no such table: django_preflight_allowedorigin")

    monkeypatch.setattr(attribution, "load_policy_set", missing)
    with serve() as (base, _):
        result = scan_url(f"{base}/null-trusting/", [TRUSTED], credentials=True)
    (finding,) = attribute(result.findings)
    assert finding.id == "trusts-null-origin"
    assert finding.attribution is None
