"""Several workers and two machines sharing one database and one Redis.

Each gunicorn server stands for a machine. A policy change saved through one worker must be
served by every worker of every server within ``PREFLIGHT_REFRESH_INTERVAL`` (judged by send
times, see ``staleness``), and refusals counted by many workers into the same
audit row must add up exactly.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest

from .databases import ServerDatabase
from .processes import wait_until
from .servers import Gunicorn, ServerStarter, stop_servers
from .staleness import watch_change
from .web import (
    APP,
    Reply,
    add_origin,
    burst,
    committed_at,
    create_policy,
    discover_workers,
    preflight,
    settle,
)

pytestmark = pytest.mark.services

INTERVAL = 1.0
WATCH_PAST = 0.8
"""How long polling goes on past the bound, so that a late stale answer would be seen."""
WORKERS = 4


@pytest.fixture(scope="module")
def machines(
    start_module_server: ServerStarter, server_database: ServerDatabase, redis_url: str
) -> tuple[Gunicorn, Gunicorn]:
    """Two servers of four workers on the same database and Redis: two machines."""
    prefix = uuid.uuid4().hex[:12]
    servers = tuple(
        start_module_server(
            name,
            database_url=server_database.url,
            redis_url=redis_url,
            workers=WORKERS,
            SERVICES_CACHE_PREFIX=prefix,
            SERVICES_REFRESH_INTERVAL=str(INTERVAL),
            SERVICES_AUDIT_FLUSH_INTERVAL="0.2",
        )
        for name in ("machine-a", "machine-b")
    )
    return servers[0], servers[1]


@pytest.fixture
def two_servers(machines: tuple[Gunicorn, Gunicorn]) -> tuple[Gunicorn, Gunicorn]:
    """The module's machines, started again if a test stopped them; each test has own policies."""
    for server in machines:
        if not server.running:
            server.start()
    return machines


def test_every_worker_of_one_server_serves_a_change_within_the_interval(
    two_servers: tuple[Gunicorn, Gunicorn],
    pool: ThreadPoolExecutor,
    report: Callable[[str], None],
) -> None:
    server = two_servers[0]
    policy = create_policy(server, "/api/", APP)
    newcomer = f"https://new-{uuid.uuid4().hex[:8]}.example"
    workers = discover_workers(pool, [server], newcomer)
    saved: list[Reply] = []

    def change() -> float:
        saved.append(add_origin(server, policy, newcomer))
        return committed_at(saved[0])

    result = watch_change(
        pool,
        [server],
        workers,
        newcomer,
        change,
        old=403,
        new=204,
        lead_in=INTERVAL * 1.5,
        watch_for=INTERVAL + WATCH_PAST,
        deadline=INTERVAL * 3 + 5,
    )

    report(
        f"one server, {WORKERS} workers, interval {INTERVAL:.1f} s: largest delay "
        f"{result.delay:.3f} s after the commit, last stale answer at {result.last_stale:.3f} s "
        f"({result.stale} stale of {result.requests} requests; change saved through "
        f"{saved[0].worker}, answered in {saved[0].seconds:.3f} s)"
    )
    assert not result.unexpected, result.unexpected[:5]
    assert set(result.converged) == workers
    assert not result.stale_after(INTERVAL), result.stale_after(INTERVAL)


def test_every_worker_of_two_servers_serves_a_change_within_the_interval(
    two_servers: tuple[Gunicorn, Gunicorn],
    pool: ThreadPoolExecutor,
    report: Callable[[str], None],
) -> None:
    machine_a, machine_b = two_servers
    policy = create_policy(machine_a, "/api/", APP)
    newcomer = f"https://new-{uuid.uuid4().hex[:8]}.example"
    workers = discover_workers(pool, two_servers, newcomer)
    result = watch_change(
        pool,
        two_servers,
        workers,
        newcomer,
        lambda: committed_at(add_origin(machine_b, policy, newcomer)),
        old=403,
        new=204,
        lead_in=INTERVAL * 1.5,
        watch_for=INTERVAL + WATCH_PAST,
        deadline=INTERVAL * 3 + 5,
    )

    on_a = max(v for k, v in result.converged.items() if k.startswith("machine-a"))
    on_b = max(v for k, v in result.converged.items() if k.startswith("machine-b"))
    report(
        f"two servers x {WORKERS} workers, interval {INTERVAL:.1f} s, change through "
        f"machine-b: largest delay {result.delay:.3f} s after the commit (machine-a "
        f"{on_a:.3f} s, machine-b {on_b:.3f} s), last stale answer at {result.last_stale:.3f} s "
        f"({result.stale} stale of {result.requests} requests)"
    )
    assert not result.unexpected, result.unexpected[:5]
    assert set(result.converged) == workers
    assert not result.stale_after(INTERVAL), result.stale_after(INTERVAL)


def test_refusals_counted_by_many_workers_add_up_in_one_row(
    two_servers: tuple[Gunicorn, Gunicorn],
    server_database: ServerDatabase,
    pool: ThreadPoolExecutor,
    report: Callable[[str], None],
) -> None:
    create_policy(two_servers[0], "/api/", APP)
    settle(pool, two_servers, APP, 204)
    refused = f"https://refused-{uuid.uuid4().hex[:8]}.example"

    def refuse_many(count: int) -> set[str]:
        replies = burst(
            pool,
            (
                partial(preflight, s.port, refused)
                for _ in range(count // len(two_servers))
                for s in two_servers
            ),
        )
        assert {reply.status for reply in replies} == {403}
        return {reply.worker for reply in replies}

    def counted() -> int:
        return sum(count for _, count, _ in server_database.audit_rows(refused))

    first, second = 1600, 800
    started = time.monotonic()
    workers = refuse_many(first)
    written_in_time = wait_until(lambda: counted() == first, timeout=10, interval=0.1)
    flushed_after = time.monotonic() - started

    workers |= refuse_many(second)
    exits = stop_servers(two_servers)  # SIGTERM right away: the exit handlers write
    rows = server_database.audit_rows(refused)

    report(
        f"audit: {first} refusals from {len(workers)} workers written in {flushed_after:.2f} s; "
        f"{second} more written by the exit handlers on SIGTERM; rows {rows}"
    )
    assert written_in_time, f"{counted()} of {first} written by the background flushes"
    assert exits == [0, 0]
    assert len(workers) == 2 * WORKERS
    assert rows == [(refused, first + second, False)]
