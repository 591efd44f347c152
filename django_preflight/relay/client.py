"""The HTTP side: pinned requests to an upstream through long-lived httpx clients.

Every request is sent to the address ``netguard`` checked, never to the name: the URL carries
the address, while the Host header and TLS (SNI and certificate check, through httpx's
``sni_hostname`` extension) carry the upstream's name. Clients are kept per upstream host, so
connection pools are reused across calls but never shared between two names. Environment
proxies and ``.netrc`` are ignored (``trust_env=False``) and redirects are never followed by
httpx: the relay follows them itself, and only within the upstream's base path.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from dataclasses import dataclass, replace
from urllib.parse import urljoin

import httpx

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
        method, body = self.method, self.body
        status = response.status_code
        # As browsers do: 303 turns anything but HEAD into GET, 301 and 302 turn POST into GET.
        if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
            method, body = "GET", b""
        headers = self.headers if body else _without_body_headers(self.headers)
        return replace(
            self, method=method, body=body, path_and_query=path_and_query, headers=headers
        )


def _without_body_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k not in ("content-type", "content-encoding")}


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
            client = _sync_clients[host] = httpx.Client(**_options())  # type: ignore[arg-type]
        return client


def _async_client(host: str) -> httpx.AsyncClient:
    """The running loop's client for ``host``: an AsyncClient belongs to one event loop."""
    per_loop = _async_clients.setdefault(asyncio.get_running_loop(), {})
    client = per_loop.get(host)
    if client is None:
        client = per_loop[host] = httpx.AsyncClient(**_options())  # type: ignore[arg-type]
    return client


def send(outgoing: Outgoing) -> httpx.Response:
    """Send, following redirects only within the upstream; the response is streaming."""
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
