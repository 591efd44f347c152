"""The middleware through Django's full stack: test client, DRF, auth, redirects, errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import User
from django.test import AsyncClient, Client
from rest_framework.authtoken.models import Token

from django_preflight.models import CorsPolicy
from tests.test_store import database_down

APP = "https://app.example.com"
EVIL = "https://evil.example.net"
PREFLIGHT_VARY = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(make_policy: Callable[..., CorsPolicy]) -> CorsPolicy:
    return make_policy(
        origins=(APP,),
        name="frontend",
        path_prefix="/api/",
        allow_credentials=True,
        allowed_methods=["GET", "POST", "PUT", "DELETE"],
        allowed_headers=["authorization", "content-type"],
        exposed_headers=["X-Request-Id"],
        max_age=600,
    )


def preflight(
    client: Client, path: str, origin: str = APP, method: str = "PUT", headers: str = ""
) -> Any:
    extra = {"HTTP_ORIGIN": origin, "HTTP_ACCESS_CONTROL_REQUEST_METHOD": method}
    if headers:
        extra["HTTP_ACCESS_CONTROL_REQUEST_HEADERS"] = headers
    return client.options(path, **extra)


def test_allowed_preflight_is_answered_with_exact_headers(
    client: Client, policy: CorsPolicy
) -> None:
    response = preflight(client, "/api/items/1/", headers="authorization,content-type")
    assert response.status_code == 204
    assert response.content == b""
    assert "Content-Length" not in response.headers, "HTTP forbids a length on a 204"
    assert response.headers["Access-Control-Allow-Origin"] == APP
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert response.headers["Access-Control-Allow-Methods"] == "GET, POST, PUT, DELETE"
    assert response.headers["Access-Control-Allow-Headers"] == "authorization, content-type"
    assert response.headers["Access-Control-Max-Age"] == "600"
    assert response.headers["Vary"] == PREFLIGHT_VARY
    assert "Access-Control-Expose-Headers" not in response.headers
    assert "Content-Type" not in response.headers


@pytest.mark.parametrize(
    ("path", "origin", "method", "headers", "reason"),
    [
        ("/api/items/1/", EVIL, "PUT", "", "origin_not_allowed"),
        ("/api/items/1/", APP, "PATCH", "", "method_not_allowed"),
        ("/api/items/1/", APP, "put", "", "method_not_allowed"),
        ("/api/items/1/", APP, "PUT", "authorization,x-secret", "header_not_allowed"),
        ("/api/items/1/", APP, "PUT", "bad header", "malformed_request"),
        ("/other/plain/", APP, "PUT", "", "no_policy_for_path"),
    ],
)
def test_refused_preflight_has_no_grant_headers(
    client: Client,
    policy: CorsPolicy,
    settings: Any,
    path: str,
    origin: str,
    method: str,
    headers: str,
    reason: str,
) -> None:
    settings.PREFLIGHT_REASON_HEADER = "X-Preflight-Refused"
    response = preflight(client, path, origin, method, headers)
    assert response.status_code == 403
    assert not [h for h in response.headers if h.lower().startswith("access-control-")]
    assert response.headers["X-Preflight-Refused"] == reason
    assert response.headers["Vary"] == PREFLIGHT_VARY


def test_refused_status_is_a_setting_and_reason_header_off_by_default(
    client: Client, policy: CorsPolicy, settings: Any
) -> None:
    settings.PREFLIGHT_REFUSED_STATUS = 200
    response = preflight(client, "/api/items/1/", origin=EVIL)
    assert response.status_code == 200
    assert "X-Preflight-Refused" not in response.headers
    assert "Access-Control-Allow-Origin" not in response.headers


def test_preflight_never_reaches_drf_authentication(client: Client, policy: CorsPolicy) -> None:
    assert client.put("/api/items/1/", {}, content_type="application/json").status_code == 401
    assert preflight(client, "/api/items/1/", headers="authorization").status_code == 204


def test_preflight_never_reaches_login_required_middleware(
    client: Client, policy: CorsPolicy, settings: Any
) -> None:
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE,
        "django.contrib.auth.middleware.LoginRequiredMiddleware",
    ]
    assert client.get("/api/plain/").status_code == 302
    assert preflight(client, "/api/plain/").status_code == 204


def test_append_slash_never_redirects_a_preflight(client: Client, policy: CorsPolicy) -> None:
    assert client.get("/api/plain").status_code == 301
    response = preflight(client, "/api/plain")
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == APP


def test_options_without_request_method_reaches_drf_metadata(
    client: Client, policy: CorsPolicy
) -> None:
    user = User.objects.create_user("meta")
    token = Token.objects.create(user=user)
    response = client.options(
        "/api/items/", HTTP_ORIGIN=APP, HTTP_AUTHORIZATION=f"Token {token.key}"
    )
    assert response.status_code == 200
    assert response.json()["name"] == "Item List"
    assert response.headers["Access-Control-Allow-Origin"] == APP


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/items/1/", 401),
        ("/api/unauthorized/", 401),
        ("/api/missing/", 404),
        ("/api/crash/", 500),
    ],
)
def test_allowed_origin_gets_headers_on_error_responses(
    policy: CorsPolicy, path: str, status: int
) -> None:
    client = Client(raise_request_exception=False)
    response = client.get(path, HTTP_ORIGIN=APP)
    assert response.status_code == status
    assert response.headers["Access-Control-Allow-Origin"] == APP
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert response.headers["Access-Control-Expose-Headers"] == "x-request-id"
    assert "Origin" in response.headers["Vary"]


def test_real_request_from_unknown_origin_gets_no_grant(client: Client, policy: CorsPolicy) -> None:
    response = client.get("/api/plain/", HTTP_ORIGIN=EVIL)
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    assert response.headers["Vary"] == "Origin"


def test_vary_origin_on_covered_paths_even_without_origin(
    client: Client, policy: CorsPolicy
) -> None:
    assert client.get("/api/plain/").headers["Vary"] == "Origin"
    assert "Vary" not in client.get("/other/plain/").headers


def test_existing_cors_header_wins_and_vary_is_merged(client: Client, policy: CorsPolicy) -> None:
    response = client.get("/api/own-cors/", HTTP_ORIGIN=APP)
    assert response.headers["Access-Control-Allow-Origin"] == "https://chosen-by-view.example"
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert response.headers["Vary"] == "Accept-Encoding, Origin"


def test_a_header_set_in_another_case_is_not_added_again(
    client: Client, policy: CorsPolicy
) -> None:
    response = client.get("/api/own-cors/", HTTP_ORIGIN=APP)
    sent = [name.lower() for name, _ in response.items()]
    assert sent.count("access-control-allow-origin") == 1
    assert sent.count("vary") == 1


def test_vary_origin_already_present_is_not_repeated(client: Client, policy: CorsPolicy) -> None:
    response = client.get("/api/vary-origin/", HTTP_ORIGIN=APP)
    assert response.headers["Vary"] == "origin, Cookie"


def test_request_headers_split_over_lines_are_read(client: Client, policy: CorsPolicy) -> None:
    response = preflight(client, "/api/items/1/", headers="authorization ,\t content-type,")
    assert response.status_code == 204


def test_zero_queries_per_request_once_loaded(
    client: Client, policy: CorsPolicy, django_assert_num_queries: Any
) -> None:
    preflight(client, "/api/items/1/")
    with django_assert_num_queries(0):
        for _ in range(5):
            assert preflight(client, "/api/items/1/").status_code == 204
            assert preflight(client, "/api/items/1/", origin=EVIL).status_code == 403
            assert client.get("/api/plain/", HTTP_ORIGIN=APP).status_code == 200


def test_async_path_answers_and_decorates(policy: CorsPolicy) -> None:
    async_to_sync(_exercise_async_client)()


async def _exercise_async_client() -> None:
    client = AsyncClient()
    allowed = await client.options(
        "/api/items/1/",
        headers={"Origin": APP, "Access-Control-Request-Method": "PUT"},
    )
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == APP
    refused = await client.options(
        "/api/items/1/", headers={"Origin": EVIL, "Access-Control-Request-Method": "PUT"}
    )
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused.headers
    real = await client.get("/api/unauthorized/", headers={"Origin": APP})
    assert real.status_code == 401
    assert real.headers["Access-Control-Allow-Origin"] == APP


def test_new_policies_enforce_on_the_server(policy: CorsPolicy) -> None:
    assert policy.enforce_on_server, "the default: a removed origin's cached preflight can't write"


def test_a_refused_write_is_audited_with_its_own_reason(client: Client, policy: CorsPolicy) -> None:
    from django_preflight.audit import buffer
    from django_preflight.models import RejectedPreflight

    response = client.post("/api/plain/", HTTP_ORIGIN="https://removed.example")
    assert response.status_code == 403
    assert buffer.flush() == 1
    row = RejectedPreflight.objects.get()
    assert (row.reason, row.origin, row.request_method, row.path) == (
        "request_refused_on_server",
        "https://removed.example",
        "POST",
        "/api/plain/",
    )
    assert row.console_message == (
        "No 'Access-Control-Allow-Origin' header is present on the requested resource."
    )
    assert "cached" in row.advice.cause
    assert "enforce on the server" in row.advice.fix


def test_without_any_snapshot_preflights_get_503_and_nothing_is_audited(
    client: Client, policy: CorsPolicy, settings: Any
) -> None:
    from django.core.cache import cache

    from django_preflight.audit import buffer
    from django_preflight.store import store

    settings.PREFLIGHT_REFRESH_INTERVAL = 2.5
    store.reset()
    cache.clear()
    with database_down():
        response = preflight(client, "/api/plain/")
        write = client.post("/api/plain/", HTTP_ORIGIN=APP)
        read = client.get("/api/plain/")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "3"
    assert "Access-Control-Allow-Origin" not in response.headers
    assert write.status_code == 503, "a write cannot be judged either"
    assert read.status_code == 200, "requests without Origin are not CORS"
    assert buffer.pending == 0


def test_without_any_snapshot_async_preflights_get_503(policy: CorsPolicy) -> None:
    from django.core.cache import cache

    from django_preflight.store import store

    store.reset()
    cache.clear()
    with database_down():
        response = async_to_sync(AsyncClient().options)(
            "/api/plain/", headers={"Origin": APP, "Access-Control-Request-Method": "PUT"}
        )
    assert response.status_code == 503
    assert "Retry-After" in response.headers
