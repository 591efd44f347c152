"""WebKit and the model judged on the scripted server's behaviours.

Every row is called from a page on another origin in a real WebKitGTK (a web view under its own
Xvfb, see ``webkit``); the probe, sending the same requests from Python, must predict WebKit's
verdict and, for the rows of ``SAME_WORDS``, the very console lines WebKit logged. The probe
sends what WebKit sends (``MODELS[Engine.WEBKIT].rules``), so the rows only WebKit refuses are
predicted too. The rows whose page lives in a public address space are called from such a page:
WebKit has no address-space check and lets them through, as the model says.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from django_preflight.engine.engines import MODELS, Engine
from example_project.frontend_server import FrontendServer
from tests.cors_server import PAGE_PATH, Running

from .agreement import CALL_ALL_JS, Call
from .deployments import Case
from .engine_table import CASES, predicted, same_words
from .support import page_url
from .webkit import WebKit, require

pytestmark = pytest.mark.browser

SETTLE_SECONDS = 0.5
# Rows only WebKit refuses, as the model's rules for it say: a User-Agent set by the page is
# sent and preflighted, and a redirect that turns a preflighted call into a GET still sends the
# target a preflight naming the original headers. The probe sends what WebKit sends.
WEBKIT_ONLY = frozenset(
    {
        "safe-user-agent-dropped",
        "redirect-303-put-becomes-get",
        "redirect-301-post-json-becomes-get",
    }
)
# Rows that only Chromium refuses, for the page's address space: WebKit passes them.
ADDRESS_SPACE = frozenset(case.name for case in CASES if case.page_space is not None)
SAME_WORDS = same_words(ADDRESS_SPACE, frozenset()) + tuple(
    case for case in CASES if case.name in WEBKIT_ONLY
)

Seen = dict[str, tuple[str, dict[str, object], list[str]]]


@pytest.fixture(scope="module")
def webkit() -> Iterator[WebKit]:
    """A WebKitGTK web view under its own Xvfb for this module; both stopped afterwards."""
    browser = WebKit(require())
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def seen_by_webkit(webkit: WebKit, cors_server: Running, frontend: FrontendServer) -> Seen:
    """Each row called once, on a freshly loaded page: the page's origin, the fetch's outcome
    and WebKit's console errors."""
    seen = {}
    for case in CASES:
        page, origin = page_url(frontend), frontend.origin
        if case.page_space is not None:
            page, origin = cors_server.other + PAGE_PATH, cors_server.other
        webkit.events.clear()
        call = Call(case.url(cors_server.base), case.method, case.headers, case.credentials)
        (outcome,) = webkit.run(page, CALL_ALL_JS, [call.as_argument()])
        webkit.drain(SETTLE_SECONDS if "error" in outcome else 0)
        seen[case.name] = (origin, outcome, webkit.errors())
    return seen


def test_the_table_is_wide_enough() -> None:
    assert len(SAME_WORDS) >= 25
    assert len(CASES) >= 30


def test_a_page_that_never_answers_fails_the_call_and_no_more(
    webkit: WebKit, frontend: FrontendServer
) -> None:
    webkit.command("load", url=page_url(frontend))
    with pytest.raises(RuntimeError, match="no answer to call within 1 s"):
        webkit.command("call", seconds=1, function="() => new Promise(() => {})", argument="0")
    assert webkit.run(page_url(frontend), "async (n) => n + 1", 41) == 42


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_webkit_and_the_probe_agree_on_the_verdict(
    case: Case, cors_server: Running, seen_by_webkit: Seen
) -> None:
    origin, outcome, _ = seen_by_webkit[case.name]
    passed, _ = predicted(Engine.WEBKIT, case, cors_server.base, origin)
    assert passed == ("error" not in outcome), outcome
    chromium_passes = case.verdict is None or case.name in ADDRESS_SPACE
    assert passed == (chromium_passes and case.name not in WEBKIT_ONLY)
    if not passed:
        assert outcome["error"] == MODELS[Engine.WEBKIT].rejection


@pytest.mark.parametrize("case", SAME_WORDS, ids=[case.name for case in SAME_WORDS])
def test_webkit_logs_the_lines_the_model_predicts(
    case: Case, cors_server: Running, seen_by_webkit: Seen
) -> None:
    origin, _, logged = seen_by_webkit[case.name]
    _, expected = predicted(Engine.WEBKIT, case, cors_server.base, origin)
    assert expected, "a row of SAME_WORDS must be one WebKit refuses"
    assert logged == list(expected)
    assert not re.search(r"\{\w+\}", " ".join(expected))
