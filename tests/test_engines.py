"""The three-engine table: each engine's words for a failure, as the engines were seen to log."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from django_preflight.engine.browser import Check, CorsRequest, Failure, RawResponse, Stage
from django_preflight.engine.engines import (
    ALL_ENGINES,
    FIREFOX,
    FIREFOX_BLOCKED,
    MODELS,
    WEBKIT,
    Engine,
    every_sentence,
    lines,
    parse_pasted,
    trace_lines,
)
from django_preflight.engine.explain import console_lines
from django_preflight.engine.fetch import Trace, follow

URL = "http://api.example/notes/"
CALL = CorsRequest(URL, "http://app.example", "PUT", (("X-Api-Key", "k"),))
BLOCKED = (
    "Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource "
    f"at {URL}. "
)


def test_every_engine_words_every_check() -> None:
    assert set(FIREFOX) == set(WEBKIT) == set(Check)
    assert set(MODELS) == set(ALL_ENGINES)


def test_firefox_quotes_the_status_of_a_404_preflight() -> None:
    failure = Failure(Check.ALLOW_ORIGIN_MISSING, Stage.PREFLIGHT, status=404)
    assert lines(Engine.FIREFOX, CALL, URL, failure) == (
        BLOCKED + "(Reason: CORS header \u2018Access-Control-Allow-Origin\u2019 missing). "
        "Status code: 404.",
        BLOCKED + "(Reason: CORS request did not succeed). Status code: (null).",
    )


def test_firefox_logs_one_line_when_the_response_itself_is_refused() -> None:
    failure = Failure(Check.ALLOW_ORIGIN_MISSING, Stage.ACTUAL, status=200)
    assert len(lines(Engine.FIREFOX, CALL, URL, failure)) == 1


def test_webkit_fails_a_non_2xx_preflight_on_its_status() -> None:
    failure = Failure(Check.ALLOW_ORIGIN_MISSING, Stage.PREFLIGHT, status=404)
    assert lines(Engine.WEBKIT, CALL, URL, failure) == (
        "Preflight response is not successful. Status code: 404",
        f"Fetch API cannot load {URL} due to access control checks.",
    )


def test_webkit_quotes_a_header_name_as_the_page_wrote_it() -> None:
    failure = Failure(Check.HEADER_NOT_ALLOWED, Stage.PREFLIGHT, "x-api-key", status=204)
    assert lines(Engine.WEBKIT, CALL, URL, failure)[0] == (
        "Request header field X-Api-Key is not allowed by Access-Control-Allow-Headers."
    )
    chromium = lines(Engine.CHROMIUM, CALL, URL, failure)[0]
    assert "Request header field x-api-key is not allowed" in chromium


def _trace(request: CorsRequest, *answers: RawResponse) -> Trace:
    """A trace followed as Chromium follows it against canned answers, one per request."""
    return _recorded(Engine.CHROMIUM, request, *answers)[0]


def test_webkit_names_the_target_of_a_refused_redirect() -> None:
    call = CorsRequest(URL, "http://app.example")
    trace = _trace(call, RawResponse(302, (("Location", "/login/"),)))
    assert trace_lines(Engine.WEBKIT, trace) == (
        "Cross-origin redirection to http://api.example/login/ denied by Cross-Origin Resource "
        "Sharing policy: Origin http://app.example is not allowed by "
        "Access-Control-Allow-Origin. Status code: 302",
        f"Fetch API cannot load {URL} due to access control checks.",
    )


def test_webkit_quotes_the_null_origin_sent_after_a_cross_origin_redirect() -> None:
    call = CorsRequest(URL, "http://app.example")
    moved = (("Location", "http://other.example/notes/"), ("Access-Control-Allow-Origin", "*"))
    trace = _trace(call, RawResponse(302, moved), RawResponse(200))
    assert trace_lines(Engine.WEBKIT, trace) == (
        "Origin null is not allowed by Access-Control-Allow-Origin. Status code: 200",
        "Fetch API cannot load http://other.example/notes/ due to access control checks.",
    )


def test_webkit_quotes_an_unparseable_list_whole() -> None:
    granted = (("Access-Control-Allow-Origin", "http://app.example"),)
    answer = RawResponse(204, (*granted, ("Access-Control-Allow-Methods", "GET, PUT; x")))
    assert trace_lines(Engine.WEBKIT, _trace(CALL, answer))[0] == (
        "Header Access-Control-Allow-Methods has an invalid value: GET, PUT; x"
    )


def test_webkit_words_too_many_redirects() -> None:
    loop = RawResponse(302, (("Location", URL), ("Access-Control-Allow-Origin", "*")))
    trace = _trace(CorsRequest(URL, "http://app.example"), *[loop] * 21)
    assert trace_lines(Engine.WEBKIT, trace) == (
        "Load cannot follow more than 20 redirections",
        f"Fetch API cannot load {URL} due to access control checks.",
    )


Sent = list[tuple[str, tuple[tuple[str, str], ...]]]


def _recorded(engine: Engine, request: CorsRequest, *answers: RawResponse) -> tuple[Trace, Sent]:
    """A trace followed by ``engine``'s rules against canned answers, and what was sent."""
    sent: Sent = []

    def send(url: str, method: str, headers: tuple[tuple[str, str], ...]) -> RawResponse:
        sent.append((method, headers))
        return answers[len(sent) - 1]

    return follow(request, send, rules=MODELS[engine].rules), sent


def test_webkit_sends_and_preflights_a_user_agent_set_by_the_page() -> None:
    call = CorsRequest(URL, "http://app.example", "GET", (("User-Agent", "probe/1"),))
    served = RawResponse(200, (("Access-Control-Allow-Origin", "*"),))
    _, chromium = _recorded(Engine.CHROMIUM, call, served)
    assert chromium == [("GET", (("Origin", "http://app.example"),))]
    trace, sent = _recorded(Engine.WEBKIT, call, RawResponse(204))
    assert sent[0][0] == "OPTIONS"
    assert ("Access-Control-Request-Headers", "user-agent") in sent[0][1]
    assert trace_lines(Engine.WEBKIT, trace)[0] == (
        "Origin http://app.example is not allowed by Access-Control-Allow-Origin. Status code: 204"
    )


def test_webkit_preflights_a_redirect_to_get_for_the_original_headers() -> None:
    call = CorsRequest(URL, "http://app.example", "PUT", (("Content-Type", "application/json"),))
    origin = (("Access-Control-Allow-Origin", "http://app.example"),)
    granted = RawResponse(
        204,
        (
            *origin,
            ("Access-Control-Allow-Methods", "PUT"),
            ("Access-Control-Allow-Headers", "content-type"),
        ),
    )
    moved = RawResponse(303, (("Location", "/done/"), *origin))
    served = RawResponse(200, origin)
    chromium, sent = _recorded(Engine.CHROMIUM, call, granted, moved, served)
    assert chromium.passed
    assert [method for method, _ in sent] == ["OPTIONS", "PUT", "GET"]
    webkit, sent = _recorded(Engine.WEBKIT, call, granted, moved, RawResponse(204, origin))
    assert [method for method, _ in sent] == ["OPTIONS", "PUT", "OPTIONS"]
    assert ("Access-Control-Request-Method", "GET") in sent[2][1]
    assert ("Access-Control-Request-Headers", "content-type") in sent[2][1]
    assert webkit.failure is not None
    assert webkit.failure.check is Check.HEADER_NOT_ALLOWED


def test_firefox_follows_the_same_rules_as_webkit() -> None:
    # A User-Agent set by the page is sent and preflighted; a redirect to GET asks again.
    assert MODELS[Engine.FIREFOX].rules == MODELS[Engine.WEBKIT].rules
    assert MODELS[Engine.FIREFOX].rules.sent_anyway == frozenset({"user-agent"})
    assert MODELS[Engine.FIREFOX].rules.asks_again_after_get
    call = CorsRequest(URL, "http://app.example", "GET", (("User-Agent", "probe/1"),))
    trace, sent = _recorded(Engine.FIREFOX, call, RawResponse(204))
    assert sent[0][0] == "OPTIONS"
    assert ("Access-Control-Request-Headers", "user-agent") in sent[0][1]
    assert trace_lines(Engine.FIREFOX, trace) == (
        BLOCKED + "(Reason: CORS header \u2018Access-Control-Allow-Origin\u2019 missing). "
        "Status code: 204.",
        BLOCKED + "(Reason: CORS request did not succeed). Status code: (null).",
    )


def test_firefox_reads_one_allow_origin_line_holding_a_list_as_a_mismatch() -> None:
    listed = "http://app.example, https://b.example"
    answer = RawResponse(204, (("Access-Control-Allow-Origin", listed),))
    trace = _trace(CALL, answer)
    assert trace.failure is not None
    assert trace.failure.check is Check.ALLOW_ORIGIN_MULTIPLE
    assert trace_lines(Engine.FIREFOX, trace)[0] == (
        BLOCKED + "(Reason: CORS header \u2018Access-Control-Allow-Origin\u2019 does not match "
        f"\u2018{listed}\u2019)."
    )
    twice = RawResponse(
        204,
        (
            ("Access-Control-Allow-Origin", "http://app.example"),
            ("Access-Control-Allow-Origin", "http://app.example"),
        ),
    )
    assert trace_lines(Engine.FIREFOX, _trace(CALL, twice))[0] == (
        BLOCKED + "(Reason: Multiple CORS header \u2018Access-Control-Allow-Origin\u2019 not "
        "allowed)."
    )


def test_firefox_checks_a_redirected_preflight_for_allow_origin_first() -> None:
    not_succeeded = BLOCKED + "(Reason: CORS request did not succeed). Status code: (null)."
    bare = _trace(CALL, RawResponse(302, (("Location", "/login/"),)))
    assert trace_lines(Engine.FIREFOX, bare) == (
        BLOCKED + "(Reason: CORS header \u2018Access-Control-Allow-Origin\u2019 missing). "
        "Status code: 302.",
        not_succeeded,
        not_succeeded,
    )
    granted = (("Location", "/notes"), ("Access-Control-Allow-Origin", "http://app.example"))
    moved = _trace(CALL, RawResponse(301, granted))
    assert trace_lines(Engine.FIREFOX, moved) == (
        BLOCKED + "(Reason: CORS request external redirect not allowed).",
        BLOCKED + "(Reason: CORS preflight response did not succeed). Status code: 301.",
        not_succeeded,
    )


def test_firefox_logs_only_the_network_error_for_too_many_redirects() -> None:
    loop = RawResponse(302, (("Location", URL), ("Access-Control-Allow-Origin", "*")))
    trace = _trace(CorsRequest(URL, "http://app.example"), *[loop] * 21)
    assert trace_lines(Engine.FIREFOX, trace) == (
        BLOCKED + "(Reason: CORS request did not succeed). Status code: (null).",
    )


def test_only_chromium_checks_address_spaces() -> None:
    failure = Failure(Check.ADDRESS_SPACE, Stage.ACTUAL, "loopback")
    assert lines(Engine.FIREFOX, CALL, URL, failure) == ()
    assert lines(Engine.WEBKIT, CALL, URL, failure) == ()
    assert [m.engine for m in MODELS.values() if m.checks_address_space] == [Engine.CHROMIUM]


def test_max_age_caps_differ() -> None:
    assert {e: m.max_age_cap for e, m in MODELS.items()} == {
        Engine.CHROMIUM: 7200,
        Engine.FIREFOX: 86400,
        Engine.WEBKIT: 600,
    }


def _docs_text() -> str:
    """The troubleshooting page as a reader sees it: quotes unwrapped, escapes undone."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "troubleshooting.md").read_text()
    text = re.sub(r"\n> ?", " ", text)
    for escaped, plain in (("&lt;", "<"), ("&gt;", ">"), ("\\*", "*"), ("\\`", "`")):
        text = text.replace(escaped, plain)
    return text


@pytest.mark.parametrize("engine", ALL_ENGINES, ids=[engine.value for engine in ALL_ENGINES])
def test_troubleshooting_lists_every_sentence_of_every_engine(engine: Engine) -> None:
    text = _docs_text()
    missing = []
    for template in (*every_sentence(engine), FIREFOX_BLOCKED):
        parts = re.split(r"\{\w+\}", template)
        if not re.search(".*?".join(re.escape(part) for part in parts), text):
            missing.append(template)
    assert missing == []


@pytest.mark.parametrize("status", [204, 403])
def test_a_pasted_line_of_any_engine_gives_back_the_call_it_was_made_for(status: int) -> None:
    url, origin = "https://api.example/caf%C3%A9/?page=2", "https://app.example"
    # Firefox never names the origin; WebKit only when Allow-Origin is what failed, and a
    # non-2xx preflight fails on its status first.
    names_origin = {Engine.CHROMIUM: True, Engine.FIREFOX: False, Engine.WEBKIT: status < 300}
    for engine, logged in console_lines(origin, url, "PUT", status).items():
        pasted = parse_pasted("\n".join(logged))
        assert pasted is not None, engine
        assert pasted.url == url, engine
        assert pasted.origin == (origin if names_origin[engine] else None), engine
