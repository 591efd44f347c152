"""Policy changes reach running servers without a restart: saved in the admin from the browser,
and, with Redis as the shared cache, in every gunicorn worker within the refresh interval."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from example_project.frontend_server import FrontendServer

from .control import Control
from .server_middleware import SERVED_BY
from .servers import ServerProcess, cache_prefix, gunicorn, redis_url, running
from .support import (
    ADMIN,
    ALICE,
    NO_ALLOW_ORIGIN,
    PASSWORD,
    PREFLIGHT_FAILED,
    PageSession,
    blocked_prefix,
    frontend_port,
    log_in_to_admin,
    page_url,
)

pytestmark = pytest.mark.browser

REFRESH_INTERVAL = 1.0
# The interval bounds how long a worker may go without checking; rebuilding the snapshot and
# the sampling itself take a little more.
STALENESS_BOUND = REFRESH_INTERVAL + 0.5
SAMPLERS = 2
POLICY = {
    "path_prefix": "/api/",
    "allow_credentials": True,
    "allowed_methods": ["GET", "POST", "PUT", "PATCH", "DELETE"],
    "allowed_headers": ["accept", "authorization", "content-type", "x-csrftoken"],
}


def demo_call(session: PageSession, note: int) -> dict[str, object]:
    """The demo page's own credentialed PUT, with the token from its URL."""
    return session.call_api("PUT", f"/api/notes/{note}/", {"title": "edited", "body": ""})


def frontend_page(frontend: FrontendServer, api: ServerProcess, token: str) -> str:
    """The demo page pointed at ``api`` with the user's token, as the demo prints it."""
    return page_url(frontend, query=f"api={api.origin}&token={token}")


def save_policy_form(session: PageSession) -> None:
    """Press "Save and continue editing" and insist the admin accepted the form."""
    session.page.click("input[name=_continue]")
    session.page.wait_for_load_state()
    assert session.page.locator(".errornote, .errorlist").count() == 0, session.page.content()
    assert session.page.locator(".messagelist .success").count() == 1


def admin_for(open_page: Callable[[str], PageSession], api: ServerProcess) -> PageSession:
    """A page logged in to the servers' admin as the superuser."""
    admin = open_page(f"{api.origin}/admin/login/")
    log_in_to_admin(admin, api.origin, ADMIN, PASSWORD)
    return admin


def remove_origin_in_admin(admin: PageSession, origin: str) -> None:
    """Tick the origin's "Delete" box on the open policy page and save."""
    row = admin.page.locator(f"input[name$='-value'][value='{origin}']")
    prefix = str(row.get_attribute("name")).removesuffix("-value")
    admin.page.check(f"input[name='{prefix}-DELETE']")
    save_policy_form(admin)


def test_origin_added_and_removed_in_the_admin_applies_without_restart(
    api: ServerProcess,
    policies: Callable[..., int],
    frontend: FrontendServer,
    open_page: Callable[[str], PageSession],
    control: Control,
    accounts: dict[str, str],
) -> None:
    other = f"http://localhost:{frontend_port(frontend)}"
    policy = policies("demo-frontend", other, **POLICY)
    note = control("note", owner=ALICE, title="before")
    page = frontend_page(frontend, api, accounts[ALICE])
    url = f"{api.origin}/api/notes/{note}/"
    blocked = blocked_prefix(url, frontend.origin) + PREFLIGHT_FAILED + NO_ALLOW_ORIGIN
    admin = admin_for(open_page, api)
    change_page = f"{api.origin}/admin/django_preflight/corspolicy/{policy}/change/"

    before = demo_call(open_page(page), note)

    admin.page.goto(change_page)
    extra = admin.page.input_value("#id_origins-INITIAL_FORMS")
    admin.page.select_option(f"#id_origins-{extra}-kind", "exact")
    admin.page.fill(f"#id_origins-{extra}-value", frontend.origin)
    save_policy_form(admin)
    added = demo_call(open_page(page), note)

    remove_origin_in_admin(admin, frontend.origin)
    removed = demo_call(open_page(page), note)

    assert before["messages"] == [blocked]
    assert (added["messages"], added.get("error"), added["status"]) == ([], None, 200)
    assert removed["messages"] == [blocked]
    assert control("origins", policy="demo-frontend") == [other]


def test_removed_origin_cannot_keep_writing_on_a_cached_preflight(
    api: ServerProcess,
    policies: Callable[..., int],
    frontend: FrontendServer,
    open_page: Callable[[str], PageSession],
    control: Control,
    accounts: dict[str, str],
    answer_log: Callable[[], list[tuple[int, str, str]]],
) -> None:
    """The README's scenario: the page keeps its preflight answer (Max-Age 600) after the origin
    is removed in the admin, so its next POST goes out without a preflight; the server refuses
    it 403 (policies enforce on the server by default) and nothing is created."""
    policy = policies("demo-frontend", frontend.origin, max_age=600, **POLICY)
    page = open_page(frontend_page(frontend, api, accounts[ALICE]))
    first = page.call_api("POST", "/api/notes/", {"title": "allowed", "body": ""})
    notes = control("note_count")

    admin = admin_for(open_page, api)
    admin.page.goto(f"{api.origin}/admin/django_preflight/corspolicy/{policy}/change/")
    remove_origin_in_admin(admin, frontend.origin)

    answered = len(answer_log())
    second = page.call_api("POST", "/api/notes/", {"title": "after removal", "body": ""})
    url = f"{api.origin}/api/notes/"
    refused = [row for row in control.audit_rows(1) if row["origin"] == frontend.origin]

    assert first["status"] == 201
    assert control("origins", policy="demo-frontend") == []
    # No preflight prefix: the browser reused its cached preflight and sent the POST itself.
    assert second["messages"] == [blocked_prefix(url, frontend.origin) + NO_ALLOW_ORIGIN]
    assert control("note_count") == notes, "the refused POST created nothing"
    # The page cannot read the status of a blocked response; the server's log of its answers can.
    assert [a for a in answer_log()[answered:] if a[1:] == ("POST", "/api/notes/")] == [
        (403, "POST", "/api/notes/")
    ]
    assert [(r["reason"], r["request_method"], r["path"]) for r in refused] == [
        ("request_refused_on_server", "POST", "/api/notes/")
    ]
    assert refused[0]["console_message"] == NO_ALLOW_ORIGIN


@pytest.fixture(scope="module")
def redis_env(server_env: dict[str, str]) -> dict[str, str]:
    """The servers' environment with Redis as the shared cache and a 1 s refresh interval."""
    return {
        **server_env,
        "PREFLIGHT_TEST_REDIS_URL": redis_url(),
        "PREFLIGHT_TEST_CACHE_PREFIX": cache_prefix(),
        "PREFLIGHT_TEST_REFRESH_INTERVAL": str(REFRESH_INTERVAL),
    }


@pytest.fixture(scope="module")
def redis_api(
    redis_env: dict[str, str], workdir: Path, accounts: dict[str, str]
) -> Iterator[ServerProcess]:
    """gunicorn, two workers, sharing Redis."""
    yield from running(gunicorn("gunicorn-redis", redis_env, workdir))


@pytest.fixture(scope="module")
def redis_control(redis_env: dict[str, str]) -> Iterator[Control]:
    """A process that saves policies and publishes the change to Redis, like another machine."""
    process = Control(redis_env)
    yield process
    process.close()


class Sampler:
    """Preflights sent without pause from a few threads, each on a new connection so both
    workers answer; records when each worker allowed or refused the origin."""

    def __init__(self, server: ServerProcess, path: str, origin: str) -> None:
        self.server, self.path, self.origin = server, path, origin
        self.samples: list[tuple[float, int, bool]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(SAMPLERS)]

    def _run(self) -> None:
        while not self._stop.is_set():
            connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
            connection.request(
                "OPTIONS",
                self.path,
                headers={
                    "Origin": self.origin,
                    "Access-Control-Request-Method": "PUT",
                    "Access-Control-Request-Headers": "authorization,content-type",
                    "Connection": "close",
                },
            )
            response = connection.getresponse()
            response.read()
            allowed = response.getheader("Access-Control-Allow-Origin") == self.origin
            sample = (time.monotonic(), int(response.getheader(SERVED_BY) or 0), allowed)
            connection.close()
            with self._lock:
                self.samples.append(sample)

    def __enter__(self) -> Sampler:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def workers(self) -> set[int]:
        """The PIDs that have answered so far."""
        with self._lock:
            return {pid for _, pid, _ in self.samples}

    def converged(self, since: float, want: bool) -> dict[int, float] | None:
        """Per worker, when it last answered differently from ``want`` after ``since`` (or
        ``since`` itself); None while a worker has not answered ``want`` yet."""
        with self._lock:
            samples = [s for s in self.samples if s[0] >= since]
        result: dict[int, float] = {}
        for pid in {pid for _, pid, _ in samples}:
            mine = [(t, ok) for t, pid_, ok in samples if pid_ == pid]
            if not mine or mine[-1][1] != want:
                return None
            stale = [t for t, ok in mine if ok != want]
            result[pid] = max(stale, default=since) - since
        return result


def measure(
    sampler: Sampler, change: Callable[[], object], want: bool, workers: set[int]
) -> dict[int, float]:
    """Make the change, then sample until every worker has answered ``want`` for a full
    refresh interval after its last stale answer; returns each worker's staleness."""
    started = time.monotonic()
    change()
    deadline = started + 10 * REFRESH_INTERVAL
    while time.monotonic() < deadline:
        time.sleep(0.05)
        delays = sampler.converged(started, want)
        if delays is not None and set(delays) >= workers:
            quiet_since = started + max(delays.values())
            if time.monotonic() - quiet_since > 2 * REFRESH_INTERVAL:
                return delays
    raise AssertionError(f"workers did not converge on allowed={want}: {sampler.samples[-20:]}")


def test_every_worker_serves_a_change_within_the_refresh_interval(
    redis_api: ServerProcess,
    redis_control: Control,
    frontend: FrontendServer,
    open_page: Callable[[str], PageSession],
    accounts: dict[str, str],
) -> None:
    redis_control("reset")
    other = f"http://localhost:{frontend_port(frontend)}"
    redis_control("policy", name="shared", origins=[["exact", other]], max_age=0, **POLICY)
    note = redis_control("note", owner=ALICE, title="before")
    page = frontend_page(frontend, redis_api, accounts[ALICE])
    path = f"/api/notes/{note}/"

    with Sampler(redis_api, path, frontend.origin) as sampler:
        deadline = time.monotonic() + 10
        while len(sampler.workers()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = sampler.workers()
        assert len(workers) == 2, "both gunicorn workers should answer"
        time.sleep(REFRESH_INTERVAL + 0.2)
        assert sampler.converged(time.monotonic() - 0.1, want=False) is not None
        before = demo_call(open_page(page), note)

        added = measure(
            sampler,
            lambda: redis_control(
                "add_origin", policy="shared", kind="exact", value=frontend.origin
            ),
            want=True,
            workers=workers,
        )
        after_adding = demo_call(open_page(page), note)

        removed = measure(
            sampler,
            lambda: redis_control("remove_origin", policy="shared", value=frontend.origin),
            want=False,
            workers=workers,
        )
        after_removing = demo_call(open_page(page), note)

    largest = max(*added.values(), *removed.values())
    print(
        f"\nstaleness per worker after adding: {format_delays(added)}; after removing: "
        f"{format_delays(removed)}; largest {largest:.3f} s "
        f"(refresh interval {REFRESH_INTERVAL} s, {len(sampler.samples)} preflights sampled)"
    )
    assert largest <= STALENESS_BOUND
    blocked = blocked_prefix(redis_api.origin + path, frontend.origin)
    assert before["messages"] == [blocked + PREFLIGHT_FAILED + NO_ALLOW_ORIGIN]
    assert after_removing["messages"] == [blocked + PREFLIGHT_FAILED + NO_ALLOW_ORIGIN]
    assert (after_adding["messages"], after_adding["status"]) == ([], 200)


def format_delays(delays: dict[int, float]) -> str:
    """Seconds per worker, for the printed figure."""
    return ", ".join(f"{delay:.3f} s" for _, delay in sorted(delays.items()))
