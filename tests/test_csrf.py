"""The CSRF origin check trusts what credentialed policies trust, and nothing more."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import checks
from django.test import Client

from django_preflight.checks import check_csrf
from django_preflight.models import CorsPolicy

APP = "https://app.example.com"
OTHER = "https://other.example.com"
DJANGO_CSRF = "django.middleware.csrf.CsrfViewMiddleware"
POLICY_CSRF = "django_preflight.csrf.CsrfViewMiddleware"

pytestmark = pytest.mark.django_db


@pytest.fixture
def credentialed(credentialed_api: CorsPolicy) -> CorsPolicy:
    return credentialed_api


@pytest.fixture
def integration(settings: Any) -> None:
    settings.MIDDLEWARE = [
        POLICY_CSRF if name == DJANGO_CSRF else name for name in settings.MIDDLEWARE
    ]


@pytest.fixture
def browser() -> Client:
    """A client that, like a browser, gets no CSRF exemption."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.create_user("alice"))
    return client


def post(client: Client, path: str, origin: str, *, token: bool = True) -> Any:
    headers: dict[str, str] = {"HTTP_ORIGIN": origin}
    if token:
        token_value = client.get("/api/csrf/token/").json()["csrfToken"]
        headers["HTTP_X_CSRFTOKEN"] = token_value
    return client.post(path, "{}", content_type="application/json", **headers)


def test_without_the_integration_django_refuses_the_allowed_origin(
    browser: Client, credentialed: CorsPolicy
) -> None:
    response = post(browser, "/api/csrf/write/", APP)
    assert response.status_code == 403
    assert response.reason_phrase == "Forbidden"
    assert b"CSRF verification failed" in response.content


@pytest.mark.usefixtures("integration")
def test_with_the_integration_the_allowed_origin_passes(
    browser: Client, credentialed: CorsPolicy
) -> None:
    response = post(browser, "/api/csrf/write/", APP)
    assert response.status_code == 200
    assert response.json() == {"method": "POST"}


@pytest.mark.usefixtures("integration")
def test_the_token_is_still_required(browser: Client, credentialed: CorsPolicy) -> None:
    response = post(browser, "/api/csrf/write/", APP, token=False)
    assert response.status_code == 403


@pytest.mark.usefixtures("integration")
@pytest.mark.parametrize(
    ("origin", "path", "fields"),
    [
        (OTHER, "/api/csrf/write/", {}),
        (APP, "/other/plain/", {}),
        (APP, "/api/csrf/write/", {"allow_credentials": False}),
        (APP, "/api/csrf/write/", {"report_only": True}),
        (APP, "/api/csrf/write/", {"enabled": False}),
    ],
    ids=["origin-not-allowed", "path-not-covered", "not-credentialed", "report-only", "disabled"],
)
def test_origins_no_enforced_credentialed_policy_allows_stay_refused(
    browser: Client,
    make_policy: Callable[..., CorsPolicy],
    origin: str,
    path: str,
    fields: dict[str, Any],
) -> None:
    make_policy(
        origins=(APP,),
        name="frontend",
        path_prefix="/api/",
        **{"allow_credentials": True, **fields},
    )
    response = post(browser, path, origin)
    assert response.status_code == 403


@pytest.mark.usefixtures("integration")
def test_csrf_trusted_origins_keeps_working(browser: Client, settings: Any) -> None:
    settings.CSRF_TRUSTED_ORIGINS = [OTHER]
    assert post(browser, "/api/csrf/write/", OTHER).status_code == 200


@pytest.mark.usefixtures("integration")
def test_a_view_policy_decides_the_csrf_origin_check_too(
    browser: Client, credentialed: CorsPolicy, make_policy: Callable[..., CorsPolicy]
) -> None:
    """The webhook view names a non-credentialed policy: the API's origin is not trusted there."""
    make_policy(origins=("",), kinds=["any"], name="webhooks", views_only=True)
    assert post(browser, "/api/hooks/stripe/", APP).status_code == 403


def test_drf_session_authentication_trusts_the_credentialed_policy(
    browser: Client, credentialed: CorsPolicy
) -> None:
    response = post(browser, "/api/drf/session/", APP)
    assert response.status_code == 200
    assert response.json() == {"user": "alice"}


def test_drf_session_authentication_refuses_other_origins_in_drf_words(
    browser: Client, credentialed: CorsPolicy
) -> None:
    # Server-side enforcement would refuse the other origin's write before DRF sees it.
    CorsPolicy.objects.filter(pk=credentialed.pk).update(enforce_on_server=False)
    response = post(browser, "/api/drf/session/", OTHER)
    assert response.status_code == 403
    assert response.json() == {
        "detail": f"CSRF Failed: Origin checking failed - {OTHER} does not match any trusted "
        "origins."
    }
    assert post(browser, "/api/drf/session/", APP, token=False).status_code == 403


def test_drf_own_session_authentication_refuses_the_allowed_origin(
    browser: Client, credentialed: CorsPolicy
) -> None:
    response = post(browser, "/api/drf/default-session/", APP)
    assert response.status_code == 403
    assert "Origin checking failed" in response.json()["detail"]


def test_check_explains_the_choice_when_a_credentialed_policy_exists(
    credentialed: CorsPolicy,
) -> None:
    messages = check_csrf()
    assert [m.id for m in messages] == ["django_preflight.I001", "django_preflight.I002"]
    assert all(m.level == checks.INFO for m in messages)
    assert APP in messages[0].msg


@pytest.mark.usefixtures("integration")
def test_check_is_silent_with_the_integration_or_trusted_origins(
    credentialed: CorsPolicy, settings: Any
) -> None:
    assert [m.id for m in check_csrf()] == ["django_preflight.I002"]
    settings.REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": ["django_preflight.drf.SessionAuthentication"]
    }
    assert check_csrf() == []
    settings.MIDDLEWARE = [
        DJANGO_CSRF if name == POLICY_CSRF else name for name in settings.MIDDLEWARE
    ]
    settings.CSRF_TRUSTED_ORIGINS = [APP]
    assert check_csrf() == []


def test_check_is_silent_without_credentialed_policies(
    make_policy: Callable[..., CorsPolicy],
) -> None:
    make_policy(origins=(APP,), name="public", path_prefix="/api/")
    assert check_csrf() == []
