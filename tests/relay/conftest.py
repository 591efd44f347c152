"""Relay fixtures: a loopback upstream, scripted name resolution, and a connection guard.

The guard sees every TCP connect of the test process (sync sockets and asyncio's alike, both
go through ``socket.socket.connect``). A connect to anything but loopback is stopped before a
packet leaves and fails the test; every attempt is recorded, so a test can prove that a refused
call opened no connection at all. The suite's own services (``DATABASE_URL``, ``REDIS_URL``)
are not the relay's doing and are not recorded.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client

from django_preflight.models import CorsPolicy
from django_preflight.relay import stats
from django_preflight.relay.models import Upstream, UpstreamStats

from . import resolver
from .upstream import Upstream as LoopbackApi

APP = "https://app.example.com"
RELAY_HEADERS = ["content-type", "x-custom", "x-api-key"]


def _services() -> set[int]:
    """The ports of the database and cache the suite itself talks to."""
    ports = set()
    for name in ("DATABASE_URL", "REDIS_URL"):
        port = urlsplit(os.environ.get(name, "")).port
        if port:
            ports.add(port)
    return ports


class Connections:
    """Every address the process tried to connect to during the test."""

    def __init__(self) -> None:
        self.attempts: list[tuple[str, int]] = []
        self.violations: list[tuple[str, int]] = []

    def to(self, port: int) -> list[tuple[str, int]]:
        """Attempts to one port."""
        return [a for a in self.attempts if a[1] == port]


@pytest.fixture(autouse=True)
def connections(monkeypatch: pytest.MonkeyPatch) -> Iterator[Connections]:
    """Record every connect; refuse, and fail the test on, any that leaves loopback."""
    seen = Connections()
    original = socket.socket.connect
    services = _services()

    def guarded(sock: socket.socket, address: Any) -> Any:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            host, port = str(address[0]), int(address[1])
            loopback = ipaddress.ip_address(host.split("%")[0]).is_loopback
            if loopback and port in services:
                return original(sock, address)
            seen.attempts.append((host, port))
            if not loopback:
                seen.violations.append((host, port))
                raise ConnectionRefusedError(f"test guard: no connection to {host}")
        return original(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    yield seen
    assert not seen.violations, f"connections left loopback: {seen.violations}"


@pytest.fixture(autouse=True)
def _relay_settings(settings: Any) -> Iterator[None]:
    """Scripted resolution and counters written on every call."""
    settings.PREFLIGHT_NETGUARD_RESOLVER = "tests.relay.resolver.resolve"
    settings.PREFLIGHT_RELAY_STATS_INTERVAL = 0.0
    resolver.answers.clear()
    resolver.lookups.clear()
    with stats.counters._lock:
        stats.counters._pending.clear()
    yield
    resolver.answers.clear()


@pytest.fixture
def api() -> Iterator[LoopbackApi]:
    """The "third-party" API, on 127.0.0.1."""
    server = LoopbackApi().start()
    yield server
    server.stop()


@pytest.fixture
def relay_policy(make_policy: Callable[..., CorsPolicy]) -> list[CorsPolicy]:
    """APP may call both relay mounts with the methods and headers the tests use."""
    return [
        make_policy(
            (APP,),
            name=f"relay {prefix}",
            path_prefix=prefix,
            allowed_methods=["GET", "POST", "PUT", "DELETE"],
            allowed_headers=RELAY_HEADERS,
            exposed_headers=["x-rate-remaining"],
        )
        for prefix in ("/relay/", "/relay-async/")
    ]


@pytest.fixture
def register(db: None) -> Callable[..., Upstream]:
    """Register an upstream through full_clean, as the admin would."""

    def make(slug: str = "api", **fields: Any) -> Upstream:
        upstream = Upstream(slug=slug, **fields)
        upstream.full_clean()
        upstream.save()
        return upstream

    return make


@pytest.fixture
def loopback(register: Callable[..., Upstream], api: LoopbackApi) -> Upstream:
    """The loopback API registered: plain http and a loopback target explicitly allowed."""
    return register(
        base_url=api.url,
        allow_http=True,
        allow_private_targets=True,
        allowed_methods=["GET", "POST", "PUT"],
        allowed_request_headers=["x-custom"],
        allowed_response_headers=["x-rate-remaining"],
        injected_headers="X-Api-Key: env:RELAY_TEST_API_KEY",
        timeout=2.0,
        max_response_bytes=1024 * 1024,
    )


@pytest.fixture
def api_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """The secret the relay injects, from the environment."""
    value = "sk-test-7f3c9a1e-never-in-the-browser"
    monkeypatch.setenv("RELAY_TEST_API_KEY", value)
    return value


def counters(upstream: Upstream) -> UpstreamStats:
    """The upstream's counters as written to the database."""
    stats.counters.write()
    return UpstreamStats.objects.get(upstream=upstream)


def body(response: Any) -> bytes:
    """The whole body of a (streaming) test client response."""
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return bytes(response.content)


def drain(response: Any) -> tuple[bytes, BaseException | None]:
    """The bytes a streamed body delivered, and the exception that cut it (if one did)."""
    received = b""
    try:
        for chunk in response.streaming_content:
            received += chunk
    except Exception as exc:
        return received, exc
    return received, None


def call(client: Client, path: str, method: str = "GET", **extra: Any) -> Any:
    """A request as a page on APP sends it."""
    return client.generic(method, path, **{"HTTP_ORIGIN": APP, **extra})
