"""Policy edits reach every worker within the refresh interval, with nothing but the database.

Served as users deploy: gunicorn with four sync workers and Django's default cache (local
memory, one per process, as ``startproject`` leaves it), edits made through the ORM by another
process (a shell, a management command), Redis configured but down, and two servers sharing
the database. A worker is stale for an edit if it answers the old way to a request *sent*
after the edit's commit; the bound is checked on the send time of each worker's last stale
answer, never on receipt times, which a loaded machine stretches.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from .databases import ServerDatabase
from .processes import ROOT, PrivateRedis, stop_process
from .servers import Gunicorn, ServerStarter, base_env
from .staleness import watch_change
from .web import APP, create_policy, discover_workers

pytestmark = pytest.mark.services

# Half a second: the bound is one interval. Each edit keeps every worker busy for about two
# seconds; ten per test show the spread while the matrix's three legs share the machine.
INTERVAL = 0.5
WATCH_PAST = 1.3
"""How long polling goes on past the bound, so that a late stale answer would be seen."""
EDITS = 10
WORKERS = 4


class Editor:
    """The other process: one Django process editing through the ORM, kept running."""

    def __init__(self, database_url: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.services.editor"],
            cwd=ROOT,
            env=base_env(DATABASE_URL=database_url, REDIS_URL=""),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def add_origin(self, policy: str, origin: str) -> float:
        """Add the origin in its own transaction; returns the commit's monotonic time."""
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"policy": policy, "origin": origin}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, "the editor process died"
        return float(json.loads(line)["committed_at"])

    def stop(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        stop_process(self.proc)


@pytest.fixture
def editor(server_database: ServerDatabase) -> Iterator[Editor]:
    started = Editor(server_database.url)
    yield started
    started.stop()


def run_edits(
    pool: ThreadPoolExecutor,
    servers: list[Gunicorn],
    editor: Editor,
    report: Callable[[str], None],
    label: str,
) -> None:
    """EDITS edits in a row, each watched until every worker serves it; asserts the bound."""
    policy = create_policy(servers[0], "/api/", APP)
    workers = discover_workers(pool, servers, APP)
    delays: list[float] = []
    for _ in range(EDITS):
        newcomer = f"https://new-{uuid.uuid4().hex[:8]}.example"
        result = watch_change(
            pool,
            servers,
            workers,
            newcomer,
            lambda origin=newcomer: editor.add_origin(policy, origin),  # type: ignore[misc]
            old=403,
            new=204,
            lead_in=INTERVAL * 0.7,
            watch_for=INTERVAL + WATCH_PAST,
            deadline=INTERVAL * 3 + 8,
        )
        assert not result.unexpected, result.unexpected[:5]
        assert set(result.converged) == workers, f"never served: {workers - set(result.converged)}"
        assert not result.stale_after(INTERVAL), result.stale_after(INTERVAL)
        delays.append(result.delay)
    report(
        f"{label}: {EDITS} ORM edits from another process, {len(workers)} workers, interval "
        f"{INTERVAL:.1f} s: last stale answer sent at most {max(delays):.3f} s after the "
        f"commit (median {sorted(delays)[EDITS // 2]:.3f} s), bound {INTERVAL:.1f} s"
    )


def test_default_cache_every_worker_serves_every_edit(
    start_server: ServerStarter,
    server_database: ServerDatabase,
    editor: Editor,
    pool: ThreadPoolExecutor,
    report: Callable[[str], None],
) -> None:
    server = start_server(
        "default-cache",
        database_url=server_database.url,
        redis_url="",
        workers=WORKERS,
        SERVICES_REFRESH_INTERVAL=str(INTERVAL),
    )
    run_edits(pool, [server], editor, report, "local-memory cache")


def test_redis_down_every_worker_serves_every_edit(
    start_server: ServerStarter,
    server_database: ServerDatabase,
    private_redis: PrivateRedis,
    editor: Editor,
    pool: ThreadPoolExecutor,
    report: Callable[[str], None],
) -> None:
    server = start_server(
        "redis-down",
        database_url=server_database.url,
        redis_url=private_redis.url,
        workers=WORKERS,
        SERVICES_REFRESH_INTERVAL=str(INTERVAL),
    )
    private_redis.stop()
    run_edits(pool, [server], editor, report, "Redis down")
    assert "could not publish its snapshot" in server.log()


def test_two_servers_sharing_the_database_serve_every_edit(
    start_server: ServerStarter,
    server_database: ServerDatabase,
    editor: Editor,
    pool: ThreadPoolExecutor,
    report: Callable[[str], None],
) -> None:
    servers = [
        start_server(
            name,
            database_url=server_database.url,
            redis_url="",
            workers=WORKERS,
            SERVICES_REFRESH_INTERVAL=str(INTERVAL),
        )
        for name in ("machine-a", "machine-b")
    ]
    run_edits(pool, servers, editor, report, "two servers, local-memory caches")
