"""The database or the cache goes away under load, and comes back.

Preflights must keep being answered from the last good snapshot (no 5xx, no unhandled
exception), refusals counted during a database outage must wait in the bounded audit buffer
and be written when it returns, and the next policy change must reach every worker once the
service is back. The database stopped here is a PostgreSQL server the test starts itself,
and the Redis stopped is one it starts itself, so the machine's services are never touched.
"""

from __future__ import annotations

import re
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest

from .databases import ServerDatabase, run_django
from .processes import PrivatePostgres, PrivateRedis, log_lines, wait_until
from .servers import ServerStarter, base_env
from .staleness import watch_change
from .web import APP, Reply, add_origin, committed_at, create_policy, preflight, send, settle

pytestmark = pytest.mark.services

INTERVAL = 0.5
WATCH_PAST = 0.7
"""How long polling goes on past the bound, so that a late stale answer would be seen."""
OUTAGE = 3.0
WORKERS = 4
UNHANDLED = r"django\.request ERROR|Exception in worker|WORKER TIMEOUT|Traceback.*\n.*gunicorn"


def load_round(port: int, round_no: int) -> list[tuple[str, Callable[[], Reply]]]:
    """One round of mixed traffic: allowed and refused preflights, and real requests."""
    jobs: list[tuple[str, Callable[[], Reply]]] = []
    jobs += [("allowed", partial(preflight, port, APP)) for _ in range(4)]
    jobs += [
        ("refused", partial(preflight, port, f"https://outage-{round_no}-{n}.example"))
        for n in range(8)
    ]
    real = partial(send, port, "GET", "/api/plain/", {"Origin": APP})
    jobs += [("real", real) for _ in range(2)]
    return jobs


def run_load(
    pool: ThreadPoolExecutor,
    port: int,
    seconds: float,
    during: Callable[[float], None] = lambda elapsed: None,
) -> dict[str, list[Reply]]:
    """Mixed traffic for ``seconds``; ``during`` is called between rounds with the time spent."""
    results: dict[str, list[Reply]] = {"allowed": [], "refused": [], "real": []}
    started = time.monotonic()
    round_no = 0
    while (elapsed := time.monotonic() - started) < seconds:
        during(elapsed)
        jobs = load_round(port, round_no)
        replies = list(pool.map(lambda job: job[1](), jobs))
        for (kind, _), reply in zip(jobs, replies, strict=True):
            results[kind].append(reply)
        round_no += 1
    return results


def statuses(replies: list[Reply]) -> dict[int, int]:
    return dict(sorted(Counter(reply.status for reply in replies).items()))


def test_database_outage_serves_the_last_snapshot_and_keeps_the_audit(
    private_postgres: PrivatePostgres,
    redis_url: str,
    start_server: ServerStarter,
    pool: ThreadPoolExecutor,
    report: Callable[[str], None],
) -> None:
    database = ServerDatabase(private_postgres.url("postgres"), name="preflight_outage")
    database.create()
    run_django(["migrate", "--noinput", "-v", "0"], base_env(DATABASE_URL=database.url))
    server = start_server(
        "machine-a",
        database_url=database.url,
        redis_url=redis_url,
        workers=WORKERS,
        SERVICES_REFRESH_INTERVAL=str(INTERVAL),
        SERVICES_AUDIT_FLUSH_INTERVAL="0.3",
        SERVICES_AUDIT_BUFFER_SIZE="2",
    )
    policy = create_policy(server, "/api/", APP)
    workers = settle(pool, [server], APP, 204)

    private_postgres.stop()
    # Every worker's version check fails during the outage; none may fail a request for it.
    during = run_load(pool, server.port, OUTAGE)
    log_during = server.log()
    private_postgres.start()

    refused_sent = len(during["refused"])

    def written() -> int:
        return sum(count for _, count, _ in database.audit_rows("https://outage-%"))

    all_written = wait_until(lambda: written() == refused_sent, timeout=20, interval=0.2)
    rows = database.audit_rows("https://outage-%")
    overflow = sum(count for _, count, is_overflow in rows if is_overflow)
    logged_folds = sum(
        int(m.group(1)) for m in re.finditer(r"audit buffer was full: (\d+) refusals", server.log())
    )

    newcomer = f"https://new-{uuid.uuid4().hex[:8]}.example"
    result = watch_change(
        pool,
        [server],
        workers,
        newcomer,
        lambda: committed_at(add_origin(server, policy, newcomer)),
        old=403,
        new=204,
        lead_in=INTERVAL * 1.5,
        watch_for=INTERVAL + WATCH_PAST,
        deadline=INTERVAL * 4 + 5,
    )
    log = server.log()
    sent = sum(len(replies) for replies in during.values())
    report(
        f"database down {OUTAGE:.0f} s: {sent} requests sent, answered "
        + ", ".join(f"{kind} {statuses(replies)}" for kind, replies in during.items())
        + f"; slowest {max(r.seconds for rs in during.values() for r in rs) * 1000:.0f} ms"
    )
    report(
        f"audit: {refused_sent} refusals buffered during the outage, {written()} written after "
        f"it in {len(rows) - (1 if overflow else 0)} detailed rows + {overflow} folded into "
        f"the overflow row (logged as folded: {logged_folds}); "
        f"{len(log_lines(log_during, 'could not write the audit'))} failed flushes and "
        f"{len(log_lines(log_during, 'could not load policies'))} failed rebuilds logged"
    )
    report(
        f"after the database returned, a change reached all {len(workers)} workers "
        f"{result.delay:.3f} s after its commit (interval {INTERVAL} s)"
    )

    assert statuses(during["allowed"]) == {204: len(during["allowed"])}
    assert statuses(during["refused"]) == {403: refused_sent}
    assert statuses(during["real"]) == {200: len(during["real"])}
    assert {r.worker for rs in during.values() for r in rs} <= workers, "no worker restarted"
    assert log_lines(log_during, "could not load policies"), "the rebuild was tried, and failed"
    assert all_written, f"{written()} of {refused_sent} refusals written"
    assert overflow == logged_folds > 0, "the bound folded refusals, and said how many"
    assert set(result.converged) == workers
    assert not result.stale_after(INTERVAL), result.stale_after(INTERVAL)
    assert not re.search(UNHANDLED, log), log[-3000:]


def test_cache_outage_keeps_serving_and_changes_still_arrive(
    private_redis: PrivateRedis,
    server_database: ServerDatabase,
    start_server: ServerStarter,
    pool: ThreadPoolExecutor,
    report: Callable[[str], None],
) -> None:
    server = start_server(
        "machine-a",
        database_url=server_database.url,
        redis_url=private_redis.url,
        workers=WORKERS,
        SERVICES_REFRESH_INTERVAL=str(INTERVAL),
    )
    policy = create_policy(server, "/api/", APP)
    workers = settle(pool, [server], APP, 204)
    newcomer = f"https://new-{uuid.uuid4().hex[:8]}.example"

    private_redis.stop()
    during = run_load(pool, server.port, OUTAGE)
    result = watch_change(
        pool,
        [server],
        workers,
        newcomer,
        lambda: committed_at(add_origin(server, policy, newcomer)),
        old=403,
        new=204,
        lead_in=INTERVAL,
        watch_for=INTERVAL + WATCH_PAST,
        deadline=INTERVAL * 4 + 5,
    )
    log = server.log()
    sent = sum(len(replies) for replies in during.values())
    report(
        f"cache down {OUTAGE:.0f} s: {sent} requests sent, answered "
        + ", ".join(f"{kind} {statuses(replies)}" for kind, replies in during.items())
        + f"; a change saved with the cache still down reached all {len(workers)} workers, "
        f"last stale answer sent {result.delay:.3f} s after the commit"
    )

    assert statuses(during["allowed"]) == {204: len(during["allowed"])}
    assert statuses(during["refused"]) == {403: len(during["refused"])}
    assert statuses(during["real"]) == {200: len(during["real"])}
    assert set(result.converged) == workers, "propagation needs no cache"
    assert not result.stale_after(INTERVAL), result.stale_after(INTERVAL)
    assert log_lines(log, "could not publish its snapshot")
    assert not re.search(UNHANDLED, log), log[-3000:]


def test_a_worker_born_during_a_database_outage(
    private_postgres: PrivatePostgres,
    private_redis: PrivateRedis,
    start_server: ServerStarter,
    pool: ThreadPoolExecutor,
    report: Callable[[str], None],
) -> None:
    """Served from the snapshot published in the shared cache; with none there, 503 and no
    refusal audited, until the database is back."""
    database = ServerDatabase(private_postgres.url("postgres"), name="preflight_born")
    database.create()
    run_django(["migrate", "--noinput", "-v", "0"], base_env(DATABASE_URL=database.url))
    shared = uuid.uuid4().hex[:12]
    common = {
        "database_url": database.url,
        "redis_url": private_redis.url,
        "SERVICES_REFRESH_INTERVAL": str(INTERVAL),
        "SERVICES_AUDIT_FLUSH_INTERVAL": "0.2",
    }
    server = start_server("machine-a", workers=2, SERVICES_CACHE_PREFIX=shared, **common)
    create_policy(server, "/api/", APP)
    settle(pool, [server], APP, 204)  # the workers built snapshots and published them

    private_postgres.stop()
    born = start_server("born", workers=1, warm=False, SERVICES_CACHE_PREFIX=shared, **common)
    bare = start_server("bare", workers=1, warm=False, **common)
    evil = "https://born-evil.example"
    served = [preflight(born.port, APP) for _ in range(20)]
    refused = [preflight(born.port, evil) for _ in range(5)]
    unavailable = [preflight(bare.port, APP) for _ in range(10)]
    unavailable += [preflight(bare.port, f"https://bare-{n}.example") for n in range(10)]
    report(
        "worker born during a database outage: with a published snapshot "
        f"{statuses(served)} allowed, {statuses(refused)} refused; without one "
        f"{statuses(unavailable)}"
    )
    assert statuses(served) == {204: 20}
    assert statuses(refused) == {403: 5}
    assert statuses(unavailable) == {503: 20}
    assert all(int(r.header("Retry-After") or 0) >= 1 for r in unavailable)
    assert log_lines(born.log(), "serving the snapshot published in cache")
    assert log_lines(bare.log(), "preflights are answered 503")

    private_postgres.start()
    settle(pool, [bare], APP, 204, timeout=INTERVAL * 4 + 10)
    time.sleep(1.0)  # several flush intervals: anything buffered would be written by now
    assert database.query(
        "SELECT COUNT(*) FROM django_preflight_rejectedpreflight WHERE origin LIKE %s",
        ("https://bare-%",),
    ) == [(0,)], "503 answers are not refusals"
