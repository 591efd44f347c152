"""``preflight explain``: our decision, then the browser's verdict on it, then the fix."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO

import pytest
from django.core.management import call_command

from django_preflight.engine.browser import CorsRequest
from django_preflight.engine.diagnose import diagnose
from django_preflight.models import CorsPolicy
from django_preflight.store import load_policy_set

APP = "https://app.example.com"
URL = "https://api.example.com/api/notes/1/"
JSON = (("Content-Type", "application/json"),)

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(make_policy: Callable[..., CorsPolicy]) -> CorsPolicy:
    return make_policy(
        origins=(APP, "https://*.example.org"),
        kinds=["exact", "subdomain"],
        name="frontend",
        path_prefix="/api/",
        allowed_methods=["GET", "PUT", "PATCH"],
        allowed_headers=["content-type"],
    )


def run(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("preflight", "explain", *args, stdout=out)
    except SystemExit as exited:
        return int(exited.code or 0), out.getvalue()
    return 0, out.getvalue()


def test_allowed_call_exits_zero_and_shows_the_headers(policy: CorsPolicy) -> None:
    code, out = run(URL, "--origin", APP, "--method", "PUT", "--header", "content-type")
    assert code == 0
    assert "Browser:    PASS" in out
    assert "Access-Control-Allow-Origin: https://app.example.com" in out
    assert "path prefix '/api'" in out
    assert "exact entry" in out


def test_refused_header_prints_chromium_message_and_fix(policy: CorsPolicy) -> None:
    code, out = run(URL, "--origin", APP, "--method", "PUT", "--header", "Authorization: Token x")
    assert code == 1
    assert (
        f"Console:    Access to fetch at '{URL}' from origin '{APP}' has been blocked by CORS "
        "policy: Response to preflight request doesn't pass access control check: No "
        "'Access-Control-Allow-Origin' header is present on the requested resource."
    ) in out
    assert "header_not_allowed (authorization)" in out
    assert "Fix:        Add 'authorization' to the allowed headers of policy 'frontend'" in out
    assert "Cause:      The origin is allowed but the request header 'authorization' is not." in out


def test_credentials_the_server_cannot_see_are_still_judged(policy: CorsPolicy) -> None:
    code, out = run(URL, "--origin", APP, "--method", "PUT", "--credentials")
    assert code == 1
    assert "preflight_allowed" in out
    assert "'Access-Control-Allow-Credentials' header in the response is ''" in out
    assert "Tick 'allow credentials' on policy 'frontend'" in out


def test_lowercase_method_fix_points_at_the_page(policy: CorsPolicy) -> None:
    request = CorsRequest(URL, APP, "patch")
    result = diagnose(load_policy_set(), request)
    assert result.browser_message is not None
    assert result.fix == "Write 'PATCH' in the page's fetch() call."
    assert result.advice is not None
    assert result.advice.code == "method-case"


def test_simple_request_from_unknown_origin(policy: CorsPolicy) -> None:
    result = diagnose(load_policy_set(), CorsRequest(URL, "https://evil.example"))
    assert result.preflight is None
    assert result.browser_message is not None
    assert result.browser_message.endswith(
        "has been blocked by CORS policy: No 'Access-Control-Allow-Origin' header is present "
        "on the requested resource."
    )
    assert result.fix.startswith("Add the origin https://evil.example to policy 'frontend'")


def test_subdomain_match_is_named(policy: CorsPolicy) -> None:
    result = diagnose(load_policy_set(), CorsRequest(URL, "https://a.b.example.org", "PUT", JSON))
    assert result.allowed
    assert result.matched_by.startswith("subdomain entry")


def test_uncovered_path(policy: CorsPolicy) -> None:
    code, out = run("/elsewhere/", "--origin", APP, "--method", "DELETE")
    assert code == 1
    assert "no enabled policy covers this path" in out
    assert "no_policy_for_path" in out


def test_any_origin_with_credentials_fix(make_policy: Callable[..., CorsPolicy]) -> None:
    make_policy(origins=("",), kinds=["any"], name="open", path_prefix="/")
    result = diagnose(load_policy_set(), CorsRequest(URL, APP, credentials=True))
    assert result.browser_message is not None
    assert "wildcard '*'" in result.browser_message
    assert "answers '*', which a credentialed call never accepts" in result.cause
    assert result.fix.startswith(
        f"Add {APP} as an exact origin to a policy that allows credentials"
    )


def test_every_engine_s_lines_by_default(policy: CorsPolicy) -> None:
    code, out = run(URL, "--origin", APP, "--method", "PUT", "--header", "X-Api-Key: k")
    assert code == 1
    assert "Console:    Access to fetch at" in out
    assert (
        "Firefox:    Cross-Origin Request Blocked: The Same Origin Policy disallows reading the "
        f"remote resource at {URL}. (Reason: CORS header \u2018Access-Control-Allow-Origin\u2019 "
        "missing). Status code: 403."
    ) in out
    assert "WebKit:     Preflight response is not successful. Status code: 403" in out
    assert f"Fetch API cannot load {URL} due to access control checks." in out


def test_one_engine_on_request(policy: CorsPolicy) -> None:
    code, out = run(URL, "--origin", APP, "--method", "DELETE", "--browser", "webkit")
    assert code == 1
    assert "Console:" not in out
    assert "Firefox:" not in out
    assert "WebKit:     Preflight response is not successful." in out
