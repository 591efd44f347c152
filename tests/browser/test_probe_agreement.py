"""Chromium and ``django_preflight.probe`` judged on the same table of server behaviours.

Three deployments: the scripted server (``tests.cors_server``), nginx in front of it, and a
Django + DRF API behind django-cors-headers under gunicorn. Every case is called from a page on
another origin with its method, headers and credentials mode, all cases of a page at once.
Chromium's verdict must be the table's, the probe, sending the same requests from Python, must
print the very line Chromium printed, and the cause it names must be the case's.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from django_preflight.engine.address_space import AddressSpace
from django_preflight.engine.browser import CorsRequest
from django_preflight.probe import probe
from example_project.frontend_server import FrontendServer
from tests.cors_server import BEHAVIOURS, PAGE_PATH, Running, serve_pair

from .agreement import Call, run_calls
from .control import Control
from .deployments import (
    DRF_CASES,
    NGINX_CASES,
    NGINX_TABLE_CONF,
    PREFLIGHT_CASES,
    PREFLIGHT_POLICY,
    Case,
    scripted,
)
from .servers import Nginx, ServerProcess, gunicorn, require_nginx, running
from .support import Outcome, page_url

pytestmark = pytest.mark.browser

TABLE: tuple[tuple[str, Case], ...] = (
    *(("scripted", scripted(behaviour)) for behaviour in BEHAVIOURS),
    *(("nginx", case) for case in NGINX_CASES),
    *(("drf", case) for case in DRF_CASES),
    *(("preflight", case) for case in PREFLIGHT_CASES),
)


@pytest.fixture(scope="module")
def cors_server() -> Iterator[Running]:
    """The configurable server on two ports of its own: other origins than the page's."""
    with serve_pair() as server:
        yield server


@pytest.fixture(scope="module")
def nginx_front(cors_server: Running, workdir: Path) -> Iterator[str]:
    """nginx in front of the scripted server; its base URL."""
    require_nginx()
    prefix = workdir / "nginx-table"
    (prefix / "static").mkdir(parents=True)
    (prefix / "static" / "notes.json").write_text("[]")
    upstream = int(cors_server.base.rsplit(":", 1)[1])
    proxy = Nginx(prefix, upstream, template=NGINX_TABLE_CONF).start()
    try:
        yield f"http://127.0.0.1:{proxy.forward_port}"
    finally:
        proxy.stop()


@pytest.fixture(scope="module")
def drf_api(workdir: Path) -> Iterator[ServerProcess]:
    """The DRF API behind django-cors-headers under gunicorn."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.corsheaders_site.settings"}
    server = gunicorn(
        "gunicorn-corsheaders",
        env,
        workdir,
        workers=1,
        application="tests.corsheaders_site.wsgi:application",
    )
    yield from running(server)


@pytest.fixture(scope="module")
def preflight_api(api: ServerProcess, control: Control, frontend: FrontendServer) -> str:
    """The example project with django-preflight, one policy for the page on /api/."""
    control("reset")
    control("policy", name="table", origins=[["exact", frontend.origin]], **PREFLIGHT_POLICY)
    return api.origin


@pytest.fixture(scope="module")
def bases(
    cors_server: Running, nginx_front: str, drf_api: ServerProcess, preflight_api: str
) -> dict[str, str]:
    """Each deployment's base URL."""
    return {
        "scripted": cors_server.base,
        "nginx": nginx_front,
        "drf": drf_api.origin,
        "preflight": preflight_api,
    }


@pytest.fixture(scope="module")
def seen_by_chromium(
    chromium: Browser, cors_server: Running, frontend: FrontendServer, bases: dict[str, str]
) -> dict[str, tuple[str, Outcome]]:
    """Every case called once in Chromium: the page's origin and what Chromium did."""
    seen: dict[str, tuple[str, Outcome]] = {}
    pages = {
        None: (page_url(frontend), frontend.origin),
        "public": (cors_server.other + PAGE_PATH, cors_server.other),
    }
    for space, (url, origin) in pages.items():
        rows = [(server, case) for server, case in TABLE if case.page_space == space]
        calls = [
            Call(case.url(bases[server]), case.method, case.headers, case.credentials)
            for server, case in rows
        ]
        for (server, case), outcome in zip(rows, run_calls(chromium, url, calls), strict=True):
            seen[f"{server}-{case.name}"] = (origin, outcome)
    return seen


def test_the_table_covers_every_class() -> None:
    ids = [f"{server}-{case.name}" for server, case in TABLE]
    assert len(set(ids)) == len(ids) >= 80
    assert sum(1 for server, case in TABLE if server == "scripted" and "redirect" in case.name) >= 8
    assert sum(1 for server, case in TABLE if case.name.startswith("safe-")) >= 12
    assert {server for server, _ in TABLE} == {"scripted", "nginx", "drf", "preflight"}


@pytest.mark.parametrize(("server", "case"), TABLE, ids=[f"{s}-{c.name}" for s, c in TABLE])
def test_chromium_and_the_probe_agree(
    server: str,
    case: Case,
    bases: dict[str, str],
    seen_by_chromium: dict[str, tuple[str, Outcome]],
    control: Control,
) -> None:
    origin, outcome = seen_by_chromium[f"{server}-{case.name}"]
    space = AddressSpace(case.page_space) if case.page_space else None
    call = CorsRequest(case.url(bases[server]), origin, case.method, case.headers, case.credentials)
    report = probe(call, timeout=5, address_space=space)
    explained = None
    if server == "preflight":
        explained = control(
            "explain",
            url=call.url,
            origin=origin,
            method=call.method,
            headers=[list(h) for h in call.headers],
            credentials=call.credentials,
        )
    if case.verdict is None:
        assert outcome.passed, outcome
        assert report.passed, report.message
        assert report.advice is None
        if explained is not None:
            assert explained == {"message": None, "code": None}
        return
    if explained is not None:
        assert explained == {"message": outcome.message, "code": case.explained}
    assert outcome.message.split("CORS policy: ", 1)[-1].startswith(case.verdict), outcome
    assert report.message == outcome.message, "the probe's line differs from Chromium's"
    assert report.advice is not None
    assert case.cause is not None
    assert report.advice.code == case.cause.value
