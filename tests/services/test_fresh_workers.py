"""A worker never decides before its first snapshot: every concurrent first preflight is allowed.

The server is started and only its listening port is awaited, so the burst's requests are the
first ones its worker ever sees: under uvicorn they are decided on the async path (one load
awaited by all of them), under gunicorn's gthread worker by 16 threads (the first load under a
lock that the others wait for).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from .databases import ServerDatabase
from .servers import ServerStarter, gunicorn_argv, uvicorn_argv
from .web import APP, Reply, create_policy, preflight

pytestmark = pytest.mark.services

SERVERS = {
    "uvicorn": (uvicorn_argv, ()),
    "gthread": (gunicorn_argv, ("--worker-class", "gthread", "--threads", "16")),
}


@pytest.mark.parametrize("concurrency", [32, 200])
@pytest.mark.parametrize("kind", sorted(SERVERS))
def test_concurrent_first_preflights_to_a_fresh_worker_are_all_allowed(
    start_server: ServerStarter,
    server_database: ServerDatabase,
    report: Callable[[str], None],
    kind: str,
    concurrency: int,
) -> None:
    editor = start_server("editor", database_url=server_database.url, redis_url="", workers=1)
    path = f"/api/fresh-{kind}-{concurrency}/"
    create_policy(editor, path, APP)
    argv, options = SERVERS[kind]
    fresh = start_server(
        kind,
        database_url=server_database.url,
        redis_url="",
        workers=1,
        argv=argv,
        options=options,
        warm=False,
    )
    together = threading.Barrier(concurrency)

    def first_request() -> Reply:
        together.wait(30)
        # A fresh worker loads Django and the snapshot first; on a loaded machine that can take
        # longer than the default wait, and what is judged is the answer, not how soon.
        return preflight(fresh.port, APP, path=path + "1/", method="PUT", timeout=60)

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        replies = list(pool.map(lambda _: first_request(), range(concurrency)))

    statuses = Counter(reply.status for reply in replies)
    workers = {reply.worker for reply in replies}
    # Five flush intervals: anything the audit buffered is written by then. (uvicorn re-raises
    # SIGTERM after its shutdown, so exit handlers do not run there: stopping would not do.)
    time.sleep(1.0)
    report(f"{kind}, {concurrency} concurrent first preflights: {dict(statuses)} from {workers}")
    assert statuses == {204: concurrency}, [r.error for r in replies if r.error][:3]
    assert len(workers) == 1, "one fresh worker answered them all"
    assert server_database.query(
        "SELECT COUNT(*) FROM django_preflight_rejectedpreflight WHERE path LIKE %s",
        (path + "%",),
    ) == [(0,)], "nothing was audited as a refusal"
