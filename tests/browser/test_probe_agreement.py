"""Chromium and ``django_preflight.probe`` judged on the same table of server behaviours.

Each behaviour of ``tests.cors_server`` is called from a page on another origin with the
behaviour's method, headers and credentials mode, all rows of a page at once. Chromium's verdict
must be the table's, the probe, sending the same requests from Python, must print the very line
Chromium printed, and the cause the probe names must be the row's.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from django_preflight.engine.address_space import AddressSpace
from django_preflight.engine.browser import CorsRequest
from django_preflight.probe import probe
from example_project.frontend_server import FrontendServer
from tests.cors_server import BEHAVIOURS, PAGE_PATH, Behaviour, Running, serve_pair

from .agreement import Call, run_calls
from .support import Outcome, page_url

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def cors_server() -> Iterator[Running]:
    """The configurable server on two ports of its own: other origins than the page's."""
    with serve_pair() as running:
        yield running


@pytest.fixture(scope="module")
def seen_by_chromium(
    chromium: Browser, cors_server: Running, frontend: FrontendServer
) -> dict[str, tuple[str, Outcome]]:
    """Every row called once in Chromium: the page's origin and what Chromium did."""
    seen: dict[str, tuple[str, Outcome]] = {}
    groups = {
        None: (page_url(frontend), frontend.origin),
        "public": (cors_server.other + PAGE_PATH, cors_server.other),
    }
    for space, (url, origin) in groups.items():
        rows = [b for b in BEHAVIOURS if b.page_space == space]
        calls = [
            Call(f"{cors_server.base}/{b.name}/", b.method, b.request_headers, b.credentials)
            for b in rows
        ]
        for behaviour, outcome in zip(rows, run_calls(chromium, url, calls), strict=True):
            seen[behaviour.name] = (origin, outcome)
    return seen


def test_the_table_covers_every_class() -> None:
    names = [b.name for b in BEHAVIOURS]
    assert len(set(names)) == len(names)
    assert sum(1 for name in names if name.startswith("redirect-") and "-30" in name) >= 3
    assert sum(1 for name in names if name.startswith("safe-")) >= 12


@pytest.mark.parametrize("behaviour", BEHAVIOURS, ids=lambda b: b.name)
def test_chromium_and_the_probe_agree(
    behaviour: Behaviour, cors_server: Running, seen_by_chromium: dict[str, tuple[str, Outcome]]
) -> None:
    origin, outcome = seen_by_chromium[behaviour.name]
    space = AddressSpace(behaviour.page_space) if behaviour.page_space else None
    report = probe(
        CorsRequest(
            f"{cors_server.base}/{behaviour.name}/",
            origin,
            behaviour.method,
            behaviour.request_headers,
            behaviour.credentials,
        ),
        timeout=5,
        address_space=space,
    )
    if behaviour.verdict is None:
        assert outcome.passed, outcome
        assert report.passed, report.message
        assert report.advice is None
        return
    assert outcome.message.split("CORS policy: ", 1)[1].startswith(behaviour.verdict), outcome
    assert report.message == outcome.message, "the probe's line differs from Chromium's"
    assert report.advice is not None
    assert behaviour.cause is not None
    assert report.advice.code == behaviour.cause.value
