"""Per-view policies: a view names its policy, which decides its preflights and requests."""

from __future__ import annotations

import html
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import AsyncClient, Client
from django.urls import reverse

from django_preflight import routing
from django_preflight.checks import check_deploy, check_view_policies
from django_preflight.decorators import cors_policy, policy_of
from django_preflight.models import CorsPolicy

APP = "https://app.example.com"
ANYONE = "https://any-site.example.org"

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(credentialed_api: CorsPolicy) -> CorsPolicy:
    return credentialed_api


@pytest.fixture
def webhooks(make_policy: Callable[..., CorsPolicy]) -> CorsPolicy:
    """Any origin, no credentials, only for the views naming it; its prefix '/' covers nothing."""
    return make_policy(
        origins=("",),
        kinds=["any"],
        name="webhooks",
        path_prefix="/",
        views_only=True,
        allowed_methods=["POST"],
        allowed_headers=["content-type"],
    )


def preflight(client: Client, path: str, origin: str, headers: str = "content-type") -> object:
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=headers,
    )


def test_decorated_view_on_a_credentialed_path_answers_any_origin_without_credentials(
    client: Client, api: CorsPolicy, webhooks: CorsPolicy
) -> None:
    response = preflight(client, "/api/hooks/stripe/", ANYONE)
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert response.headers["Access-Control-Allow-Methods"] == "POST"


def test_undecorated_neighbour_keeps_the_path_policy(
    client: Client, api: CorsPolicy, webhooks: CorsPolicy
) -> None:
    refused = preflight(client, "/api/hooks/other/", ANYONE)
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused.headers
    allowed = preflight(client, "/api/hooks/other/", APP)
    assert allowed.headers["Access-Control-Allow-Origin"] == APP
    assert allowed.headers["Access-Control-Allow-Credentials"] == "true"


def test_the_view_policy_takes_precedence_over_the_path_prefix(
    client: Client, api: CorsPolicy, webhooks: CorsPolicy
) -> None:
    """The API's own frontend gets the webhook policy's answer on the webhook: no credentials."""
    response = preflight(client, "/api/hooks/stripe/", APP)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_a_views_only_policy_covers_no_path(
    client: Client, api: CorsPolicy, webhooks: CorsPolicy
) -> None:
    response = preflight(client, "/other/plain/", ANYONE)
    assert response.status_code == 403


def test_real_requests_of_the_view_get_its_policy_headers(
    client: Client, api: CorsPolicy, webhooks: CorsPolicy
) -> None:
    hook = client.post("/api/hooks/stripe/", HTTP_ORIGIN=ANYONE)
    assert hook.headers["Access-Control-Allow-Origin"] == "*"
    neighbour = client.get("/api/hooks/other/", HTTP_ORIGIN=ANYONE)
    assert "Access-Control-Allow-Origin" not in neighbour.headers
    assert neighbour.headers["Vary"] == "Origin"


def test_a_view_naming_a_disabled_policy_is_covered_by_nothing(
    client: Client,
    api: CorsPolicy,
    webhooks: CorsPolicy,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        webhooks.enabled = False
        webhooks.save()
    response = preflight(client, "/api/hooks/stripe/", APP)
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers


def test_drf_class_attribute_names_a_policy_with_an_extra_header(
    client: Client, api: CorsPolicy, make_policy: Callable[..., CorsPolicy]
) -> None:
    make_policy(
        origins=(APP,),
        name="uploads",
        path_prefix="/uploads-only-for-views/",
        views_only=True,
        allow_credentials=True,
        allowed_methods=["GET", "POST"],
        allowed_headers=["content-type", "x-upload-token"],
    )
    upload = preflight(client, "/api/uploads/", APP, "content-type,x-upload-token")
    assert upload.status_code == 204
    assert upload.headers["Access-Control-Allow-Headers"] == "content-type, x-upload-token"
    neighbour = preflight(client, "/api/plain/", APP, "content-type,x-upload-token")
    assert neighbour.status_code == 403


def test_resolution_is_cached_per_path_and_cleared_with_the_urlconf(
    client: Client, api: CorsPolicy, webhooks: CorsPolicy, settings: Any
) -> None:
    routing.clear()
    preflight(client, "/api/hooks/stripe/", ANYONE)
    first = routing._cached.cache_info()
    preflight(client, "/api/hooks/stripe/", ANYONE)
    second = routing._cached.cache_info()
    assert (second.misses, second.hits) == (first.misses, first.hits + 1)
    settings.ROOT_URLCONF = "tests.security.urls"
    assert routing._cached.cache_info().currsize == 0


def test_long_paths_are_resolved_without_filling_the_cache(
    client: Client, api: CorsPolicy, webhooks: CorsPolicy
) -> None:
    routing.clear()
    preflight(client, "/api/" + "x" * (routing.MAX_CACHED_PATH + 1), ANYONE)
    assert routing._cached.cache_info().currsize == 0


def test_decorator_refuses_a_name_that_is_not_a_policy_name() -> None:
    with pytest.raises(TypeError, match="policy name"):
        cors_policy("")
    with pytest.raises(TypeError, match="policy name"):
        cors_policy("x" * 101)


def test_policy_of_reads_functions_django_and_drf_classes() -> None:
    from tests import views

    assert policy_of(views.webhook) == "webhooks"
    assert policy_of(views.UploadView.as_view()) == "uploads"
    assert policy_of(views.plain) is None


def test_status_lists_the_views_using_each_policy(api: CorsPolicy, webhooks: CorsPolicy) -> None:
    out = StringIO()
    call_command("preflight", "status", stdout=out)
    text = out.getvalue()
    assert "only for views naming it: webhooks" in text
    assert "used by views, policy 'webhooks': /api/hooks/stripe/ (tests.views.webhook)" in text
    assert "used by views, policy 'uploads' (not an enabled policy: no CORS headers): " in text


def test_explain_says_the_view_policy_decides(api: CorsPolicy, webhooks: CorsPolicy) -> None:
    out = StringIO()
    call_command(
        "preflight",
        "explain",
        "https://api.example.com/api/hooks/stripe/",
        "--origin",
        ANYONE,
        "--method",
        "POST",
        "--header",
        "Content-Type",
        stdout=out,
    )
    text = out.getvalue()
    assert (
        "Covered by: view /api/hooks/stripe/ (tests.views.webhook), which names policy "
        "'webhooks' (a view's policy takes precedence over path prefixes)" in text
    )
    assert "Browser:    PASS" in text


def test_admin_shows_the_views_using_a_policy(
    client: Client, webhooks: CorsPolicy, api: CorsPolicy
) -> None:
    client.force_login(User.objects.create_superuser("admin", "a@example.com", "pw"))
    page = client.get(f"/admin/django_preflight/corspolicy/{webhooks.pk}/change/")
    assert "/api/hooks/stripe/ (tests.views.webhook)" in page.content.decode()
    other = client.get(f"/admin/django_preflight/corspolicy/{api.pk}/change/")
    assert "No view names this policy." in other.content.decode()


def test_a_urlconf_without_views_naming_policies_is_never_resolved_against(
    client: Client, api: CorsPolicy, settings: Any
) -> None:
    settings.ROOT_URLCONF = "tests.security.urls"
    preflight(client, "/api/anything/", APP)
    preflight(client, "/api/something-else/", APP)
    assert routing._cached.cache_info().currsize == 0
    assert routing._names_policies.cache_info().currsize == 1


def test_admin_test_page_decides_with_the_view_policy(
    client: Client, api: CorsPolicy, webhooks: CorsPolicy
) -> None:
    client.force_login(User.objects.create_superuser("admin", "a@example.com", "pw"))
    page = client.post(
        reverse("admin:django_preflight_corspolicy_test_request"),
        {
            "url": "/api/hooks/stripe/",
            "origin": ANYONE,
            "method": "POST",
            "headers": "Content-Type: application/json",
        },
    )
    text = html.unescape(page.content.decode())
    assert "view /api/hooks/stripe/ (tests.views.webhook), which names policy 'webhooks'" in text
    assert "Allowed: the page can read the response" in text


def test_the_async_path_honours_the_view_policy(api: CorsPolicy, webhooks: CorsPolicy) -> None:
    async def exercise() -> tuple[Any, Any]:
        client = AsyncClient()
        headers = {"Origin": ANYONE, "Access-Control-Request-Method": "POST"}
        hook = await client.options("/api/hooks/stripe/", headers=headers)
        neighbour = await client.options("/api/hooks/other/", headers=headers)
        return hook, neighbour

    hook, neighbour = async_to_sync(exercise)()
    assert hook.status_code == 204
    assert hook.headers["Access-Control-Allow-Origin"] == "*"
    assert neighbour.status_code == 403


def test_deploy_check_names_views_whose_policy_is_not_enabled(
    api: CorsPolicy, webhooks: CorsPolicy
) -> None:
    warnings = check_view_policies()
    assert [w.id for w in warnings] == ["django_preflight.W005"]
    assert warnings[0].msg == (
        "/api/uploads/ (tests.views.UploadView) names CORS policy 'uploads', which is not an "
        "enabled policy: no CORS header is sent for it."
    )


def test_any_origin_warning_of_a_views_only_policy_names_no_path(webhooks: CorsPolicy) -> None:
    messages = [w.msg for w in check_deploy() if w.id == "django_preflight.W003"]
    assert messages == [
        "CORS policy 'webhooks' allows any origin on the views naming it: make sure nothing "
        "there relies on session cookies or network position for access."
    ]
