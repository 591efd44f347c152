"""Firefox and the model judged on the scripted server's behaviours.

Every row is called from a page on another origin in a real Firefox ESR (over WebDriver BiDi);
the probe, sending the same requests from Python, must predict Firefox's verdict and, for the
rows of ``SAME_WORDS``, the very console lines Firefox logged. The rows where Firefox departs
from Chromium's behaviour are pinned in ``FIREFOX_REFUSES``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from django_preflight.engine.engines import MODELS, Engine
from example_project.frontend_server import FrontendServer
from tests.cors_server import Running, serve_pair

from .agreement import CALL_ALL_JS, Call
from .deployments import Case
from .engine_table import CASES, predicted, same_words
from .firefox import Firefox, require
from .support import page_url

pytestmark = pytest.mark.browser

SETTLE_SECONDS = 0.5
# Rows where Firefox refuses a call Chromium lets through: a User-Agent set by the page is sent
# (and preflighted), and a redirect that turns a preflighted call into a GET is refused.
FIREFOX_REFUSES = frozenset(
    {
        "safe-user-agent-dropped",
        "redirect-303-put-becomes-get",
        "redirect-301-post-json-becomes-get",
    }
)
# Rows where Firefox refuses with other words than the model's checks, in Chromium's order,
# give it: a list in one Allow-Origin line, a redirected preflight, a redirect loop.
OTHER_WORDS = frozenset({"origin-list", "redirect-302", "redirect-loop"})
SAME_WORDS = same_words(FIREFOX_REFUSES, OTHER_WORDS)


@pytest.fixture(scope="module")
def firefox() -> Iterator[Firefox]:
    """A Firefox ESR with a fresh profile for this module, stopped (and its profile removed)."""
    browser = Firefox(require())
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def cors_server() -> Iterator[Running]:
    """The scripted server on two ports of its own."""
    with serve_pair() as server:
        yield server


@pytest.fixture(scope="module")
def seen_by_firefox(
    firefox: Firefox, cors_server: Running, frontend: FrontendServer
) -> dict[str, tuple[dict[str, object], list[str]]]:
    """Each row called once, in its own tab: the fetch's outcome and Firefox's console lines."""
    seen = {}
    for case in CASES:
        firefox.events.clear()
        call = Call(case.url(cors_server.base), case.method, case.headers, case.credentials)
        (outcome,) = firefox.run(page_url(frontend), CALL_ALL_JS, [call.as_argument()])
        firefox.drain(SETTLE_SECONDS if "error" in outcome else 0)
        seen[case.name] = (outcome, firefox.errors())
    return seen


def test_the_table_is_wide_enough() -> None:
    assert len(SAME_WORDS) >= 25
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_firefox_and_the_probe_agree_on_the_verdict(
    case: Case,
    cors_server: Running,
    frontend: FrontendServer,
    seen_by_firefox: dict[str, tuple[dict[str, object], list[str]]],
) -> None:
    outcome, _ = seen_by_firefox[case.name]
    passed, _ = predicted(Engine.FIREFOX, case, cors_server.base, frontend.origin)
    if case.name in FIREFOX_REFUSES:
        assert passed
        assert "error" in outcome, outcome
        return
    assert passed == ("error" not in outcome), outcome
    if not passed:
        assert outcome["error"] == MODELS[Engine.FIREFOX].rejection


@pytest.mark.parametrize("case", SAME_WORDS, ids=[case.name for case in SAME_WORDS])
def test_firefox_logs_the_lines_the_model_predicts(
    case: Case,
    cors_server: Running,
    frontend: FrontendServer,
    seen_by_firefox: dict[str, tuple[dict[str, object], list[str]]],
) -> None:
    _, logged = seen_by_firefox[case.name]
    _, expected = predicted(Engine.FIREFOX, case, cors_server.base, frontend.origin)
    assert logged == list(expected)
    assert not re.search(r"\{\w+\}", " ".join(expected))
