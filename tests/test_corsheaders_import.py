"""Migrating from django-cors-headers: the imported policies decide, request by request, as
django-cors-headers did, except where a documented safety rule differs."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from corsheaders.middleware import CorsMiddleware
from django.core.management import call_command
from django.core.management.base import CommandError
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory, override_settings

from django_preflight.corsheaders_import import BROWSER_CHANGES, translate
from django_preflight.engine.browser import CorsRequest, RawResponse, check_actual, check_preflight
from django_preflight.middleware import PreflightMiddleware
from django_preflight.models import CorsPolicy
from django_preflight.store import publish_change

pytestmark = pytest.mark.django_db

REALISTIC = {
    "CORS_ALLOWED_ORIGINS": [
        "https://app.example.com",
        "https://admin.example.com",
        "http://localhost:3000",
    ],
    "CORS_ALLOWED_ORIGIN_REGEXES": [
        r"^https://\w+\.preview\.example\.com$",
        r"^https://tenant-\d+\.example\.com",
    ],
    "CORS_URLS_REGEX": r"^/api/.*$",
    "CORS_ALLOW_METHODS": ["DELETE", "GET", "OPTIONS", "PATCH", "POST", "PUT"],
    "CORS_ALLOW_HEADERS": [
        "accept",
        "authorization",
        "content-type",
        "user-agent",
        "x-csrftoken",
        "x-requested-with",
        "x-api-key",
    ],
    "CORS_EXPOSE_HEADERS": ["X-Total-Count"],
    "CORS_PREFLIGHT_MAX_AGE": 3600,
    "CORS_ALLOW_CREDENTIALS": True,
}
ORIGINS = (
    "https://app.example.com",
    "https://admin.example.com",
    "http://localhost:3000",
    "https://pr7.preview.example.com",
    "https://tenant-42.example.com",
    "https://tenant-42.example.com.evil.net",
    "https://evil.example.net",
    "https://app.example.com.evil.net",
    "null",
)
UNANCHORED_ESCAPE = "https://tenant-42.example.com.evil.net"


def view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def browser_verdict(middleware: Callable[[HttpRequest], Any], call: CorsRequest, path: str) -> bool:
    """Send what the browser sends through one middleware and judge it as the browser does."""
    factory = RequestFactory()
    if call.needs_preflight:
        extra = {
            "HTTP_ORIGIN": call.origin,
            "HTTP_ACCESS_CONTROL_REQUEST_METHOD": call.fetch_method,
        }
        if call.unsafe_header_names:
            extra["HTTP_ACCESS_CONTROL_REQUEST_HEADERS"] = ",".join(call.unsafe_header_names)
        answer = middleware(factory.options(path, **extra))
        if check_preflight(call, RawResponse(answer.status_code, tuple(answer.items()))):
            return False
    real = middleware(factory.generic(call.fetch_method, path, HTTP_ORIGIN=call.origin))
    return check_actual(call, RawResponse(real.status_code, tuple(real.items()))) is None


def calls() -> list[tuple[CorsRequest, str]]:
    header_sets: list[tuple[tuple[str, str], ...]] = [
        (),
        (("Content-Type", "application/json"),),
        (("Authorization", "Token t"),),
        (("X-Api-Key", "k"),),
        (("X-Other", "1"),),
    ]
    return [
        (CorsRequest(f"https://api.example.com{path}", origin, method, headers, credentials), path)
        for origin, method, headers, credentials, path in itertools.product(
            ORIGINS,
            ("GET", "HEAD", "PUT", "PATCH"),
            header_sets,
            (False, True),
            ("/api/items/", "/other/"),
        )
    ]


def test_imported_policies_decide_as_django_cors_headers_did(
    settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    for key, value in REALISTIC.items():
        setattr(settings, key, value)
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("preflight", "import-settings", stdout=out)
    publish_change()
    ours = PreflightMiddleware(view)
    theirs = CorsMiddleware(view)
    compared = identical = 0
    differences = []
    for call, path in calls():
        with override_settings(**REALISTIC):
            before = browser_verdict(theirs, call, path)
        after = browser_verdict(ours, call, path)
        compared += 1
        if before == after:
            identical += 1
        else:
            differences.append((call.origin, before, after))
    print(f"compared {compared}, identical {identical}, differences {len(differences)}")
    assert compared == 720
    assert {origin for origin, _, _ in differences} == {UNANCHORED_ESCAPE}
    assert all(before and not after for _, before, after in differences), (
        "the only difference: what the unanchored regex let through is now refused"
    )
    assert "matched only at its start" in out.getvalue()


def test_translation_notes_unsafe_and_inexact_settings() -> None:
    values = {
        "CORS_ORIGIN_ALLOW_ALL": True,
        "CORS_ALLOW_CREDENTIALS": True,
        "CORS_ORIGIN_WHITELIST": ["https://app.example.com", "null", "not an origin"],
        "CORS_ORIGIN_REGEX_WHITELIST": [
            r"^https://(?<!evil)[a-z]+\.example\.com$",
            r"^https://.*example.com$",
        ],
        "CORS_URLS_REGEX": r"^/(api|v2)/",
        "CORS_ALLOW_HEADERS": ["*"],
        "CORS_PREFLIGHT_MAX_AGE": 999_999,
    }
    result = translate(lambda key, default: values.get(key, default), "legacy")
    names = [draft.name for draft in result.policies]
    assert names == ["legacy", "legacy-any-origin"]
    assert result.policies[0].fields["allow_credentials"] is True
    assert result.policies[1].fields["allow_credentials"] is False
    assert result.policies[1].origins == [("any", "")]
    assert ("null", "") in result.policies[0].origins
    assert result.policies[0].fields["max_age"] == 86400
    assert result.policies[0].fields["path_prefix"] == "/"
    notes = " | ".join(result.notes)
    for fragment in (
        "any website could read",
        "'null' was allowed",
        "'not an origin' was skipped",
        "cannot run in linear time",
        "also matches https://attackerexample.com",
        "cannot be expressed as a path prefix",
        "was lowered",
        "literal name on credentialed requests",
    ):
        assert fragment in notes, fragment


def test_dry_run_creates_nothing_and_names_clash_is_refused(settings: Any) -> None:
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    out = StringIO()
    call_command("preflight", "import-settings", "--dry-run", stdout=out)
    assert "Dry run: nothing was created." in out.getvalue()
    assert "Read: CORS_ALLOWED_ORIGINS" in out.getvalue()
    assert not CorsPolicy.objects.exists()
    call_command("preflight", "import-settings", stdout=StringIO())
    with pytest.raises(CommandError, match="exists already"):
        call_command("preflight", "import-settings", stdout=StringIO())
    assert CorsPolicy.objects.count() == 1


def test_a_star_in_any_list_of_a_credentialed_import_is_left_out_with_a_note(
    settings: Any,
) -> None:
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    settings.CORS_ALLOW_CREDENTIALS = True
    settings.CORS_ALLOW_METHODS = ["GET", "*"]
    settings.CORS_ALLOW_HEADERS = ["*", "content-type"]
    settings.CORS_EXPOSE_HEADERS = ["*", "X-Total-Count"]
    out = StringIO()
    call_command("preflight", "import-settings", stdout=out)
    policy = CorsPolicy.objects.get()
    assert policy.allowed_methods == ["GET", "HEAD"]
    assert policy.allowed_headers == ["content-type"]
    assert policy.exposed_headers == ["X-Total-Count"]
    for field in ("allowed methods", "allowed headers", "exposed headers"):
        assert f"'*' in {field} is a literal name on credentialed requests" in out.getvalue()


def test_no_cors_setting_says_so_and_creates_nothing() -> None:
    with pytest.raises(CommandError, match=r"No CORS_\* setting .* nothing was created"):
        call_command("preflight", "import-settings", stdout=StringIO())
    assert not CorsPolicy.objects.exists()


def test_head_joins_get_and_every_browser_change_is_printed(settings: Any) -> None:
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    settings.CORS_ALLOW_METHODS = ["GET", "PUT"]
    settings.CORS_ALLOW_HEADERS = ["*"]
    out = StringIO()
    call_command("preflight", "import-settings", stdout=out)
    policy = CorsPolicy.objects.get()
    assert policy.allowed_methods == ["GET", "HEAD", "PUT"]
    assert policy.allowed_headers == ["*", "authorization"]
    text = out.getvalue()
    assert "Note: HEAD was added beside GET" in text
    assert "Note: POST is not listed" in text
    assert "Authorization" in text
    for change in BROWSER_CHANGES:
        assert f"Note: {change}" in text


def test_a_head_call_with_a_custom_header_still_passes_after_the_import(
    settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    old = {"CORS_ALLOWED_ORIGINS": ["https://app.example.com"]}
    for key, value in old.items():
        setattr(settings, key, value)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("preflight", "import-settings", stdout=StringIO())
    publish_change()
    call = CorsRequest(
        "https://api.example.com/api/items/",
        "https://app.example.com",
        "HEAD",
        (("X-Requested-With", "fetch"),),
        False,
    )
    with override_settings(**old):
        assert browser_verdict(CorsMiddleware(view), call, "/api/items/")
    assert browser_verdict(PreflightMiddleware(view), call, "/api/items/")
