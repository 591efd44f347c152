"""The admin as a boundary: only the models' permissions open its pages, and every change to a
policy or an origin is kept in the admin's history with what changed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.models import Permission, User
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse

from django_preflight.models import AllowedOrigin, CorsPolicy, RejectedPreflight
from tests.admin_forms import policy_form
from tests.factories import RejectedPreflightFactory

pytestmark = pytest.mark.django_db

APP = "https://app.example.com"
TEST_REQUEST = "admin:django_preflight_corspolicy_test_request"


@pytest.fixture
def policy(make_policy: Callable[..., CorsPolicy]) -> CorsPolicy:
    return make_policy(origins=(APP,), name="frontend", path_prefix="/api/")


@pytest.fixture
def staff(client: Client) -> User:
    """A staff member with no permission at all on this app (no password: nothing to hash)."""
    user = User.objects.create_user("staff", is_staff=True)
    client.force_login(user)
    return user


@pytest.fixture
def admin_client() -> Client:
    """A superuser's client, without the password hashing of pytest-django's own fixture."""
    client = Client()
    client.force_login(User.objects.create_superuser("root", email="root@example.com"))
    return client


def grant(user: User, *codenames: str) -> None:
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))


def pages(policy: CorsPolicy) -> dict[str, str]:
    origin = policy.origins.get()
    row = RejectedPreflightFactory(policy=policy)
    return {
        "policy list": reverse("admin:django_preflight_corspolicy_changelist"),
        "policy add": reverse("admin:django_preflight_corspolicy_add"),
        "policy change": reverse("admin:django_preflight_corspolicy_change", args=(policy.pk,)),
        "policy delete": reverse("admin:django_preflight_corspolicy_delete", args=(policy.pk,)),
        "policy history": reverse("admin:django_preflight_corspolicy_history", args=(policy.pk,)),
        "origin list": reverse("admin:django_preflight_allowedorigin_changelist"),
        "origin add": reverse("admin:django_preflight_allowedorigin_add"),
        "origin change": reverse("admin:django_preflight_allowedorigin_change", args=(origin.pk,)),
        "audit list": reverse("admin:django_preflight_rejectedpreflight_changelist"),
        "audit change": reverse("admin:django_preflight_rejectedpreflight_change", args=(row.pk,)),
        "test a request": reverse(TEST_REQUEST),
    }


@pytest.mark.parametrize(
    "page",
    [
        "policy list",
        "policy add",
        "policy change",
        "policy delete",
        "policy history",
        "origin list",
        "origin add",
        "origin change",
        "audit list",
        "audit change",
        pytest.param(
            "test a request",
        ),
    ],
)
def test_staff_without_permissions_is_refused(
    client: Client, staff: User, policy: CorsPolicy, page: str
) -> None:
    url = pages(policy)[page]
    assert client.get(url).status_code == 403
    assert client.post(url, {}).status_code == 403


def test_staff_without_permissions_sees_no_app_on_the_index(client: Client, staff: User) -> None:
    page = client.get(reverse("admin:index")).content.decode()
    assert "django_preflight" not in page
    assert client.get(reverse("admin:app_list", args=("django_preflight",))).status_code == 404


def test_view_permission_shows_but_never_changes(
    client: Client, staff: User, policy: CorsPolicy
) -> None:
    grant(staff, "view_corspolicy", "view_allowedorigin", "view_rejectedpreflight")
    urls = pages(policy)
    for name in ("policy list", "policy change", "origin list", "origin change", "audit list"):
        assert client.get(urls[name]).status_code == 200, name
    for name in ("policy add", "origin add"):
        assert client.get(urls[name]).status_code == 403, name
    response = client.post(urls["policy change"], {"name": "renamed", "path_prefix": "/"})
    assert response.status_code == 403
    assert client.post(urls["policy delete"], {"post": "yes"}).status_code == 403
    policy.refresh_from_db()
    assert policy.name == "frontend"
    assert client.get(urls["test a request"]).status_code == 200


def test_changing_an_origin_needs_the_origin_permission(
    client: Client, staff: User, policy: CorsPolicy
) -> None:
    """The policy page's inline edits origins, so it needs the origin permissions too."""
    grant(staff, "view_corspolicy", "change_corspolicy")
    url = pages(policy)["policy change"]
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="origins-0-value"' not in page.content.decode()
    data = policy_form(policy, origins=(("exact", "https://evil.example"),))
    client.post(url, data)
    assert list(policy.origins.values_list("value", flat=True)) == [APP]


def test_bulk_actions_need_the_change_permission(
    client: Client, staff: User, policy: CorsPolicy
) -> None:
    grant(staff, "view_corspolicy")
    url = pages(policy)["policy list"]
    response = client.post(
        url, {"action": "disable_policies", "_selected_action": [policy.pk]}, follow=True
    )
    assert response.status_code in (200, 403)
    policy.refresh_from_db()
    assert policy.enabled


def test_the_audit_cannot_be_edited_even_by_a_superuser(admin_client: Client) -> None:
    row = RejectedPreflightFactory()
    url = reverse("admin:django_preflight_rejectedpreflight_change", args=(row.pk,))
    admin_client.post(url, {"origin": "https://forged.example", "count": "0"})
    row.refresh_from_db()
    assert (row.origin, row.count) == ("https://blocked.example.net", 1)
    assert admin_client.post(pages_add_audit(), {}).status_code == 403


def pages_add_audit() -> str:
    return reverse("admin:django_preflight_rejectedpreflight_add")


# History


def history(obj: Any) -> list[LogEntry]:
    content_type = ContentType.objects.get_for_model(type(obj))
    return list(
        LogEntry.objects.filter(content_type=content_type, object_id=str(obj.pk)).order_by("pk")
    )


def test_adding_a_policy_with_origins_is_in_the_history(admin_client: Client) -> None:
    data = policy_form(origins=(("exact", "https://app.example.com"),))
    assert (
        admin_client.post(reverse("admin:django_preflight_corspolicy_add"), data).status_code == 302
    )
    policy = CorsPolicy.objects.get(name="web")
    [entry] = history(policy)
    assert entry.action_flag == ADDITION
    message = entry.get_change_message()
    assert "Added" in message
    assert "https://app.example.com" in message


def test_changing_a_policy_records_the_fields_and_the_new_origins(
    admin_client: Client, policy: CorsPolicy
) -> None:
    url = reverse("admin:django_preflight_corspolicy_change", args=(policy.pk,))
    data = policy_form(
        policy,
        origins=(("subdomain", "https://*.partner.example"),),
        allowed_methods="GET, POST, DELETE",
        max_age="60",
    )
    assert admin_client.post(url, data).status_code == 302
    [entry] = history(policy)
    assert entry.action_flag == CHANGE
    message = entry.get_change_message()
    assert "Allowed methods" in message
    assert "Max age" in message
    assert "Added allowed origin “https://*.partner.example”" in message


def test_changing_and_deleting_an_origin_is_in_the_history(
    admin_client: Client, policy: CorsPolicy
) -> None:
    origin = policy.origins.get()
    url = reverse("admin:django_preflight_allowedorigin_change", args=(origin.pk,))
    data = {"policy": policy.pk, "kind": "exact", "value": "https://new.example.com", "note": ""}
    assert admin_client.post(url, data).status_code == 302
    delete = reverse("admin:django_preflight_allowedorigin_delete", args=(origin.pk,))
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    entries = history(origin)
    assert [e.action_flag for e in entries] == [CHANGE, DELETION]
    assert "Value" in entries[0].get_change_message()


def test_deleting_a_policy_is_in_the_history(admin_client: Client, policy: CorsPolicy) -> None:
    pk = policy.pk
    delete = reverse("admin:django_preflight_corspolicy_delete", args=(pk,))
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    assert LogEntry.objects.filter(object_id=str(pk), action_flag=DELETION).exists()


@pytest.mark.parametrize(
    ("action", "enabled"), [("disable_policies", True), ("enable_policies", False)]
)
def test_bulk_enable_and_disable_are_in_the_history(
    admin_client: Client, policy: CorsPolicy, action: str, enabled: bool
) -> None:
    CorsPolicy.objects.filter(pk=policy.pk).update(enabled=enabled)
    changelist = reverse("admin:django_preflight_corspolicy_changelist")
    admin_client.post(changelist, {"action": action, "_selected_action": [policy.pk]})
    [entry] = history(policy)
    assert entry.action_flag == CHANGE
    assert "Enabled" in entry.get_change_message()


def test_allowing_a_refusal_from_the_audit_is_in_the_history(
    admin_client: Client, policy: CorsPolicy
) -> None:
    rows = [
        RejectedPreflightFactory(origin="https://new.example.com", policy=policy),
        RejectedPreflightFactory(
            origin=APP, reason="method_not_allowed", detail="PURGE", policy=policy
        ),
    ]
    changelist = reverse("admin:django_preflight_rejectedpreflight_changelist")
    data = {"action": "allow_refused", "_selected_action": [r.pk for r in rows], "post": "yes"}
    admin_client.post(changelist, data)
    assert policy.origins.filter(value="https://new.example.com").exists()
    messages = " ".join(entry.get_change_message() for entry in history(policy))
    assert "https://new.example.com" in messages
    assert "Allowed methods" in messages
    assert RejectedPreflight.objects.filter(resolved_at__isnull=False).count() == 2
    assert AllowedOrigin.objects.filter(policy=policy).count() == 2
