"""The relay doing its job, sync (WSGI handler) and async (ASGI handler): forwarding, streaming,
injected secrets, errors a user can act on, and the counters shown in the admin."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client

from django_preflight.netguard import Target
from django_preflight.relay.client import Outgoing
from django_preflight.relay.models import ErrorKind, Upstream, UpstreamStats
from django_preflight.relay.paths import split_base

from .conftest import APP, Connections, call, counters
from .upstream import Upstream as LoopbackApi

pytestmark = pytest.mark.usefixtures("relay_policy")


class Answer:
    """A response and its whole body, whichever handler produced it."""

    def __init__(self, response: Any, content: bytes) -> None:
        self.status = response.status_code
        self.headers = {k.lower(): v for k, v in response.headers.items()}
        self.content = content

    def json(self) -> Any:
        return json.loads(self.content)


def via_wsgi(path: str, method: str = "GET", **extra: Any) -> Answer:
    response = call(Client(), "/relay" + path, method, **extra)
    content = (
        b"".join(response.streaming_content) if response.streaming else bytes(response.content)
    )
    return Answer(response, content)


def via_asgi(path: str, method: str = "GET", **extra: Any) -> Answer:
    # AsyncClient takes request headers by name, not as WSGI environ keys.
    headers = {"origin": APP}
    for key in [k for k in extra if k.startswith("HTTP_")]:
        headers[key[5:].lower().replace("_", "-")] = extra.pop(key)

    async def run() -> Answer:
        response = await AsyncClient().generic(
            method, "/relay-async" + path, headers=headers, **extra
        )
        if response.streaming:
            content = b"".join([chunk async for chunk in response.streaming_content])
        else:
            content = bytes(response.content)
        return Answer(response, content)

    return async_to_sync(run)()


Send = Callable[..., Answer]
HANDLERS = pytest.mark.parametrize("send", [via_wsgi, via_asgi], ids=["wsgi", "asgi"])


@HANDLERS
def test_get_with_query_reaches_the_upstream_under_its_base_path(
    send: Send, loopback: Upstream, api: LoopbackApi, api_key: str, connections: Connections
) -> None:
    answer = send("/api/echo?q=a%20b&x=1")

    # The guard sees the connections of both clients, sync and async.
    assert connections.attempts == [("127.0.0.1", api.port)]

    assert answer.status == 200
    assert answer.json()["path"] == "/v1/echo?q=a%20b&x=1"
    assert answer.headers["access-control-allow-origin"] == APP
    assert answer.headers["x-content-type-options"] == "nosniff"


@HANDLERS
def test_post_json_with_custom_header_and_injected_key(
    send: Send, loopback: Upstream, api: LoopbackApi, api_key: str
) -> None:
    answer = send(
        "/api/echo",
        "POST",
        data=b'{"hello": "world"}',
        content_type="application/json",
        HTTP_X_CUSTOM="page value",
        HTTP_X_API_KEY="the page's own attempt",
        HTTP_COOKIE="sessionid=page-cookie",
        HTTP_X_NOT_ALLOWED="dropped",
    )

    assert answer.status == 200
    assert answer.json() == {
        "method": "POST",
        "path": "/v1/echo",
        "body": '{"hello": "world"}',
        "x-custom": "page value",
        "host": f"127.0.0.1:{api.port}",
    }
    seen = api.received[-1].headers
    assert seen["x-api-key"] == api_key
    assert seen["content-type"] == "application/json"
    assert "cookie" not in seen
    assert "x-not-allowed" not in seen
    assert "origin" not in seen
    assert api_key.encode() not in answer.content
    assert all(api_key not in value for value in answer.headers.values())


@HANDLERS
def test_response_headers_are_filtered(
    send: Send, loopback: Upstream, api: LoopbackApi, api_key: str
) -> None:
    answer = send("/api/cookies")

    assert answer.status == 200
    assert "set-cookie" not in answer.headers
    assert "x-internal" not in answer.headers
    assert answer.headers["x-rate-remaining"] == "41"
    # The upstream's '*' is dropped; the relay's policy answers with the exact origin.
    assert answer.headers["access-control-allow-origin"] == APP


@HANDLERS
def test_a_large_body_is_streamed_whole(
    send: Send, register: Callable[..., Upstream], api: LoopbackApi
) -> None:
    size = 5 * 1024 * 1024 + 7
    register(base_url=api.url, allow_http=True, allow_private_targets=True, max_response_bytes=size)

    for chunked in ("0", "1"):
        answer = send(f"/api/bytes?n={size}&chunked={chunked}")
        assert answer.status == 200
        assert len(answer.content) == size


@HANDLERS
def test_an_upstream_500_reaches_the_page_and_is_counted(
    send: Send, loopback: Upstream, api_key: str
) -> None:
    answer = send("/api/fail")

    assert answer.status == 500
    assert answer.json() == {"failed": "on purpose"}
    assert answer.headers["access-control-allow-origin"] == APP
    stats = counters(loopback)
    assert stats.calls == 1
    assert stats.upstream_error_errors == 1


@HANDLERS
def test_unreachable_upstream_is_a_502_naming_upstream_and_cause(
    send: Send, register: Callable[..., Upstream], api: LoopbackApi
) -> None:
    port = api.port
    api.stop()  # nothing listens there any more
    upstream = register(
        base_url=f"http://127.0.0.1:{port}/v1", allow_http=True, allow_private_targets=True
    )

    answer = send("/api/echo")

    assert answer.status == 502
    assert answer.json()["error"] == "upstream_unreachable"
    assert answer.json()["upstream"] == "api"
    assert "ConnectError" in answer.json()["cause"]
    assert answer.headers["access-control-allow-origin"] == APP
    stats = counters(upstream)
    assert (stats.calls, stats.unreachable_errors) == (1, 1)
    assert stats.last_error.startswith("upstream unreachable: ConnectError")


@HANDLERS
def test_missing_injected_value_is_a_500_that_names_no_variable(
    send: Send, loopback: Upstream, monkeypatch: pytest.MonkeyPatch, api: LoopbackApi
) -> None:
    monkeypatch.delenv("RELAY_TEST_API_KEY", raising=False)

    answer = send("/api/echo")

    assert answer.status == 500
    assert answer.json()["error"] == "relay_misconfigured"
    assert b"RELAY_TEST_API_KEY" not in answer.content
    assert api.received == []
    assert counters(loopback).last_error == (
        "injected header missing: env RELAY_TEST_API_KEY is not set"
    )


@HANDLERS
def test_redirect_within_the_upstream_is_followed(
    send: Send, loopback: Upstream, api: LoopbackApi, api_key: str
) -> None:
    answer = send("/api/redirect?to=/v1/echo%3Fafter=1")

    assert answer.status == 200
    assert answer.json()["path"] == "/v1/echo?after=1"


@pytest.mark.parametrize(
    ("status", "method", "then"),
    [(303, "PUT", "GET"), (302, "POST", "GET"), (301, "POST", "GET"), (307, "POST", "POST")],
)
def test_a_redirect_that_turns_the_call_into_a_get_drops_its_body_and_body_headers(
    status: int, method: str, then: str
) -> None:
    body_headers = {
        "content-type": "text/plain",
        "content-encoding": "gzip",
        "content-language": "fr",
        "content-location": "/v1/draft",
    }
    outgoing = Outgoing(
        split_base("https://api.example.com/v1"),
        Target("api.example.com", ipaddress.ip_address("203.0.113.7")),
        method,
        "/v1/echo",
        {"x-custom": "kept", **body_headers},
        b"hello",
        5.0,
    )
    redirect = httpx.Response(status, headers={"Location": "/v1/other"})

    following = outgoing.follow(redirect)

    assert following is not None
    assert (following.method, following.path_and_query) == (then, "/v1/other")
    if then == method:
        assert (following.body, following.headers) == (b"hello", outgoing.headers)
    else:
        assert (following.body, following.headers) == (b"", {"x-custom": "kept"})


@HANDLERS
def test_success_counters(send: Send, loopback: Upstream, api_key: str) -> None:
    for _ in range(3):
        assert send("/api/echo").status == 200

    stats = counters(loopback)
    assert stats.calls == 3
    assert stats.last_success_at is not None
    assert all(getattr(stats, UpstreamStats.error_field(kind)) == 0 for kind in ErrorKind)


def test_counters_are_written_once_per_interval(
    loopback: Upstream, api_key: str, settings: Any, django_assert_num_queries: Any
) -> None:
    settings.PREFLIGHT_RELAY_STATS_INTERVAL = 3600.0
    via_wsgi("/api/echo")  # writes if the process has not written for an hour
    with django_assert_num_queries(5):  # one upstream lookup per call, no counter write
        for _ in range(5):
            assert via_wsgi("/api/echo").status == 200

    assert counters(loopback).calls == 6


@HANDLERS
def test_refused_target_opens_no_connection(
    send: Send, register: Callable[..., Upstream], connections: Connections
) -> None:
    register(base_url="https://10.0.0.1/v1")

    answer = send("/api/echo")

    assert answer.status == 403
    assert answer.json()["error"] == "refused_target"
    assert connections.attempts == []


@HANDLERS
def test_silent_upstream_times_out(send: Send, loopback: Upstream, api_key: str) -> None:
    answer = send("/api/silent")

    assert answer.status == 504
    assert counters(loopback).timeout_errors == 1


@HANDLERS
def test_headers_sent_one_byte_at_a_time_time_out(
    send: Send, loopback: Upstream, api: LoopbackApi, api_key: str
) -> None:
    """Each byte comes well within the 2 s timeout, but the headers never end: the deadline of
    the whole call still answers 504, while the upstream is still sending."""
    answer = send("/api/slow-headers?every=0.2")

    assert answer.status == 504
    assert answer.json()["error"] == "upstream_timeout"
    assert not api.stopping.is_set()
