"""HTTP helpers of the service tests: one request per connection, bursts, policy edits."""

from __future__ import annotations

import http.client
import json
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .servers import Gunicorn

APP = "https://app.example.com"


@dataclass(frozen=True)
class Reply:
    """One HTTP exchange: status 0 when no HTTP answer came back."""

    status: int
    worker: str
    sent: float
    received: float
    error: str = ""
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()

    def header(self, name: str) -> str | None:
        """One response header's value, by case-insensitive name."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    @property
    def seconds(self) -> float:
        return self.received - self.sent


def send(
    port: int,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 10.0,
) -> Reply:
    """One request on its own connection, as gunicorn's sync workers serve them."""
    sent = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        body = response.read()
        worker = response.getheader("X-Served-By", "")
        return Reply(
            response.status,
            worker,
            sent,
            time.monotonic(),
            body=body,
            headers=tuple(response.getheaders()),
        )
    except (OSError, http.client.HTTPException) as exc:
        return Reply(0, "", sent, time.monotonic(), repr(exc))
    finally:
        connection.close()


def preflight(
    port: int,
    origin: str,
    path: str = "/api/items/1/",
    method: str = "PUT",
    timeout: float = 10.0,
) -> Reply:
    return send(
        port,
        "OPTIONS",
        path,
        {"Origin": origin, "Access-Control-Request-Method": method},
        timeout=timeout,
    )


def burst(pool: ThreadPoolExecutor, jobs: Iterable[Callable[[], Reply]]) -> list[Reply]:
    """Run the requests concurrently and return every reply."""
    return list(pool.map(lambda job: job(), list(jobs)))


def create_policy(server: Gunicorn, path_prefix: str, *origins: str) -> str:
    """A policy made through a server, as staff would in the admin; returns its name."""
    name = f"policy-{uuid.uuid4().hex[:8]}"
    body = {"name": name, "path_prefix": path_prefix, "origins": ",".join(origins)}
    reply = server.post("/_services/policy/", json.dumps(body))
    assert reply.status == 201, reply
    return name


def add_origin(server: Gunicorn, policy: str, origin: str) -> Reply:
    """One more origin on a policy, saved through a server."""
    return server.post("/_services/origin/", json.dumps({"policy": policy, "origin": origin}))


def discover_workers(
    pool: ThreadPoolExecutor, servers: Sequence[Gunicorn], origin: str, timeout: float = 30
) -> set[str]:
    """Hit every server until each of its workers has answered; fails if one never does."""
    seen: set[str] = set()
    deadline = time.monotonic() + timeout
    expected = sum(server.workers for server in servers)
    while len(seen) < expected and time.monotonic() < deadline:
        replies = burst(
            pool,
            (partial(preflight, s.port, origin) for s in servers for _ in range(16)),
        )
        seen.update(reply.worker for reply in replies if reply.worker)
    if len(seen) < expected:
        pytest.fail(f"only {len(seen)} of {expected} workers answered: {sorted(seen)}")
    return seen


def settle(
    pool: ThreadPoolExecutor,
    servers: Sequence[Gunicorn],
    origin: str,
    status: int,
    timeout: float = 30,
) -> set[str]:
    """Poll until every worker of every server answers ``origin`` with ``status``."""
    expected = sum(server.workers for server in servers)
    agreed: set[str] = set()
    deadline = time.monotonic() + timeout
    while len(agreed) < expected and time.monotonic() < deadline:
        replies = burst(
            pool,
            (partial(preflight, s.port, origin) for s in servers for _ in range(16)),
        )
        agreed |= {reply.worker for reply in replies if reply.status == status}
        agreed -= {reply.worker for reply in replies if reply.status != status}
    if len(agreed) < expected:
        pytest.fail(f"only {len(agreed)} of {expected} workers answer {origin} with {status}")
    return agreed


def committed_at(reply: Reply) -> float:
    """When a policy edit made through a server was committed, from the server's answer."""
    assert reply.status == 201, reply
    return float(json.loads(reply.body)["committed_at"])
