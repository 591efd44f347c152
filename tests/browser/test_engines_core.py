"""The browser tier's core cases in the other engines, against the real app.

Every case runs in each engine of ``ENGINES`` (started and stopped by a fixture), calling the
example project under gunicorn (some under uvicorn) from the demo page on another origin, with
policies created live. A refused call must be rejected with the engine's own words
(``MODELS[engine].rejection``) and log exactly the console lines the model predicts for that
engine (``explain`` on the servers' policies, or the probe where a redirect is involved); the
Chromium verdict the model gives for the same call is the one the Chromium tests expect, so the
engines agree. An allowed call must read the right status and body.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from django_preflight.conf import PreflightSettings
from django_preflight.engine.browser import Check, CorsRequest, Failure, Stage
from django_preflight.engine.engines import MODELS, Engine, lines, trace_lines
from django_preflight.probe import probe
from example_project.frontend_server import FrontendServer

from .control import Control
from .engine_page import Driver, EnginePage, start, warm_up
from .firefox import Firefox
from .redirect_hop import redirect_hop, via
from .servers import ServerProcess
from .support import (
    ALICE,
    NO_ALLOW_ORIGIN,
    PREFLIGHT_FAILED,
    WILDCARD_WITH_CREDENTIALS,
    Outcome,
    blocked_prefix,
    check_method_applied,
    frontend_port,
    page_url,
)
from .webkit import WebKit

pytestmark = pytest.mark.browser

# The engines besides Chromium, each a driver class whose module offers ``require()`` (what
# the driver is started with); adding one is one line.
ENGINES: dict[str, type[Driver]] = {
    "firefox": Firefox,
    "webkit": WebKit,
}

# A write, a simple GET polled until it is refused (the origin was removed meanwhile), and the
# same write again, all from one document.
WRITE_POLL_WRITE_JS = """
async ({write, poll, limit}) => {
  const send = async (url, init) => {
    try {
      const response = await fetch(url, init);
      await response.text();
      return {status: response.status};
    } catch (error) {
      return {error: String(error)};
    }
  };
  const init = {method: "POST", headers: write.headers, body: write.body};
  const first = await send(write.url, init);
  let polled = 0;
  while (polled < limit && !("error" in await send(`${poll}&n=${polled}`, {}))) {
    polled += 1;
    await new Promise((done) => setTimeout(done, 100));
  }
  const second = await send(write.url, init);
  return {first, polled, second};
}
"""
REFUSED_PREFLIGHT = PREFLIGHT_FAILED + NO_ALLOW_ORIGIN
NO_CREDENTIALS = PREFLIGHT_FAILED + (
    "The value of the 'Access-Control-Allow-Credentials' header in the response is '' which "
    "must be 'true' when the request's credentials mode is 'include'."
)
STATUS = "/api/public/status/"
KEY = {"X-Api-Key": "demo-key"}
JSON = {"Content-Type": "application/json"}
TOKEN = {"Authorization": "Token {token}"}
PAGE = "http://127.0.0.1:{port}"
# Policies as the Chromium tests write them.
ORIGINS = {"path_prefix": "/api/", "allowed_headers": ["x-api-key"]}
NARROW = {
    "path_prefix": "/api/",
    "allowed_methods": ["GET", "POST"],
    "allowed_headers": ["content-type"],
}
REST = {
    "path_prefix": "/api/",
    "allow_credentials": True,
    "allowed_methods": ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
    "allowed_headers": ["accept", "authorization", "content-type", "x-api-key", "x-csrftoken"],
    "exposed_headers": ["Location", "X-Total-Count"],
    "max_age": 600,
}
PLAIN = {"path_prefix": "/api/", "allowed_headers": ["authorization", "x-api-key"]}
STAR_HEADERS = {"path_prefix": "/api/", "allowed_headers": ["*"]}


@dataclass(frozen=True)
class Core:
    """One call from the page and its outcome: ``status`` when the page reads the response,
    else ``verdict``, Chromium's text after 'blocked by CORS policy: ' as its tests expect."""

    name: str
    origins: tuple[tuple[str, str], ...]
    policy: dict[str, Any]
    path: str = STATUS
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    credentials: bool = False
    host: str = "127.0.0.1"
    server: str = "api"
    status: int | None = 200
    verdict: str | None = None
    json: dict[str, Any] = field(default_factory=dict)
    read: dict[str, str | None] = field(default_factory=dict)


def refused(name: str, verdict: str = REFUSED_PREFLIGHT, **fields: Any) -> Core:
    """A call the page may not read."""
    return Core(name, status=None, verdict=verdict, **fields)


EXACT = (("exact", PAGE),)
SUBDOMAIN = (("subdomain", "http://*.example.test:{port}"),)
REGEX = (("regex", r"http://tenant-(a|b)\.example\.test:{port}"),)
ANYONE = (("any", ""),)
OK = {"status": "ok"}
CORE: tuple[Core, ...] = (
    # Origins: exact, subdomain, regex, each allowed and refused (test_origins).
    Core("origin-exact", EXACT, ORIGINS, headers=KEY, json=OK),
    Core("origin-exact-asgi", EXACT, ORIGINS, headers=KEY, server="asgi_api", json=OK),
    refused("origin-not-listed", origins=EXACT, policy=ORIGINS, headers=KEY, host="localhost"),
    refused(
        "origin-not-listed-asgi",
        origins=EXACT,
        policy=ORIGINS,
        headers=KEY,
        host="localhost",
        server="asgi_api",
    ),
    refused(
        "origin-not-listed-simple-get",
        NO_ALLOW_ORIGIN,
        origins=EXACT,
        policy=ORIGINS,
        host="localhost",
    ),
    Core("origin-subdomain", SUBDOMAIN, ORIGINS, headers=KEY, host="app.example.test", json=OK),
    Core(
        "origin-subdomain-deeper",
        SUBDOMAIN,
        ORIGINS,
        headers=KEY,
        host="eu.app.example.test",
        json=OK,
    ),
    refused(
        "origin-subdomain-not-apex",
        origins=SUBDOMAIN,
        policy=ORIGINS,
        headers=KEY,
        host="example.test",
    ),
    Core("origin-regex", REGEX, ORIGINS, headers=KEY, host="tenant-b.example.test", json=OK),
    refused(
        "origin-regex-no-match",
        origins=REGEX,
        policy=ORIGINS,
        headers=KEY,
        host="tenant-c.example.test",
    ),
    refused(
        "origin-regex-matched-whole",
        origins=REGEX,
        policy=ORIGINS,
        headers=KEY,
        host="tenant-a.example.test.localhost",
    ),
    refused("path-uncovered", origins=EXACT, policy=ORIGINS, path="/internal/ping/", headers=KEY),
    # Methods (test_requests: the narrow policy).
    Core("method-post-allowed", EXACT, NARROW, method="POST", headers=JSON, body="{}", status=405),
    refused("method-patch-refused", origins=EXACT, policy=NARROW, method="PATCH", headers=JSON),
    refused(
        "method-patch-refused-asgi",
        origins=EXACT,
        policy=NARROW,
        method="PATCH",
        headers=JSON,
        server="asgi_api",
    ),
    refused(
        "method-lowercase-patch",
        origins=EXACT,
        policy={**REST, "allow_credentials": False},
        path="/api/notes/{note}/",
        method="patch",
        headers={**JSON, **TOKEN},
    ),
    # Request headers.
    refused("header-not-listed", origins=EXACT, policy=NARROW, headers=KEY),
    Core("header-authorization-listed", EXACT, PLAIN, path="/api/notes/", headers=TOKEN),
    Core("header-star-covers-a-name", EXACT, STAR_HEADERS, headers={"X-Anything": "1"}, json=OK),
    refused(
        "header-star-never-covers-authorization",
        origins=EXACT,
        policy=STAR_HEADERS,
        path="/api/notes/",
        headers=TOKEN,
    ),
    # Credentials (test_requests, test_origins).
    Core(
        "credentials-to-credentialed", EXACT, REST, "/api/notes/", headers=TOKEN, credentials=True
    ),
    Core(
        "credentials-to-credentialed-asgi",
        EXACT,
        REST,
        "/api/notes/",
        headers=TOKEN,
        credentials=True,
        server="asgi_api",
    ),
    Core("no-credentials-to-plain", EXACT, PLAIN, "/api/notes/", headers=TOKEN),
    refused(
        "credentials-to-plain",
        NO_CREDENTIALS,
        origins=EXACT,
        policy=PLAIN,
        path="/api/notes/",
        headers=TOKEN,
        credentials=True,
    ),
    Core("any-origin-without-credentials", ANYONE, ORIGINS, headers=KEY, host="localhost", json=OK),
    refused(
        "any-origin-with-credentials",
        PREFLIGHT_FAILED + WILDCARD_WITH_CREDENTIALS,
        origins=ANYONE,
        policy=ORIGINS,
        headers=KEY,
        host="localhost",
        credentials=True,
    ),
    # Exposed headers, and errors the page can read.
    Core(
        "exposed-header-readable",
        EXACT,
        {"path_prefix": "/api/", "exposed_headers": ["X-Total-Count"]},
        "/api/headers/",
        json={"method": "GET"},
        read={"X-Total-Count": "42", "X-Internal-Trace": None, "Content-Type": "application/json"},
    ),
    Core(
        "unexposed-header-hidden",
        EXACT,
        {"path_prefix": "/api/"},
        "/api/headers/",
        read={"X-Total-Count": None, "Content-Type": "application/json"},
    ),
    Core("error-404-readable", EXACT, REST, "/api/notes/999999/", headers=TOKEN, status=404),
    Core("error-500-readable", EXACT, REST, "/api/failing/", credentials=True, status=500),
    Core("simple-get-no-preflight", EXACT, {"path_prefix": "/api/"}, json=OK),
)


@dataclass(frozen=True)
class Running:
    """One engine under test: the model's name for it and its driver."""

    engine: Engine
    driver: Driver

    def page(self, frontend: FrontendServer, host: str = "127.0.0.1") -> EnginePage:
        """The demo page served as ``host``."""
        return EnginePage(self.driver, page_url(frontend, host))

    @property
    def rejection(self) -> str:
        """What a blocked fetch() rejects with in this engine."""
        return MODELS[self.engine].rejection


@pytest.fixture(scope="module", params=list(ENGINES))
def engine(request: pytest.FixtureRequest, frontend: FrontendServer) -> Iterator[Running]:
    """The engine's browser with a fresh profile for this module, past its first calls (see
    ``warm_up``); stopped afterwards."""
    driver = start(ENGINES[request.param])
    try:
        warm_up(driver, page_url(frontend))
        yield Running(Engine(request.param), driver)
    finally:
        driver.close()


@pytest.fixture(scope="module")
def hop() -> Iterator[str]:
    """A redirecting hop on a third origin."""
    with redirect_hop() as base:
        yield base


def unique(url: str) -> str:
    """``url`` with a query of its own: no cached preflight, no console line shared."""
    return f"{url}{'&' if '?' in url else '?'}case={uuid.uuid4().hex}"


def explained(
    control: Control, engine: Engine, url: str, origin: str, case: Core, headers: dict[str, str]
) -> dict[str, Any]:
    """``explain``'s Chromium line and ``engine``'s console lines for the call."""
    return dict(
        control(
            "engine_lines",
            engine=engine.value,
            url=url,
            origin=origin,
            method=case.method,
            headers=[[name, value] for name, value in headers.items()],
            credentials=case.credentials,
        )
    )


def assert_refused(
    outcome: Outcome, running: Running, expected: list[str] | tuple[str, ...]
) -> None:
    """Rejected with the engine's words, with exactly the lines predicted for it."""
    assert outcome.error == running.rejection, outcome
    assert expected, "the model predicts no line for a refused call"
    assert outcome.messages == list(expected)


def assert_read(outcome: Outcome, status: int) -> None:
    """The page read the response."""
    assert outcome.error is None, outcome
    assert outcome.messages == []
    assert outcome.status == status, outcome


def test_every_engine_runs_at_least_30_core_cases() -> None:
    """Every engine the model speaks for besides Chromium runs every case."""
    assert len({case.name for case in CORE}) == len(CORE) >= 30
    assert {Engine(name) for name in ENGINES} == set(Engine) - {Engine.CHROMIUM}
    assert sum(case.status is None for case in CORE) >= 12
    assert sum(case.server == "asgi_api" for case in CORE) >= 4


@pytest.mark.parametrize("case", CORE, ids=[case.name for case in CORE])
def test_core_case(
    case: Core,
    engine: Running,
    request: pytest.FixtureRequest,
    policies: Callable[..., int],
    frontend: FrontendServer,
    control: Control,
    accounts: dict[str, str],
) -> None:
    server: ServerProcess = request.getfixturevalue(case.server)
    port = frontend_port(frontend)
    origins = [(kind, value.format(port=port)) for kind, value in case.origins]
    policies("core", *origins, **case.policy)
    path = case.path
    if "{note}" in path:
        path = path.format(note=control("note", owner=ALICE, title="core"))
    url = unique(server.origin + path)
    headers = {name: value.format(token=accounts[ALICE]) for name, value in case.headers.items()}
    origin = f"http://{case.host}:{port}"

    outcome = engine.page(frontend, case.host).fetch(
        url,
        case.method,
        headers,
        case.body,
        credentials="include" if case.credentials else "omit",
        read=tuple(case.read),
    )

    model = explained(control, engine.engine, url, origin, case, headers)
    if case.status is None:
        assert model["message"] == blocked_prefix(url, origin) + str(case.verdict)
        assert_refused(outcome, engine, model["lines"])
        return
    assert model == {"message": None, "lines": []}
    assert_read(outcome, case.status)
    if case.json:
        assert outcome.json().items() >= case.json.items()
    assert outcome.headers == case.read


@pytest.mark.parametrize(
    ("method", "status"),
    [("GET", 200), ("POST", 201), ("PUT", 200), ("PATCH", 200), ("DELETE", 204)],
)
def test_every_method_with_token_custom_header_and_json(
    engine: Running,
    api: ServerProcess,
    policies: Callable[..., int],
    frontend: FrontendServer,
    control: Control,
    accounts: dict[str, str],
    method: str,
    status: int,
) -> None:
    policies("frontend", frontend.origin, **REST)
    note = control("note", owner=ALICE, title="before")
    path = "/api/notes/" if method == "POST" else f"/api/notes/{note}/"
    body = None if method in ("GET", "DELETE") else json.dumps({"title": f"by {method}"})
    headers = {"Authorization": f"Token {accounts[ALICE]}", **KEY}
    if body is not None:
        headers.update(JSON)

    outcome = engine.page(frontend).fetch(
        unique(api.origin + path),
        method,
        headers,
        body,
        credentials="include",
        read=("Location",),
    )

    assert_read(outcome, status)
    check_method_applied(outcome, method, note, control)


def requests_for(log: list[tuple[int, str, str]], marker: str) -> list[tuple[str, str]]:
    """The (method, target) pairs the servers received for one case's URLs."""
    return [(method, target) for _, method, target in log if marker in target]


@pytest.mark.parametrize("server", ["api", "asgi_api"])
def test_max_age_spares_the_second_preflight_but_not_a_new_url(
    engine: Running,
    server: str,
    request: pytest.FixtureRequest,
    policies: Callable[..., int],
    frontend: FrontendServer,
    request_log: Callable[[], list[tuple[int, str, str]]],
) -> None:
    origin: str = request.getfixturevalue(server).origin
    policies("frontend", frontend.origin, **REST)
    marker = uuid.uuid4().hex
    first, second = (f"{STATUS}?case={marker}&n={n}" for n in (1, 2))

    outcomes = engine.page(frontend).in_turn([origin + u for u in (first, first, second)], KEY)

    for outcome in outcomes:
        assert_read(outcome, 200)
    assert requests_for(request_log(), marker) == [
        ("OPTIONS", first),
        ("GET", first),
        ("GET", first),
        ("OPTIONS", second),
        ("GET", second),
    ]


def test_max_age_zero_preflights_every_call(
    engine: Running,
    api: ServerProcess,
    policies: Callable[..., int],
    frontend: FrontendServer,
    request_log: Callable[[], list[tuple[int, str, str]]],
) -> None:
    policies("frontend", frontend.origin, **{**REST, "max_age": 0})
    marker = uuid.uuid4().hex
    target = f"{STATUS}?case={marker}"

    outcomes = engine.page(frontend).in_turn([api.origin + target] * 2, KEY)

    for outcome in outcomes:
        assert_read(outcome, 200)
    assert requests_for(request_log(), marker) == [("OPTIONS", target), ("GET", target)] * 2


def test_a_cached_answer_serves_the_page_loaded_again(
    engine: Running,
    api: ServerProcess,
    policies: Callable[..., int],
    frontend: FrontendServer,
    request_log: Callable[[], list[tuple[int, str, str]]],
) -> None:
    """Preflight answers are kept for the origin, not the document: the page loaded again (in
    a new tab) calls without asking again."""
    policies("frontend", frontend.origin, **REST)
    marker = uuid.uuid4().hex
    target = f"{STATUS}?case={marker}"
    page = engine.page(frontend)

    outcomes = [page.fetch(api.origin + target, headers=KEY) for _ in range(2)]

    for outcome in outcomes:
        assert_read(outcome, 200)
    assert requests_for(request_log(), marker) == [
        ("OPTIONS", target),
        ("GET", target),
        ("GET", target),
    ]


def test_append_slash_redirect_of_a_preflighted_put_is_followed(
    engine: Running,
    api: ServerProcess,
    policies: Callable[..., int],
    frontend: FrontendServer,
    control: Control,
    accounts: dict[str, str],
    request_log: Callable[[], list[tuple[int, str, str]]],
) -> None:
    policies("frontend", frontend.origin, **REST)
    note = control("note", owner=ALICE, title="before")
    marker = uuid.uuid4().hex
    without_slash = f"/api/notes/{note}"

    outcome = engine.page(frontend).fetch(
        f"{api.origin}{without_slash}?case={marker}",
        "PUT",
        {**JSON, "Authorization": f"Token {accounts[ALICE]}"},
        json.dumps({"title": "after", "body": ""}),
    )

    assert_read(outcome, 200)
    assert outcome.redirected
    assert control("note_title", pk=note) == "after"
    query = f"?case={marker}"
    assert requests_for(request_log(), marker) == [
        ("OPTIONS", without_slash + query),
        ("PUT", without_slash + query),
        ("OPTIONS", without_slash + "/" + query),
        ("PUT", without_slash + "/" + query),
    ]


def test_append_slash_redirect_of_a_simple_get_is_followed(
    engine: Running,
    api: ServerProcess,
    policies: Callable[..., int],
    frontend: FrontendServer,
    request_log: Callable[[], list[tuple[int, str, str]]],
) -> None:
    policies("frontend", frontend.origin, path_prefix="/api/")
    marker = uuid.uuid4().hex
    without_slash = STATUS.rstrip("/")

    outcome = engine.page(frontend).fetch(f"{api.origin}{without_slash}?case={marker}")

    assert_read(outcome, 200)
    assert outcome.redirected
    assert outcome.json()["status"] == "ok"
    assert requests_for(request_log(), marker) == [
        ("GET", f"{without_slash}?case={marker}"),
        ("GET", f"{STATUS}?case={marker}"),
    ]


@pytest.mark.parametrize("null_allowed", [False, True], ids=["refused", "null-allowed"])
def test_cross_origin_redirect_arrives_with_the_null_origin(
    engine: Running,
    api: ServerProcess,
    hop: str,
    policies: Callable[..., int],
    frontend: FrontendServer,
    null_allowed: bool,
) -> None:
    entries: list[str | tuple[str, str]] = [frontend.origin]
    if null_allowed:
        entries.append(("null", ""))
    policies("frontend", *entries, path_prefix="/api/")
    target = unique(api.origin + STATUS)
    url = via(hop, target)

    outcome = engine.page(frontend).fetch(url)

    trace = probe(CorsRequest(url, frontend.origin, "GET"), timeout=5).trace
    if null_allowed:
        assert trace.failure is None
        assert_read(outcome, 200)
        assert outcome.redirected
        assert outcome.json()["status"] == "ok"
        return
    assert trace.failure is not None
    assert (trace.url, trace.failure.check) == (target, Check.ALLOW_ORIGIN_MISSING)
    # After the cross-origin hop the call carries Origin null, and WebKit names it.
    assert_refused(outcome, engine, trace_lines(engine.engine, trace))


@pytest.mark.parametrize("server", ["api", "asgi_api"])
def test_origin_added_then_removed_applies_without_restart(
    engine: Running,
    server: str,
    request: pytest.FixtureRequest,
    policies: Callable[..., int],
    frontend: FrontendServer,
    control: Control,
) -> None:
    base: str = request.getfixturevalue(server).origin
    other = f"http://localhost:{frontend_port(frontend)}"
    policies("live", other, **ORIGINS)
    page = engine.page(frontend)
    case = Core("live", EXACT, ORIGINS, headers=KEY)
    urls = [unique(base + STATUS) for _ in range(3)]

    before = page.fetch(urls[0], headers=KEY)
    predicted_before = explained(control, engine.engine, urls[0], frontend.origin, case, KEY)
    control("add_origin", policy="live", kind="exact", value=frontend.origin)
    added = page.fetch(urls[1], headers=KEY)
    control("remove_origin", policy="live", value=frontend.origin)
    removed = page.fetch(urls[2], headers=KEY)
    predicted_after = explained(control, engine.engine, urls[2], frontend.origin, case, KEY)

    assert_refused(before, engine, predicted_before["lines"])
    assert_read(added, 200)
    assert_refused(removed, engine, predicted_after["lines"])
    assert predicted_after["message"] == blocked_prefix(urls[2], frontend.origin) + (
        REFUSED_PREFLIGHT
    )
    assert control("origins", policy="live") == [other]


def test_removed_origin_cannot_write_on_a_cached_preflight(
    engine: Running,
    api: ServerProcess,
    policies: Callable[..., int],
    frontend: FrontendServer,
    control: Control,
    accounts: dict[str, str],
    request_log: Callable[[], list[tuple[int, str, str]]],
) -> None:
    """The README's scenario: the page keeps its preflight answer (Max-Age 600) after the
    origin is removed, so its next POST goes out without a preflight; the server refuses it.

    Both POSTs come from one document, as the demo page makes them: between them the page
    polls a simple GET until the removal refuses it too.
    """
    policies("demo-frontend", frontend.origin, **REST)
    marker = uuid.uuid4().hex
    url = f"{api.origin}/api/notes/?case={marker}"
    poll = f"{api.origin}{STATUS}?case={uuid.uuid4().hex}"
    headers = {**JSON, "Authorization": f"Token {accounts[ALICE]}"}
    write = {"url": url, "headers": headers, "body": json.dumps({"title": "kept", "body": ""})}
    notes = control("note_count")
    remover = threading.Thread(
        target=remove_after_the_first_write,
        args=(control, request_log, marker, frontend.origin),
    )
    remover.start()
    start = len(engine.driver.errors())
    try:
        seen = engine.driver.run(
            page_url(frontend), WRITE_POLL_WRITE_JS, {"write": write, "poll": poll, "limit": 200}
        )
    finally:
        remover.join()
    EnginePage(engine.driver, page_url(frontend)).settle(start)

    assert seen["first"]["status"] == 201, seen
    assert seen["second"] == {"error": engine.rejection}, seen
    assert control("note_count") == notes + 1, "the refused POST created nothing"
    assert [method for method, _ in requests_for(request_log(), marker)] == [
        "OPTIONS",
        "POST",
        "POST",
    ]
    refused_poll = f"{poll}&n={seen['polled']}"
    # The servers answer a refused write with the default refused status, and no grant header.
    expected = [
        *lines(
            engine.engine,
            CorsRequest(refused_poll, frontend.origin, "GET"),
            refused_poll,
            Failure(Check.ALLOW_ORIGIN_MISSING, Stage.ACTUAL, status=200),
        ),
        *lines(
            engine.engine,
            CorsRequest(url, frontend.origin, "POST", tuple(headers.items())),
            url,
            Failure(
                Check.ALLOW_ORIGIN_MISSING, Stage.ACTUAL, status=PreflightSettings.REFUSED_STATUS
            ),
        ),
    ]
    assert sorted(engine.driver.errors()[start:]) == sorted(expected)
    rows = [row for row in control.audit_rows(1) if row["origin"] == frontend.origin]
    assert [(r["reason"], r["request_method"]) for r in rows] == [
        ("request_refused_on_server", "POST")
    ]
    assert rows[0]["console_message"] == NO_ALLOW_ORIGIN


def remove_after_the_first_write(
    control: Control,
    request_log: Callable[[], list[tuple[int, str, str]]],
    marker: str,
    origin: str,
) -> None:
    """Remove ``origin`` from the policy once the servers have seen the page's first POST."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if "POST" in (m for m, _ in requests_for(request_log(), marker)):
            break
        time.sleep(0.05)
    control("remove_origin", policy="demo-frontend", value=origin)
