"""Fixing from the audit: planned changes shown first, applied on confirmation, rows resolved;
and the admin's 'test a request' page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from django_preflight import remedies
from django_preflight.engine.decision import Outcome, RequestFacts, decide
from django_preflight.models import AllowedOrigin, CorsPolicy, RejectedPreflight
from django_preflight.store import store
from tests.factories import RejectedPreflightFactory

APP = "https://app.example.com"
CHANGELIST = "admin:django_preflight_rejectedpreflight_changelist"

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(make_policy: Callable[..., CorsPolicy]) -> CorsPolicy:
    return make_policy(
        origins=(APP,),
        name="frontend",
        path_prefix="/api/",
        allowed_methods=["GET"],
        allowed_headers=["content-type"],
    )


def rows(policy: CorsPolicy) -> list[RejectedPreflight]:
    return [
        RejectedPreflightFactory(
            origin="HTTPS://New.Example.com", reason="origin_not_allowed", policy=policy
        ),
        RejectedPreflightFactory(
            origin=APP, reason="method_not_allowed", detail="PUT", policy=policy
        ),
        RejectedPreflightFactory(
            origin=APP, reason="header_not_allowed", detail="x-api-key", policy=policy
        ),
        RejectedPreflightFactory(origin=APP, reason="private_network_not_allowed", policy=policy),
        RejectedPreflightFactory(path="/nowhere/", reason="no_policy_for_path", policy=None),
        RejectedPreflightFactory(origin="null", reason="origin_not_allowed", policy=policy),
        RejectedPreflightFactory(reason="malformed_request", policy=policy),
    ]


def test_plan_names_each_change_or_why_not(policy: CorsPolicy) -> None:
    described = [remedy.describe() for remedy in remedies.plan(rows(policy))]
    assert described == [
        "Add the exact origin https://new.example.com to policy “frontend”.",
        "Add the method PUT to policy “frontend”.",
        "Add the request header x-api-key to policy “frontend”.",
        "Allow private network access on policy “frontend”.",
        "No policy covers /nowhere/: create one whose path prefix covers it.",
        "'null' cannot be allowed: The 'null' origin can be sent by any sandboxed page; allow it "
        "only with the separate 'null origin' kind.",
        "A malformed preflight is not something a policy should allow.",
    ]


def test_apply_changes_policies_resolves_rows_and_reaches_the_store(
    policy: CorsPolicy, django_capture_on_commit_callbacks: Any
) -> None:
    planned = remedies.plan(rows(policy))
    with django_capture_on_commit_callbacks(execute=True):
        assert len(remedies.apply(planned)) == 4
    policy.refresh_from_db()
    assert policy.allowed_methods == ["GET", "PUT"]
    assert policy.allowed_headers == ["content-type", "x-api-key"]
    assert policy.allow_private_network
    assert policy.origins.filter(value="https://new.example.com").exists()
    assert RejectedPreflight.objects.filter(resolved_at__isnull=False).count() == 4
    facts = RequestFacts("OPTIONS", "/api/x", "https://new.example.com", "PUT", "x-api-key")
    assert decide(store.current(), facts).outcome is Outcome.PREFLIGHT_ALLOWED
    with django_capture_on_commit_callbacks(execute=True):
        assert remedies.apply(planned) == [], "applying twice changes nothing"


def test_admin_action_confirms_before_saving(admin_client: Client, policy: CorsPolicy) -> None:
    created = rows(policy)[:2]
    data = {"action": "allow_refused", "_selected_action": [r.pk for r in created]}
    page = admin_client.post(reverse(CHANGELIST), data)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Add the exact origin https://new.example.com to policy “frontend”." in text
    assert "Add the method PUT to policy “frontend”." in text
    assert not AllowedOrigin.objects.filter(value="https://new.example.com").exists()
    done = admin_client.post(reverse(CHANGELIST), {**data, "post": "yes"}, follow=True)
    assert "Made 2 changes" in done.content.decode()
    assert AllowedOrigin.objects.filter(value="https://new.example.com").exists()


def test_admin_action_reports_an_invalid_result_and_changes_nothing(
    admin_client: Client, make_policy: Callable[..., CorsPolicy]
) -> None:
    credentialed = make_policy(
        origins=(APP,), name="strict", allow_credentials=True, allowed_headers=["content-type"]
    )
    row = RejectedPreflightFactory(
        origin=APP, reason="header_not_allowed", detail="*", policy=credentialed
    )
    data = {"action": "allow_refused", "_selected_action": [row.pk], "post": "yes"}
    page = admin_client.post(reverse(CHANGELIST), data, follow=True)
    assert "literal header name on credentialed requests" in page.content.decode()
    credentialed.refresh_from_db()
    assert credentialed.allowed_headers == ["content-type"]


def test_mark_resolved_and_filter(admin_client: Client, policy: CorsPolicy) -> None:
    open_row, done_row = (
        RejectedPreflightFactory(),
        RejectedPreflightFactory(origin="https://x.example"),
    )
    admin_client.post(
        reverse(CHANGELIST), {"action": "mark_resolved", "_selected_action": [done_row.pk]}
    )
    listed = admin_client.get(reverse(CHANGELIST), {"status": "open"}).content.decode()
    assert open_row.origin in listed
    assert done_row.origin not in listed


def test_actions_need_their_permissions(client: Client, policy: CorsPolicy) -> None:
    viewer = User.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_rejectedpreflight"))
    client.force_login(viewer)
    page = client.get(reverse(CHANGELIST))
    assert page.status_code == 200
    assert "allow_refused" not in page.content.decode()
    assert "mark_resolved" not in page.content.decode()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"url": "/api/notes/1/", "origin": APP, "method": "GET"}, "Allowed: the page can read"),
        (
            {
                "url": "/api/notes/1/",
                "origin": APP,
                "method": "PUT",
                "headers": "Content-Type: application/json",
            },
            "Add PUT to the allowed methods of policy &#x27;frontend&#x27;",
        ),
        (
            {
                "url": "/api/notes/1/",
                "origin": APP,
                "method": "GET",
                "headers": "Accept-Language: en_US",
            },
            "The origin is allowed but the request header &#x27;accept-language&#x27; is not.",
        ),
        (
            {"url": "/api/notes/1/", "origin": "https://evil.example", "method": "GET"},
            "Add the origin https://evil.example to policy &#x27;frontend&#x27; (exact",
        ),
    ],
)
def test_test_a_request_page(
    admin_client: Client, policy: CorsPolicy, data: dict[str, str], expected: str
) -> None:
    url = reverse("admin:django_preflight_corspolicy_test_request")
    assert (
        url
        in admin_client.get(
            reverse("admin:django_preflight_corspolicy_changelist")
        ).content.decode()
    )
    page = admin_client.post(url, data)
    assert page.status_code == 200
    assert expected in page.content.decode()


def test_test_a_request_page_validates_headers(admin_client: Client, policy: CorsPolicy) -> None:
    url = reverse("admin:django_preflight_corspolicy_test_request")
    page = admin_client.post(
        url, {"url": "/api/", "origin": APP, "method": "GET", "headers": ": x"}
    )
    assert "Each line is" in page.content.decode()
