"""Every request a hostile page could send to the relay: none reaches a target it should not,
each is answered with the documented status, and refusals open no connection at all.

Names resolve through the scripted resolver (``tests.relay.resolver``); the connection guard
(``conftest.connections``) stops and fails any connect that would leave loopback.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from django_preflight.models import CorsPolicy
from django_preflight.relay import ratelimit
from django_preflight.relay.models import Upstream
from django_preflight.relay.views import BodyAbortedError

from . import named_urls, resolver
from .conftest import APP, Connections, body, call, counters, drain
from .upstream import Upstream as LoopbackApi

pytestmark = pytest.mark.usefixtures("relay_policy", "api_key")

PARTNER = "api.partner.test"


@pytest.fixture
def named(register: Callable[..., Upstream], api: LoopbackApi) -> Callable[..., Upstream]:
    """Register the loopback API under a name the scripted resolver answers for."""

    def make(*answers: list[str], allow_private: bool = True, **fields: Any) -> Upstream:
        resolver.answers[PARTNER] = [list(a) for a in answers] or [["127.0.0.1"]]
        defaults: dict[str, Any] = {
            "base_url": f"http://{PARTNER}:{api.port}/v1",
            "allow_http": True,
            "allow_private_targets": allow_private,
            "allowed_methods": ["GET", "POST"],
            "allowed_request_headers": ["x-custom"],
            # Generous, so a loaded machine never turns an answer into a timeout; the tests
            # about timeouts set their own.
            "timeout": 10.0,
        }
        return register(**{**defaults, **fields})

    return make


# -- paths ---------------------------------------------------------------------------------

TRAVERSALS = [
    "/relay/api/../admin/",
    "/relay/api/%2e%2e/admin/",
    "/relay/api/%2E%2E/admin/",
    "/relay/api/.%2e/admin/",
    "/relay/api/%2e./admin/",
    "/relay/api/echo/..%2f..%2fadmin",
    "/relay/api/echo/%2e%2e%2f%2e%2e%2fadmin",
    "/relay/api/echo/..%5c..%5cadmin",
    "/relay/api/echo/..\\..\\admin",
    "/relay/api/echo/%252e%252e%252fadmin",
    "/relay/api/echo/%25%32%65%25%32%65/admin",
    "/relay/api/./echo",
    "/relay/api/echo/%00",
    "/relay/api/echo/%09",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_path_traversal_in_every_encoding_is_refused(
    client: Client, loopback: Upstream, api: LoopbackApi, connections: Connections, path: str
) -> None:
    response = call(client, path)

    assert response.status_code == 400, body(response)
    assert response.json()["error"] == "bad_path"
    assert api.received == []
    assert connections.attempts == []


def test_line_breaks_in_the_path_match_no_relay_url(
    client: Client, loopback: Upstream, connections: Connections
) -> None:
    response = call(client, "/relay/api/echo%0d%0aX-Injected:%201")

    assert response.status_code == 404
    assert connections.attempts == []


SMUGGLED = [
    "/relay/api/https://evil.example/x",
    "/relay/api//evil.example/x",
    "/relay/api/%2F%2Fevil.example/x",
    "/relay/api/http:%2F%2Fevil.example/x",
    "/relay/api/echo//evil.example",
]


@pytest.mark.parametrize("path", SMUGGLED)
def test_absolute_urls_and_authorities_in_the_path_are_refused(
    client: Client, loopback: Upstream, api: LoopbackApi, connections: Connections, path: str
) -> None:
    response = call(client, path)

    assert response.status_code == 400
    assert api.received == []
    assert connections.attempts == []


USERINFO = [
    "/relay/api/@evil.example/x",
    "/relay/api/%40evil.example/x",
    "/relay/api/user:pass@evil.example",
    "/relay/api/echo?@evil.example",
    "/relay/api/https:evil.example",
]


@pytest.mark.parametrize("path", USERINFO)
def test_userinfo_tricks_stay_on_the_upstream_under_its_base_path(
    client: Client,
    named: Callable[..., Upstream],
    api: LoopbackApi,
    connections: Connections,
    path: str,
) -> None:
    named()

    response = call(client, path)
    body(response)

    # Whatever the upstream answers, the call went to it, under /v1/, named as itself.
    assert [r.path.startswith("/v1/") for r in api.received] == [True]
    assert api.received[0].headers["host"] == f"{PARTNER}:{api.port}"
    assert {a for a in connections.attempts} == {("127.0.0.1", api.port)}
    assert resolver.lookups == [PARTNER]


@pytest.mark.parametrize(
    "base_url",
    [
        "https://user:pass@api.example.com/v1",
        "https://api.example.com@evil.example/v1",
        "https://api.example.com/v1?key=1",
        "https://api.example.com/v1#x",
        "https://api.example.com/v1/../admin",
        "http://api.example.com/v1",
        "ftp://api.example.com/v1",
        "//api.example.com/v1",
        "https:///v1",
    ],
)
def test_unsafe_base_urls_cannot_be_saved(register: Callable[..., Upstream], base_url: str) -> None:
    with pytest.raises(ValidationError) as raised:
        register(base_url=base_url)
    assert "base_url" in raised.value.message_dict


# -- addresses -------------------------------------------------------------------------------

FORBIDDEN_ANSWERS = {
    "loopback": ["127.0.0.1"],
    "loopback-other": ["127.9.9.9"],
    "private-10": ["10.0.0.1"],
    "private-10-deep": ["10.255.3.4"],
    "private-192": ["192.168.1.1"],
    "private-172": ["172.16.5.5"],
    "metadata": ["169.254.169.254"],
    "ipv6-loopback": ["::1"],
    "ipv4-mapped-loopback": ["::ffff:127.0.0.1"],
    "ipv4-mapped-metadata": ["::ffff:169.254.169.254"],
    "ipv6-unique-local": ["fd00::1"],
    "ipv6-link-local": ["fe80::1"],
    "multicast": ["224.0.0.1"],
    "reserved": ["240.0.0.1"],
    "unspecified": ["0.0.0.0"],
    "shared": ["100.64.0.1"],
    "one-private-among-public": ["93.184.216.34", "10.0.0.1"],
}


@pytest.mark.parametrize("answer", FORBIDDEN_ANSWERS.values(), ids=FORBIDDEN_ANSWERS.keys())
def test_names_resolving_to_internal_addresses_are_refused_before_connecting(
    client: Client,
    named: Callable[..., Upstream],
    api: LoopbackApi,
    connections: Connections,
    answer: list[str],
) -> None:
    upstream = named(answer, allow_private=False)

    response = call(client, "/relay/api/echo")

    assert response.status_code == 403
    assert response.json()["error"] == "refused_target"
    assert response.json()["cause"].startswith("resolves to ")
    assert connections.attempts == []
    assert api.received == []
    assert counters(upstream).refused_target_errors == 1


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "169.254.169.254", "[::1]", "[::ffff:127.0.0.1]", "10.1.2.3", "2130706433"],
)
def test_literal_internal_addresses_are_refused(
    client: Client, register: Callable[..., Upstream], connections: Connections, host: str
) -> None:
    register(base_url=f"https://{host}/v1")

    response = call(client, "/relay/api/echo")

    assert response.status_code == 403
    assert connections.attempts == []


def test_a_name_that_does_not_resolve_is_refused(
    client: Client, register: Callable[..., Upstream], connections: Connections
) -> None:
    register(base_url="https://nowhere.partner.test/v1")

    response = call(client, "/relay/api/echo")

    assert response.status_code == 403
    assert "does not resolve" in response.json()["cause"]
    assert connections.attempts == []


def test_dns_rebinding_cannot_move_the_connection(
    client: Client, named: Callable[..., Upstream], api: LoopbackApi, connections: Connections
) -> None:
    """The first answer is checked and dialled; a second lookup would have answered
    127.0.0.2, where another server waits: it must never be asked, nor connected to."""
    other = LoopbackApi(host="127.0.0.2").start()
    try:
        named(["127.0.0.1"], ["127.0.0.2"])
        other_port_attempts_before = connections.to(other.port)

        response = call(client, f"/relay/api/echo?other={other.port}")
        body(response)

        assert response.status_code == 200
        assert resolver.lookups == [PARTNER]
        assert len(api.received) == 1
        assert other.received == []
        assert connections.to(other.port) == other_port_attempts_before == []
    finally:
        other.stop()


# -- redirects, sizes, time ------------------------------------------------------------------


@pytest.mark.parametrize(
    "location",
    [
        "http://evil.example/steal",
        "//evil.example/steal",
        "http://127.0.0.1:1/v1/echo",
        "/admin/",
        "/v1/../admin/",
        "/v1/%252e%252e/admin/",
        "http://user@{partner}/v1/echo",
    ],
)
def test_redirects_off_the_upstream_are_not_followed(
    client: Client,
    named: Callable[..., Upstream],
    api: LoopbackApi,
    connections: Connections,
    location: str,
) -> None:
    upstream = named()
    target = location.format(partner=f"{PARTNER}:{api.port}")

    response = call(client, "/relay/api/redirect", QUERY_STRING=f"to={target}")

    assert response.status_code == 502
    assert response.json()["error"] == "redirect_refused"
    assert "location" not in {k.lower() for k in response.headers}
    assert len(api.received) == 1
    assert set(connections.attempts) == {("127.0.0.1", api.port)}
    assert resolver.lookups == [PARTNER]
    assert counters(upstream).redirect_refused_errors == 1


def test_a_declared_oversize_response_is_refused(
    client: Client, named: Callable[..., Upstream]
) -> None:
    upstream = named(max_response_bytes=1000)

    response = call(client, "/relay/api/bytes?n=1001")

    assert response.status_code == 502
    assert response.json()["error"] == "response_too_large"
    assert counters(upstream).too_large_errors == 1


def test_a_growing_oversize_response_is_cut(client: Client, named: Callable[..., Upstream]) -> None:
    upstream = named(max_response_bytes=200_000)

    response = call(client, "/relay/api/bytes?n=5000000&chunked=1")
    received, cut = drain(response)

    assert isinstance(cut, BodyAbortedError)
    assert "grew past 200000 bytes" in str(cut)
    assert len(received) <= 200_000
    assert counters(upstream).too_large_errors == 1


def test_a_silent_upstream_is_a_504(client: Client, named: Callable[..., Upstream]) -> None:
    upstream = named(timeout=1.0)

    response = call(client, "/relay/api/silent")

    assert response.status_code == 504
    assert response.json()["error"] == "upstream_timeout"
    assert counters(upstream).timeout_errors == 1


def test_a_slow_loris_body_is_cut_at_the_deadline(
    client: Client, named: Callable[..., Upstream]
) -> None:
    """One byte every 0.3 s keeps every read under the 1 s timeout; the deadline still holds:
    the body is cut long before the upstream's 100 bytes arrive."""
    upstream = named(timeout=1.0)

    response = call(client, "/relay/api/drip?n=100&every=0.3")
    received, cut = drain(response)

    assert isinstance(cut, BodyAbortedError)
    assert "within the timeout" in str(cut)
    assert 0 < len(received) < 100
    assert counters(upstream).timeout_errors == 1


# -- headers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["a\r\nX-Injected: 1", "a\nX-Injected: 1", "a\x00b", "a" * 9000])
def test_header_injection_through_forwarded_values_is_refused(
    client: Client, named: Callable[..., Upstream], connections: Connections, value: str
) -> None:
    named()

    response = call(client, "/relay/api/echo", HTTP_X_CUSTOM=value)

    assert response.status_code == 400
    assert response.json()["error"] == "bad_header"
    assert connections.attempts == []


def test_hop_by_hop_and_host_headers_from_the_page_never_reach_the_upstream(
    client: Client, named: Callable[..., Upstream], api: LoopbackApi
) -> None:
    named(allowed_request_headers=["x-custom"])

    response = call(
        client,
        "/relay/api/echo",
        HTTP_CONNECTION="x-custom, close",
        HTTP_TRANSFER_ENCODING="chunked",
        HTTP_UPGRADE="websocket",
        HTTP_X_FORWARDED_HOST="evil.example",
        HTTP_PROXY_AUTHORIZATION="Basic x",
    )
    body(response)

    seen = api.received[0].headers
    assert seen["host"] == f"{PARTNER}:{api.port}"
    assert not {"upgrade", "x-forwarded-host", "proxy-authorization"} & set(seen)
    assert seen.get("transfer-encoding") is None


@pytest.mark.parametrize("allowed", [["cookie"], ["Set-Cookie"], ["connection"], ["host"]])
def test_allowlists_cannot_name_cookies_or_hop_by_hop_headers(
    register: Callable[..., Upstream], allowed: list[str]
) -> None:
    with pytest.raises(ValidationError):
        register(base_url="https://api.example.com", allowed_request_headers=allowed)
    with pytest.raises(ValidationError):
        register(base_url="https://api.example.com", allowed_response_headers=allowed)


@pytest.mark.parametrize(
    "line",
    ["X-Api-Key: WEATHER_KEY", "Cookie: env:K", "X-Api-Key: file:/etc/passwd", "X Y: env:K"],
)
def test_injected_headers_must_name_a_variable_or_setting(
    register: Callable[..., Upstream], line: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        register(base_url="https://api.example.com", injected_headers=line)
    assert "injected_headers" in raised.value.message_dict


# -- who may call ----------------------------------------------------------------------------


def test_an_unregistered_or_disabled_slug_is_a_404(
    client: Client, named: Callable[..., Upstream], connections: Connections
) -> None:
    named(enabled=False)

    for path in ("/relay/api/echo", "/relay/other/echo"):
        response = call(client, path)
        assert response.status_code == 404
        assert response.json()["error"] == "unknown_upstream"
    assert connections.attempts == []


def test_an_origin_the_relay_policy_refuses_gets_no_grant_and_no_call(
    client: Client, named: Callable[..., Upstream], api: LoopbackApi, connections: Connections
) -> None:
    named()
    evil = "https://evil.example"

    preflight = client.options(
        "/relay/api/echo",
        HTTP_ORIGIN=evil,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )
    simple = client.get("/relay/api/echo", HTTP_ORIGIN=evil)
    form_post = client.post(
        "/relay/api/echo", "a=1", "application/x-www-form-urlencoded", HTTP_ORIGIN=evil
    )

    assert preflight.status_code == 403
    assert "access-control-allow-origin" not in {k.lower() for k in preflight.headers}
    for response in (simple, form_post):
        assert response.status_code == 403
        assert "access-control-allow-origin" not in {k.lower() for k in response.headers}
    assert simple.json()["error"] == "origin_refused"
    # A write from a refused origin is stopped earlier still, by the policy's server-side
    # enforcement (the default), before the relay's view runs.
    assert form_post.content.startswith(b"Cross-origin request refused")
    assert api.received == []
    assert connections.attempts == []


def test_the_relay_decides_with_the_policy_its_view_names_as_the_middleware_does(
    client: Client,
    named: Callable[..., Upstream],
    api: LoopbackApi,
    make_policy: Callable[..., CorsPolicy],
    settings: Any,
) -> None:
    """The path's policy allows APP, the policy the view names does not: no grant, no call."""
    partner = "https://partner.example"
    make_policy((partner,), name=named_urls.POLICY, views_only=True)
    settings.ROOT_URLCONF = "tests.relay.named_urls"
    named()

    refused = client.get("/relay/api/echo", HTTP_ORIGIN=APP)
    assert refused.status_code == 403
    assert refused.json()["error"] == "origin_refused"
    assert "access-control-allow-origin" not in {k.lower() for k in refused.headers}
    assert api.received == []

    allowed = client.get("/relay/api/echo", HTTP_ORIGIN=partner)
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == partner
    assert len(api.received) == 1


def test_a_cross_site_request_without_origin_is_refused(
    client: Client, named: Callable[..., Upstream], api: LoopbackApi
) -> None:
    """An <img> or <script> on another site sends no Origin, but says Sec-Fetch-Site."""
    named()

    response = client.get("/relay/api/echo", HTTP_SEC_FETCH_SITE="cross-site")

    assert response.status_code == 403
    assert response.json()["error"] == "not_a_cors_request"
    assert api.received == []


def test_methods_outside_the_upstream_list_are_a_405(
    client: Client, named: Callable[..., Upstream], api: LoopbackApi
) -> None:
    named()

    response = call(client, "/relay/api/echo", "PUT")

    assert response.status_code == 405
    assert response["Allow"] == "GET, POST"
    assert api.received == []


def test_an_oversize_request_body_is_a_413(
    client: Client, named: Callable[..., Upstream], api: LoopbackApi
) -> None:
    named(max_request_bytes=100)

    response = call(client, "/relay/api/echo", "POST", data=b"x" * 101, content_type="text/plain")

    assert response.status_code == 413
    assert api.received == []


@pytest.fixture
def one_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rate limit's clock held in the middle of one window: calls made across a window's
    edge would be counted in two windows, and the test would depend on when it ran."""
    moment = 1_000_000 * ratelimit.WINDOW + ratelimit.WINDOW / 2
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: moment))


@pytest.mark.usefixtures("one_window")
def test_rate_limit_per_origin_answers_429_with_retry_after(
    client: Client, named: Callable[..., Upstream], api: LoopbackApi
) -> None:
    upstream = named(rate_limit=3)

    statuses = [call(client, "/relay/api/echo").status_code for _ in range(5)]
    limited = call(client, "/relay/api/echo")

    assert statuses == [200, 200, 200, 429, 429]
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert limited.json()["error"] == "rate_limited"
    assert len(api.received) == 3
    assert counters(upstream).rate_limited_errors == 3


@pytest.mark.usefixtures("one_window")
def test_rate_limit_counts_each_user_across_origins(
    client: Client, named: Callable[..., Upstream], django_user_model: Any
) -> None:
    named(rate_limit=2)
    user = django_user_model.objects.create_user("carol", password="pw")
    client.force_login(user)

    # Two calls from the page, then one without Origin: the user's quota counts all three.
    statuses = [call(client, "/relay/api/echo").status_code for _ in range(2)]
    statuses.append(client.get("/relay/api/echo").status_code)

    assert statuses == [200, 200, 429]


def test_authentication_required(
    named: Callable[..., Upstream], api: LoopbackApi, django_user_model: Any
) -> None:
    named(require_authentication=True)
    client = Client(enforce_csrf_checks=True)

    anonymous = call(client, "/relay/api/echo")
    client.force_login(django_user_model.objects.create_user("dave", password="pw"))
    logged_in = call(client, "/relay/api/echo")
    unsafe_without_csrf = call(client, "/relay/api/echo", "POST", data=b"{}")

    assert anonymous.status_code == 401
    assert logged_in.status_code == 200
    assert unsafe_without_csrf.status_code == 401
    assert len(api.received) == 1


def test_relayed_content_cannot_run_as_this_site(
    client: Client, named: Callable[..., Upstream]
) -> None:
    named()

    response = call(client, "/relay/api/echo")

    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response["X-Content-Type-Options"] == "nosniff"
