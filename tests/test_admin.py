"""The admin: editing, validation messages, warnings, search, actions and the read-only audit."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib import messages
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from django_preflight.admin import INLINE_ORIGIN_LIMIT
from django_preflight.engine.compiler import ANY_WITH_CREDENTIALS
from django_preflight.models import AllowedOrigin, CorsPolicy, RejectedPreflight
from django_preflight.store import store

from .admin_forms import policy_form
from .factories import AllowedOriginFactory, CorsPolicyFactory, RejectedPreflightFactory

pytestmark = pytest.mark.django_db

POLICY_CHANGELIST = reverse("admin:django_preflight_corspolicy_changelist")
POLICY_ADD = reverse("admin:django_preflight_corspolicy_add")
ORIGIN_CHANGELIST = reverse("admin:django_preflight_allowedorigin_changelist")
ORIGIN_ADD = reverse("admin:django_preflight_allowedorigin_add")
AUDIT_CHANGELIST = reverse("admin:django_preflight_rejectedpreflight_changelist")
AUDIT_ADD = reverse("admin:django_preflight_rejectedpreflight_add")

MAX_AGE_WARNING = "Chromium caps Max-Age at 7200 seconds"
NULL_WARNING = "any sandboxed page can send 'null'"


def policy_change_url(policy: CorsPolicy) -> str:
    return reverse("admin:django_preflight_corspolicy_change", args=(policy.pk,))


def text(response: Any) -> str:
    """The page as a person reads it: entities such as &#x27; decoded."""
    return html.unescape(response.content.decode())


def shown_messages(response: Any) -> list[tuple[int, str]]:
    return [(m.level, str(m)) for m in response.context["messages"]]


def result_names(response: Any) -> list[str]:
    return [str(obj) for obj in response.context["cl"].result_list]


# Policy list


def test_changelist_shows_columns_and_counts_origins_without_a_query_per_row(
    admin_client: Client, settings: Any
) -> None:
    settings.PREFLIGHT_REFRESH_INTERVAL = 3600.0
    policy = CorsPolicyFactory(name="shop", allowed_methods=["GET", "PATCH"])
    AllowedOriginFactory.create_batch(3, policy=policy)
    admin_client.get(POLICY_CHANGELIST)

    with CaptureQueriesContext(connection) as few:
        response = admin_client.get(POLICY_CHANGELIST)
    for _ in range(5):
        AllowedOriginFactory.create_batch(2, policy=CorsPolicyFactory())
    with CaptureQueriesContext(connection) as many:
        admin_client.get(POLICY_CHANGELIST)

    assert response.status_code == 200
    page = text(response)
    assert '<td class="field-origin_count">3</td>' in page
    assert '<td class="field-methods_summary">GET, PATCH</td>' in page
    assert "/api/" in page
    assert len(many.captured_queries) == len(few.captured_queries)


def test_changelist_sorts_by_origin_count(admin_client: Client) -> None:
    AllowedOriginFactory.create_batch(2, policy=CorsPolicyFactory(name="a-two"))
    AllowedOriginFactory.create_batch(5, policy=CorsPolicyFactory(name="b-five"))
    CorsPolicyFactory(name="c-none")
    response = admin_client.get(POLICY_CHANGELIST, {"o": "-5"})
    assert result_names(response) == ["b-five", "a-two", "c-none"]


def test_search_finds_origins_across_policies_once_per_policy(admin_client: Client) -> None:
    first = CorsPolicyFactory(name="first")
    AllowedOriginFactory(policy=first, value="https://shared.example.com")
    AllowedOriginFactory(policy=first, value="https://shared.example.com:8443")
    AllowedOriginFactory(policy=first, value="https://unrelated.example.com")
    AllowedOriginFactory(
        policy=CorsPolicyFactory(name="second"), value="https://shared.example.org"
    )
    AllowedOriginFactory(policy=CorsPolicyFactory(name="third"), value="https://other.example.net")

    response = admin_client.get(POLICY_CHANGELIST, {"q": "shared"})

    assert result_names(response) == ["first", "second"]
    counts = {str(p): p.num_origins for p in response.context["cl"].result_list}
    assert counts == {"first": 3, "second": 1}


def test_search_by_name_and_path_prefix(admin_client: Client) -> None:
    CorsPolicyFactory(name="mobile", path_prefix="/api/")
    CorsPolicyFactory(name="partners", path_prefix="/partner-api/")
    assert result_names(admin_client.get(POLICY_CHANGELIST, {"q": "mobile"})) == ["mobile"]
    assert result_names(admin_client.get(POLICY_CHANGELIST, {"q": "partner-api"})) == ["partners"]


@pytest.mark.parametrize(
    ("param", "value", "expected"),
    [
        ("enabled__exact", "0", ["off"]),
        ("allow_credentials__exact", "1", ["credentialed"]),
        ("allow_private_network__exact", "1", ["private"]),
    ],
)
def test_policy_filters(admin_client: Client, param: str, value: str, expected: list[str]) -> None:
    CorsPolicyFactory(name="off", enabled=False)
    CorsPolicyFactory(name="credentialed", allow_credentials=True)
    CorsPolicyFactory(name="private", allow_private_network=True)
    response = admin_client.get(POLICY_CHANGELIST, {param: value})
    assert result_names(response) == expected


# Adding and editing a policy


def fieldset_headings(page: str) -> list[str]:
    return re.findall(r'class="fieldset-heading">([^<]*)</h2>', page)


def test_add_form_groups_fields(admin_client: Client) -> None:
    page = text(admin_client.get(POLICY_ADD))
    assert fieldset_headings(page) == ["Identity", "What is allowed", "Response"]
    assert 'name="origins-TOTAL_FORMS"' in page


def test_add_policy_with_origins_stores_them_normalised_and_serves_them(
    admin_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    data = policy_form(
        origins=(("exact", "HTTPS://App.Example.com:443/"), ("subdomain", "https://*.Example.org"))
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(POLICY_ADD, data)

    assert response.status_code == 302, text(response)
    policy = CorsPolicy.objects.get(name="web")
    assert policy.allowed_methods == ["GET", "POST"]
    stored = sorted(policy.origins.values_list("kind", "value"))
    assert stored == [("exact", "https://app.example.com"), ("subdomain", "https://*.example.org")]
    tier = store.current().tier_for("/api/x")
    assert tier is not None
    assert tier.origins.match("https://app.example.com") is not None
    assert tier.origins.match("https://eu.example.org") is not None


def test_change_view_shows_timestamps_read_only(admin_client: Client) -> None:
    policy = CorsPolicyFactory()
    page = text(admin_client.get(policy_change_url(policy)))
    assert fieldset_headings(page) == ["Identity", "What is allowed", "Response", "Timestamps"]
    assert 'name="created_at"' not in page
    assert 'name="updated_at"' not in page


# Validation: one sentence each, the form redisplayed, nothing saved


@pytest.mark.parametrize(
    ("fields", "origins", "message"),
    [
        pytest.param({"allow_credentials": "on"}, (("any", ""),), ANY_WITH_CREDENTIALS, id="any"),
        pytest.param(
            {"allow_credentials": "on", "allowed_methods": "*"},
            (),
            "Browsers treat '*' as a literal method name on credentialed requests; "
            "list the methods by name.",
            id="star-method",
        ),
        pytest.param(
            {"allow_credentials": "on", "allowed_headers": "*"},
            (),
            "Browsers treat '*' as a literal header name on credentialed requests; "
            "list the headers by name.",
            id="star-header",
        ),
        pytest.param(
            {"allow_credentials": "on", "exposed_headers": "*"},
            (),
            "Browsers treat '*' as a literal header name on credentialed requests; "
            "list the headers by name.",
            id="star-exposed",
        ),
        pytest.param(
            {},
            (("exact", "https://app.example.com/login"),),
            "An origin is only scheme, host and port; remove a path ('/...').",
            id="origin-path",
        ),
        pytest.param(
            {},
            (("regex", r"https://(app|www\.example\.com"),),
            "This is not a valid regular expression: missing ), unterminated subpattern",
            id="regex",
        ),
        pytest.param(
            {"allowed_headers": "content-type, x-api@key"},
            (),
            "'x-api@key' is not a valid header name: it contains '@', which a name cannot.",
            id="header-token",
        ),
        pytest.param(
            {"allowed_methods": "GET, PO(ST"},
            (),
            "'PO(ST' is not a valid HTTP method name: it contains '(', which a name cannot.",
            id="method-token",
        ),
        pytest.param(
            {},
            (("exact", "https://app.example.com"), ("exact", "HTTPS://App.Example.com:443/")),
            "'https://app.example.com' is already listed in this policy; keep one.",
            id="duplicate-normalised",
        ),
        pytest.param(
            {},
            (("null", ""), ("null", "")),
            "The 'null' origin is already listed in this policy; keep one.",
            id="duplicate-valueless",
        ),
    ],
)
def test_add_refuses_unsafe_or_malformed_policies(
    admin_client: Client,
    fields: dict[str, str],
    origins: tuple[tuple[str, str], ...],
    message: str,
) -> None:
    response = admin_client.post(POLICY_ADD, policy_form(origins=origins, **fields))
    assert response.status_code == 200
    assert message in text(response)
    assert not CorsPolicy.objects.exists()
    assert not AllowedOrigin.objects.exists()


def test_change_refuses_credentials_while_any_origin_is_listed(admin_client: Client) -> None:
    policy = CorsPolicyFactory(name="web")
    AllowedOriginFactory(policy=policy, kind="any", value="")
    response = admin_client.post(
        policy_change_url(policy),
        policy_form(policy, allow_credentials="on"),
    )
    assert response.status_code == 200
    assert ANY_WITH_CREDENTIALS in text(response)
    policy.refresh_from_db()
    assert policy.allow_credentials is False


def test_change_refuses_a_new_row_duplicating_a_saved_one(admin_client: Client) -> None:
    policy = CorsPolicyFactory(name="web")
    AllowedOriginFactory(policy=policy, value="https://app.example.com")
    response = admin_client.post(
        policy_change_url(policy),
        policy_form(policy, origins=(("exact", "https://APP.example.com:443"),)),
    )
    assert response.status_code == 200
    assert "'https://app.example.com' is already listed in this policy" in text(response)
    assert policy.origins.count() == 1


def test_change_accepts_replacing_a_deleted_row_with_the_same_origin(admin_client: Client) -> None:
    policy = CorsPolicyFactory(name="web")
    AllowedOriginFactory(policy=policy, value="https://app.example.com", note="old")
    data = policy_form(policy, origins=(("exact", "https://app.example.com"),))
    data["origins-0-DELETE"] = "on"
    response = admin_client.post(policy_change_url(policy), data)
    assert response.status_code == 302, text(response)
    assert list(policy.origins.values_list("value", "note")) == [("https://app.example.com", "")]


# Warnings after saving


def test_max_age_above_chromium_cap_saves_with_a_warning(admin_client: Client) -> None:
    response = admin_client.post(POLICY_ADD, policy_form(max_age="86400"), follow=True)
    assert CorsPolicy.objects.get(name="web").max_age == 86400
    warnings = [msg for level, msg in shown_messages(response) if level == messages.WARNING]
    assert len(warnings) == 1
    assert warnings[0].startswith(MAX_AGE_WARNING)
    assert MAX_AGE_WARNING in text(response)


def test_null_origin_saves_with_a_warning(admin_client: Client) -> None:
    response = admin_client.post(POLICY_ADD, policy_form(origins=(("null", ""),)), follow=True)
    assert CorsPolicy.objects.get(name="web").origins.get().kind == "null"
    warnings = [msg for level, msg in shown_messages(response) if level == messages.WARNING]
    assert len(warnings) == 1
    assert NULL_WARNING in warnings[0]
    assert NULL_WARNING in text(response)


def test_ordinary_policy_saves_without_warnings(admin_client: Client) -> None:
    response = admin_client.post(
        POLICY_ADD, policy_form(origins=(("exact", "https://app.example.com"),)), follow=True
    )
    levels = [level for level, _ in shown_messages(response)]
    assert levels == [messages.SUCCESS]


# Actions


def test_enable_action_updates_rows_and_rebuilds_the_store(
    admin_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        policies = [CorsPolicyFactory(enabled=False) for _ in range(2)]
        for policy in policies:
            AllowedOriginFactory(policy=policy)
    assert store.current().tier_for("/api/x") is None

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client.post(
            POLICY_CHANGELIST,
            {"action": "enable_policies", "_selected_action": [p.pk for p in policies]},
            follow=True,
        )

    assert len(callbacks) == 1
    assert CorsPolicy.objects.filter(enabled=True).count() == 2
    assert (messages.SUCCESS, "Enabled 2 policies.") in shown_messages(response)
    tier = store.current().tier_for("/api/x")
    assert tier is not None
    assert {p.id for p in tier.policies} == {p.pk for p in policies}


def test_disable_action_updates_rows_and_rebuilds_the_store(
    admin_client: Client,
    make_policy: Callable[..., CorsPolicy],
    django_capture_on_commit_callbacks: Any,
) -> None:
    policy = make_policy(path_prefix="/api/")
    before = policy.updated_at
    assert store.current().tier_for("/api/x") is not None

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            POLICY_CHANGELIST,
            {"action": "disable_policies", "_selected_action": [policy.pk]},
            follow=True,
        )

    policy.refresh_from_db()
    assert policy.enabled is False
    assert policy.updated_at > before
    assert (messages.SUCCESS, "Disabled 1 policy.") in shown_messages(response)
    assert store.current().tier_for("/api/x") is None


def test_action_counts_only_changed_rows_and_publishes_nothing_without_change(
    admin_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    policy = CorsPolicyFactory(enabled=True)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client.post(
            POLICY_CHANGELIST,
            {"action": "enable_policies", "_selected_action": [policy.pk]},
            follow=True,
        )
    assert callbacks == []
    assert (messages.SUCCESS, "Enabled 0 policies.") in shown_messages(response)


def test_action_on_all_search_results_across_a_join(admin_client: Client) -> None:
    first = CorsPolicyFactory(name="first", enabled=False)
    AllowedOriginFactory(policy=first, value="https://shared.example.com")
    AllowedOriginFactory(policy=first, value="https://shared.example.com:8443")
    other = CorsPolicyFactory(name="other", enabled=False)
    AllowedOriginFactory(policy=other, value="https://other.example.com")

    response = admin_client.post(
        f"{POLICY_CHANGELIST}?q=shared",
        {"action": "enable_policies", "select_across": "1", "_selected_action": [first.pk]},
        follow=True,
    )

    assert (messages.SUCCESS, "Enabled 1 policy.") in shown_messages(response)
    assert list(CorsPolicy.objects.filter(enabled=True).values_list("name", flat=True)) == ["first"]


# Large policies


def _policy_with_origins(count: int) -> CorsPolicy:
    origins = [f"https://app{n}.example.com" for n in range(count)]
    return CorsPolicyFactory(name=f"with-{count}", origins=origins)


def test_large_policy_links_to_its_origins_instead_of_inlining_them(admin_client: Client) -> None:
    policy = _policy_with_origins(INLINE_ORIGIN_LIMIT + 1)
    AllowedOriginFactory(value="https://elsewhere.example.com")

    page = text(admin_client.get(policy_change_url(policy)))

    assert "origins-TOTAL_FORMS" not in page
    assert "Allowed origins" in fieldset_headings(page)
    assert "https://app0.example.com" not in page
    link = f'<a href="{ORIGIN_CHANGELIST}?policy__id__exact={policy.pk}">'
    assert link in page
    assert f"{INLINE_ORIGIN_LIMIT + 1} origins:" in page
    listed = admin_client.get(ORIGIN_CHANGELIST, {"policy__id__exact": policy.pk})
    assert listed.context["cl"].result_count == INLINE_ORIGIN_LIMIT + 1


def test_policy_at_the_limit_still_inlines_its_origins(admin_client: Client) -> None:
    policy = _policy_with_origins(INLINE_ORIGIN_LIMIT)
    page = text(admin_client.get(policy_change_url(policy)))
    assert 'name="origins-TOTAL_FORMS"' in page
    assert "?policy__id__exact=" not in page


def test_large_policy_can_still_be_saved(admin_client: Client) -> None:
    policy = _policy_with_origins(INLINE_ORIGIN_LIMIT + 1)
    data = policy_form(name=policy.name, allowed_methods="GET")
    response = admin_client.post(policy_change_url(policy), data)
    assert response.status_code == 302, text(response)
    policy.refresh_from_db()
    assert policy.allowed_methods == ["GET"]
    assert policy.origins.count() == INLINE_ORIGIN_LIMIT + 1


# Allowed origins on their own


def test_origin_changelist_filters_and_searches(admin_client: Client) -> None:
    web = CorsPolicyFactory(name="web")
    AllowedOriginFactory(policy=web, value="https://app.example.com", note="main site")
    AllowedOriginFactory(policy=web, kind="subdomain", value="https://*.example.com")
    AllowedOriginFactory(policy=CorsPolicyFactory(name="partners"), value="https://p.example.net")

    by_kind = admin_client.get(ORIGIN_CHANGELIST, {"kind__exact": "subdomain"})
    assert result_names(by_kind) == ["https://*.example.com"]
    by_policy = admin_client.get(ORIGIN_CHANGELIST, {"policy__id__exact": web.pk})
    assert by_policy.context["cl"].result_count == 2
    assert result_names(admin_client.get(ORIGIN_CHANGELIST, {"q": "example.net"})) == [
        "https://p.example.net"
    ]
    assert result_names(admin_client.get(ORIGIN_CHANGELIST, {"q": "main site"})) == [
        "https://app.example.com"
    ]


def test_origin_changelist_does_not_query_per_row(admin_client: Client, settings: Any) -> None:
    settings.PREFLIGHT_REFRESH_INTERVAL = 3600.0
    AllowedOriginFactory()
    admin_client.get(ORIGIN_CHANGELIST)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(ORIGIN_CHANGELIST)
    AllowedOriginFactory.create_batch(5)
    with CaptureQueriesContext(connection) as many:
        admin_client.get(ORIGIN_CHANGELIST)
    assert len(many.captured_queries) == len(few.captured_queries)


def test_origin_add_normalises(admin_client: Client) -> None:
    policy = CorsPolicyFactory()
    response = admin_client.post(
        ORIGIN_ADD,
        {"policy": policy.pk, "kind": "exact", "value": "HTTPS://App.Example.com:443/"},
    )
    assert response.status_code == 302, text(response)
    assert AllowedOrigin.objects.get().value == "https://app.example.com"


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("any", "", ANY_WITH_CREDENTIALS),
        (
            "exact",
            "https://app.example.com/login",
            "An origin is only scheme, host and port; remove a path ('/...').",
        ),
        ("regex", "https://(", "This is not a valid regular expression"),
    ],
)
def test_origin_add_refuses(admin_client: Client, kind: str, value: str, message: str) -> None:
    policy = CorsPolicyFactory(allow_credentials=True)
    response = admin_client.post(ORIGIN_ADD, {"policy": policy.pk, "kind": kind, "value": value})
    assert response.status_code == 200
    assert message in text(response)
    assert not AllowedOrigin.objects.exists()


def test_origin_add_refuses_a_saved_duplicate(admin_client: Client) -> None:
    saved = AllowedOriginFactory(value="https://app.example.com")
    response = admin_client.post(
        ORIGIN_ADD, {"policy": saved.policy_id, "kind": "exact", "value": "https://APP.example.com"}
    )
    assert response.status_code == 200
    assert AllowedOrigin.objects.count() == 1


def test_origin_add_null_warns(admin_client: Client) -> None:
    policy = CorsPolicyFactory()
    response = admin_client.post(
        ORIGIN_ADD, {"policy": policy.pk, "kind": "null", "value": ""}, follow=True
    )
    assert AllowedOrigin.objects.get().kind == "null"
    assert any(
        level == messages.WARNING and NULL_WARNING in msg for level, msg in shown_messages(response)
    )


def test_origin_policy_uses_autocomplete(admin_client: Client) -> None:
    web = CorsPolicyFactory(name="web")
    CorsPolicyFactory(name="partners")
    page = text(admin_client.get(ORIGIN_ADD))
    assert "admin-autocomplete" in page
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {
            "term": "web",
            "app_label": "django_preflight",
            "model_name": "allowedorigin",
            "field_name": "policy",
        },
    )
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["results"]] == [str(web.pk)]


# The audit of refused preflights


def test_audit_cannot_be_added(admin_client: Client) -> None:
    assert admin_client.get(AUDIT_ADD).status_code == 403
    assert admin_client.post(AUDIT_ADD, {"origin": "https://x.example"}).status_code == 403
    page = text(admin_client.get(AUDIT_CHANGELIST))
    assert AUDIT_ADD not in page


def test_audit_detail_is_read_only_and_explains_the_refusal(admin_client: Client) -> None:
    row = RejectedPreflightFactory(
        reason=RejectedPreflight.ReasonCode.HEADER_NOT_ALLOWED, detail="x-api-key"
    )
    url = reverse("admin:django_preflight_rejectedpreflight_change", args=(row.pk,))

    response = admin_client.get(url)

    assert response.status_code == 200
    page = text(response)
    form = page[page.index('id="rejectedpreflight_form"') :]
    inputs = re.findall(r"<input[^>]*>", form)
    assert all('type="hidden"' in tag for tag in inputs), inputs
    assert "<textarea" not in form
    assert "<select" not in form
    assert 'name="_save"' not in page
    assert row.console_message in page
    assert "The origin is allowed but the request header 'x-api-key' is not." in page
    assert "Add 'x-api-key' to the allowed headers of " in page

    before = RejectedPreflight.objects.get(pk=row.pk)
    assert admin_client.post(url, {"origin": "https://changed.example"}).status_code == 403
    assert RejectedPreflight.objects.get(pk=row.pk).origin == before.origin


def test_audit_rows_can_be_deleted_by_superusers(admin_client: Client) -> None:
    row = RejectedPreflightFactory()
    url = reverse("admin:django_preflight_rejectedpreflight_delete", args=(row.pk,))
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not RejectedPreflight.objects.exists()


def test_audit_delete_needs_the_delete_permission(client: Client) -> None:
    row = RejectedPreflightFactory()
    user = User.objects.create_user("viewer", password="x", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(codename="view_rejectedpreflight"),
    )
    client.force_login(user)
    change = reverse("admin:django_preflight_rejectedpreflight_change", args=(row.pk,))
    delete = reverse("admin:django_preflight_rejectedpreflight_delete", args=(row.pk,))

    assert client.get(change).status_code == 200
    assert client.post(delete, {"post": "yes"}).status_code == 403

    user.user_permissions.add(Permission.objects.get(codename="delete_rejectedpreflight"))
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert not RejectedPreflight.objects.exists()


def test_audit_list_is_newest_first_and_shows_the_columns(admin_client: Client) -> None:
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    RejectedPreflightFactory(origin="https://old.example", last_seen=now - timedelta(days=1))
    RejectedPreflightFactory(origin="https://new.example", last_seen=now)

    response = admin_client.get(AUDIT_CHANGELIST)

    origins = [row.origin for row in response.context["cl"].result_list]
    assert origins == ["https://new.example", "https://old.example"]
    page = text(response)
    for column in ("summary", "origin", "request", "count", "last_seen", "is_resolved"):
        assert f"column-{column}" in page


def test_audit_filters_and_search(admin_client: Client) -> None:
    policy = CorsPolicyFactory(name="web")
    RejectedPreflightFactory(origin="https://a.example", path="/api/items/", policy=policy)
    RejectedPreflightFactory(
        origin="https://b.example",
        path="/api/orders/",
        reason=RejectedPreflight.ReasonCode.METHOD_NOT_ALLOWED,
    )
    RejectedPreflightFactory(origin="", path="", is_overflow=True, count=500)

    def origins(params: dict[str, Any]) -> list[str]:
        response = admin_client.get(AUDIT_CHANGELIST, params)
        assert response.status_code == 200
        return sorted(row.origin for row in response.context["cl"].result_list)

    assert origins({"reason__exact": "method_not_allowed"}) == ["https://b.example"]
    assert origins({"policy__id__exact": policy.pk}) == ["https://a.example"]
    assert origins({"is_overflow__exact": "1"}) == [""]
    assert origins({"q": "b.example"}) == ["https://b.example"]
    assert origins({"q": "/api/items"}) == ["https://a.example"]


CSRF_WARNING = (
    "Django's CSRF check will refuse cookie-authenticated writes from https://app.example"
)


def test_credentialed_origins_django_csrf_refuses_save_with_a_warning(
    admin_client: Client,
) -> None:
    data = policy_form(origins=(("exact", "https://app.example"),), allow_credentials="on")
    response = admin_client.post(POLICY_ADD, data, follow=True)
    warnings = [msg for level, msg in shown_messages(response) if level == messages.WARNING]
    assert len(warnings) == 1
    assert warnings[0].startswith(CSRF_WARNING)
    assert "django_preflight.csrf.CsrfViewMiddleware" in warnings[0]


@pytest.mark.parametrize(
    "setting",
    [
        {"CSRF_TRUSTED_ORIGINS": ["https://app.example"]},
        {
            "MIDDLEWARE": [
                "django_preflight.middleware.PreflightMiddleware",
                "django.contrib.sessions.middleware.SessionMiddleware",
                "django_preflight.csrf.CsrfViewMiddleware",
                "django.contrib.auth.middleware.AuthenticationMiddleware",
                "django.contrib.messages.middleware.MessageMiddleware",
            ],
            "REST_FRAMEWORK": {
                "DEFAULT_AUTHENTICATION_CLASSES": ["django_preflight.drf.SessionAuthentication"]
            },
        },
    ],
    ids=["trusted-origins", "integration"],
)
def test_no_csrf_warning_when_the_origins_are_trusted(
    admin_client: Client, settings: Any, setting: dict[str, Any]
) -> None:
    for name, value in setting.items():
        setattr(settings, name, value)
    data = policy_form(origins=(("exact", "https://app.example"),), allow_credentials="on")
    response = admin_client.post(POLICY_ADD, data, follow=True)
    assert CorsPolicy.objects.get(name="web").allow_credentials
    assert not [msg for level, msg in shown_messages(response) if level == messages.WARNING]


def test_audit_search_finds_rows_by_any_engine_s_pasted_line(admin_client: Client) -> None:
    RejectedPreflightFactory(origin="https://a.example", path="/api/items/")
    RejectedPreflightFactory(origin="https://b.example", path="/api/items/")
    RejectedPreflightFactory(origin="https://a.example", path="/api/orders/")

    def origins_paths(pasted: str) -> list[tuple[str, str]]:
        response = admin_client.get(AUDIT_CHANGELIST, {"q": pasted})
        assert response.status_code == 200
        return sorted((row.origin, row.path) for row in response.context["cl"].result_list)

    chromium = (
        "Access to fetch at 'https://api.example/api/items/' from origin 'https://a.example' has "
        "been blocked by CORS policy: Response to preflight request doesn't pass access control "
        "check: No 'Access-Control-Allow-Origin' header is present on the requested resource."
    )
    firefox = (
        "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote "
        "resource at https://api.example/api/items/?page=2. (Reason: CORS header "
        "\u2018Access-Control-Allow-Origin\u2019 missing). Status code: 403."
    )
    webkit = (
        "Origin https://b.example is not allowed by Access-Control-Allow-Origin. Status code: 403"
    )
    webkit_load = (
        "Fetch API cannot load https://api.example/api/orders/ due to access control checks."
    )
    assert origins_paths(chromium) == [("https://a.example", "/api/items/")]
    assert origins_paths(firefox) == [
        ("https://a.example", "/api/items/"),
        ("https://b.example", "/api/items/"),
    ]
    assert origins_paths(webkit) == [("https://b.example", "/api/items/")]
    assert origins_paths(webkit_load) == [("https://a.example", "/api/orders/")]


def test_audit_search_by_a_pasted_line_matches_the_decoded_path_the_audit_stores(
    admin_client: Client,
) -> None:
    RejectedPreflightFactory(origin="https://a.example", path="/caf\u00e9/")
    pasted = (
        "Access to fetch at 'https://api.example/caf%C3%A9/' from origin 'https://a.example' has "
        "been blocked by CORS policy: Response to preflight request doesn't pass access control "
        "check: No 'Access-Control-Allow-Origin' header is present on the requested resource."
    )
    response = admin_client.get(AUDIT_CHANGELIST, {"q": pasted})
    assert [row.path for row in response.context["cl"].result_list] == ["/caf\u00e9/"]


def test_audit_detail_shows_each_engine_s_lines(admin_client: Client) -> None:
    row = RejectedPreflightFactory(origin="https://a.example", path="/api/items/")
    response = admin_client.get(
        reverse("admin:django_preflight_rejectedpreflight_change", args=(row.pk,))
    )
    page = text(response)
    for label in ("Chromium 156", "Firefox 153 ESR", "WebKitGTK 2.50"):
        assert label in page
    assert "(Reason: CORS header \u2018Access-Control-Allow-Origin\u2019 missing)." in page
    assert "Preflight response is not successful. Status code: 403" in page
    assert "Fetch API cannot load /api/items/ due to access control checks." in page
