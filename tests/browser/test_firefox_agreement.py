"""Firefox and the model judged on the scripted server's behaviours.

Every row is called from a page on another origin in a real Firefox ESR (over WebDriver BiDi);
the probe, sending the same requests from Python, must predict Firefox's verdict and, for the
rows of ``SAME_WORDS``, the very console lines Firefox logged. The probe sends what Firefox
sends (``MODELS[Engine.FIREFOX].rules``), so the rows only Firefox refuses are predicted too.
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
# Rows only Firefox refuses, as the model's rules for it say: a User-Agent set by the page is
# sent and preflighted, and a redirect that turns a preflighted call into a GET sends the target
# a preflight naming the original headers. The probe sends what Firefox sends.
FIREFOX_ONLY = frozenset(
    {
        "safe-user-agent-dropped",
        "redirect-303-put-becomes-get",
        "redirect-301-post-json-becomes-get",
    }
)
# Rows whose lines the model cannot word as Firefox logs them: none, every refusal's words
# follow from the server's answers.
OTHER_WORDS: frozenset[str] = frozenset()
# Rows that only Chromium refuses, for the page's address space: Firefox passes them.
ADDRESS_SPACE = frozenset(case.name for case in CASES if case.page_space is not None)
SAME_WORDS = same_words(ADDRESS_SPACE | OTHER_WORDS, frozenset()) + tuple(
    case for case in CASES if case.name in FIREFOX_ONLY
)


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
    assert passed == ("error" not in outcome), outcome
    chromium_passes = case.verdict is None or case.name in ADDRESS_SPACE
    assert passed == (chromium_passes and case.name not in FIREFOX_ONLY)
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
    assert expected, "a row of SAME_WORDS must be one Firefox refuses"
    assert logged == list(expected)
    assert not re.search(r"\{\w+\}", " ".join(expected))
