"""The HTTP side: pinned requests to an upstream through long-lived httpx clients.

Every request is sent to the address ``netguard`` checked, never to the name: the URL carries
the address, while the Host header and TLS (SNI and certificate check, through httpx's
``sni_hostname`` extension) carry the upstream's name. Clients are kept per upstream host, so
connection pools are reused across calls but never shared between two names. Environment
proxies and ``.netrc`` are ignored (``trust_env=False``) and redirects are never followed by
httpx: the relay follows them itself, and only within the upstream's base path.

A call also has a deadline. Async views hold it with ``asyncio.wait_for``; the sync client's
sockets read it from a context variable and never wait past it, so an upstream that sends its
headers or body one byte at a time cannot hold a worker beyond the timeout.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
import time
import weakref
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, replace
from urllib.parse import urljoin

import httpcore
import httpx

from ..engine.fetch import BODY_HEADERS, next_method
from ..netguard import Target
from .paths import Base, within

MAX_REDIRECTS = 5
LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)


class RedirectRefusedError(Exception):
    """The upstream redirected away from itself (or too often)."""


@dataclass(frozen=True)
class Outgoing:
    """One request to send upstream."""

    base: Base
    target: Target
    method: str
    path_and_query: str
    headers: dict[str, str]
    body: bytes
    timeout: float

    def build(self, client: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        """The httpx request to the checked address, named for Host and TLS."""
        url = f"{self.base.scheme}://{self.target.url_host}:{self.base.port}{self.path_and_query}"
        extensions = {"sni_hostname": self.base.host} if self.base.scheme == "https" else {}
        return client.build_request(
            self.method,
            url,
            headers={**self.headers, "host": self.base.netloc},
            content=self.body or None,
            timeout=httpx.Timeout(self.timeout),
            extensions=extensions,
        )

    def follow(self, response: httpx.Response) -> Outgoing | None:
        """The next hop of a redirect that stays under the base path, None when the response
        is not a redirect; RedirectRefusedError when it leaves the upstream."""
        if not response.is_redirect:
            return None
        location = response.headers["location"]
        path_and_query = within(self.base, urljoin(self.base.url(self.path_and_query), location))
        if path_and_query is None:
            raise RedirectRefusedError("the upstream redirected to another host or path")
        method = next_method(response.status_code, self.method)
        if method == self.method:
            return replace(self, path_and_query=path_and_query)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in BODY_HEADERS}
        return replace(
            self, method=method, body=b"", path_and_query=path_and_query, headers=headers
        )


_deadline: ContextVar[float | None] = ContextVar("relay_deadline", default=None)


def _bounded(timeout: float | None) -> float | None:
    """A socket operation's timeout, cut to what is left before the call's deadline."""
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise httpcore.ReadTimeout("the call's deadline has passed")
    return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket whose every read and write ends by the call's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self._inner.start_tls(ssl_context, server_hostname, _bounded(timeout))
        )

    def get_extra_info(self, info: str) -> object:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.SyncBackend):
    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        inner = super().connect_tcp(host, port, _bounded(timeout), local_address, socket_options)
        return _DeadlineStream(inner)


class _DeadlineTransport(httpx.HTTPTransport):
    """httpx's transport on a connection pool whose sockets keep the call's deadline."""

    def __init__(self) -> None:
        super().__init__(limits=LIMITS, trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=LIMITS.max_connections,
            max_keepalive_connections=LIMITS.max_keepalive_connections,
            keepalive_expiry=LIMITS.keepalive_expiry,
            network_backend=_DeadlineBackend(),
        )


def _options() -> dict[str, object]:
    return {"follow_redirects": False, "trust_env": False, "limits": LIMITS}


_lock = threading.Lock()
_sync_clients: dict[str, httpx.Client] = {}
_async_clients: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[str, httpx.AsyncClient]
] = weakref.WeakKeyDictionary()


def _sync_client(host: str) -> httpx.Client:
    """The process's client for ``host``; hosts come only from registered upstreams, so the
    number of clients is bounded by the admin's list."""
    with _lock:
        client = _sync_clients.get(host)
        if client is None:
            client = _sync_clients[host] = httpx.Client(
                transport=_DeadlineTransport(),
                **_options(),  # type: ignore[arg-type]
            )
        return client


def _async_client(host: str) -> httpx.AsyncClient:
    """The running loop's client for ``host``: an AsyncClient belongs to one event loop."""
    per_loop = _async_clients.setdefault(asyncio.get_running_loop(), {})
    client = per_loop.get(host)
    if client is None:
        client = per_loop[host] = httpx.AsyncClient(**_options())  # type: ignore[arg-type]
    return client


def send(outgoing: Outgoing, deadline: float) -> httpx.Response:
    """Send, following redirects only within the upstream; the response is streaming, and its
    body's reads in this thread keep to ``deadline`` (a ``time.monotonic`` value)."""
    _deadline.set(deadline)
    client = _sync_client(outgoing.base.host)
    for _ in range(MAX_REDIRECTS + 1):
        response = client.send(outgoing.build(client), stream=True)
        try:
            following = outgoing.follow(response)
        except RedirectRefusedError:
            response.close()
            raise
        if following is None:
            return response
        response.close()
        outgoing = following
    raise RedirectRefusedError(f"more than {MAX_REDIRECTS} redirects")


async def asend(outgoing: Outgoing) -> httpx.Response:
    """``send`` for async views, on the running loop's client."""
    client = _async_client(outgoing.base.host)
    for _ in range(MAX_REDIRECTS + 1):
        response = await client.send(outgoing.build(client), stream=True)
        try:
            following = outgoing.follow(response)
        except RedirectRefusedError:
            await response.aclose()
            raise
        if following is None:
            return response
        await response.aclose()
        outgoing = following
    raise RedirectRefusedError(f"more than {MAX_REDIRECTS} redirects")
