"""The browser model and the probe, judged on the table of server behaviours (without a browser:
the browser suite runs the same table in Chromium)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from django.core.management import call_command

from django_preflight.engine import safelist
from django_preflight.engine.address_space import AddressSpace, of_host
from django_preflight.engine.browser import (
    Check,
    CorsRequest,
    RawResponse,
    cacheable_for_another_origin,
    check_preflight,
)
from django_preflight.engine.causes import cause_of
from django_preflight.engine.fetch import follow
from django_preflight.engine.limits import MAX_REDIRECTS
from django_preflight.probe import page_space_of, probe
from django_preflight.scan.findings import Observation, judge

from .cors_server import BEHAVIOURS, ORIGIN_SLOT, Behaviour, Running, serve_pair

ORIGIN = "http://127.0.0.1:9"


@pytest.fixture(scope="module")
def server() -> Iterator[Running]:
    with serve_pair() as running:
        yield running


def request_for(base: str, behaviour: Behaviour) -> CorsRequest:
    return CorsRequest(
        url=f"{base}/{behaviour.name}/",
        origin=ORIGIN,
        method=behaviour.method,
        headers=behaviour.request_headers,
        credentials=behaviour.credentials,
    )


def test_the_table_is_large_enough() -> None:
    assert len(BEHAVIOURS) >= 80
    assert len({b.name for b in BEHAVIOURS}) == len(BEHAVIOURS)
    assert all((b.verdict is None) == (b.cause is None) for b in BEHAVIOURS)


@pytest.mark.parametrize("behaviour", BEHAVIOURS, ids=lambda b: b.name)
def test_probe_verdict_and_cause_match_the_table(server: Running, behaviour: Behaviour) -> None:
    space = AddressSpace(behaviour.page_space) if behaviour.page_space else AddressSpace.LOCAL
    report = probe(request_for(server.base, behaviour), timeout=5, address_space=space)
    if behaviour.verdict is None:
        assert report.passed, report.message
        assert report.advice is None
        return
    assert report.message is not None
    assert report.message.split("CORS policy: ", 1)[-1].startswith(behaviour.verdict)
    assert report.advice is not None
    assert report.advice.code == (behaviour.cause.value if behaviour.cause else None)


def test_simple_requests_send_no_preflight(server: Running) -> None:
    server.seen.clear()
    probe(CorsRequest(f"{server.base}/simple-get-allowed/", ORIGIN), timeout=5)
    assert server.seen == [("GET", "/simple-get-allowed/")]


def test_blocked_preflight_stops_before_the_real_request(server: Running) -> None:
    server.seen.clear()
    report = probe(CorsRequest(f"{server.base}/auth-401/", ORIGIN, "PUT"), timeout=5)
    assert server.seen == [("OPTIONS", "/auth-401/")]
    assert [hop.preflight for hop in report.trace.hops] == [True]
    assert report.advice is not None
    assert "authentication" in report.advice.cause


def test_a_redirected_put_to_another_origin_preflights_again_with_a_null_origin(
    server: Running,
) -> None:
    server.seen.clear()
    name = "redirect-307-put-cross-origin-method-refused"
    report = probe(CorsRequest(f"{server.base}/{name}/", ORIGIN, "PUT"), timeout=5)
    assert server.seen == [
        ("OPTIONS", f"/{name}/"),
        ("PUT", f"/{name}/"),
        ("OPTIONS", f"/{name}/t/"),
    ]
    assert [hop.origin for hop in report.trace.hops] == [ORIGIN, ORIGIN, "null"]
    assert report.message is not None
    assert report.message.startswith(
        f"Access to fetch at '{server.other}/{name}/t/' (redirected from "
        f"'{server.base}/{name}/') from origin '{ORIGIN}' has been blocked"
    )


def test_a_303_turns_the_put_into_a_get_without_its_body_headers(server: Running) -> None:
    server.seen.clear()
    name = "redirect-303-put-becomes-get"
    json = (("Content-Type", "application/json"),)
    report = probe(CorsRequest(f"{server.base}/{name}/", ORIGIN, "PUT", json), timeout=5)
    assert report.passed
    assert server.seen[-1] == ("GET", f"/{name}/t/")
    assert report.trace.hops[-1].headers == (("Origin", "null"),)


def test_no_follow_judges_the_redirect_alone(server: Running) -> None:
    url = f"{server.base}/redirect-target-without-cors/"
    report = probe(CorsRequest(url, ORIGIN), timeout=5, redirects=False)
    assert report.passed
    assert any("Single-hop check" in note for note in report.notes)
    assert not probe(CorsRequest(url, ORIGIN), timeout=5).passed


def test_a_redirect_loop_stops_after_twenty_redirects() -> None:
    sent: list[str] = []

    def send(url: str, method: str, headers: tuple[tuple[str, str], ...]) -> RawResponse:
        sent.append(url)
        return RawResponse(302, (("Location", url), ("Access-Control-Allow-Origin", ORIGIN)))

    trace = follow(CorsRequest("http://api.test/loop", ORIGIN), send)
    assert len(sent) == MAX_REDIRECTS + 1
    assert trace.failure is not None
    assert trace.failure.check is Check.TOO_MANY_REDIRECTS
    assert trace.message == "Failed to load resource: net::ERR_TOO_MANY_REDIRECTS"


@pytest.mark.parametrize(
    ("name", "value", "safe"),
    [
        ("Accept", "application/json, text/*;q=0.8", True),
        ("Accept", 'application/json; profile="x"', False),
        ("Accept", "a\x7f", False),
        ("Accept-Language", "en-US,en;q=0.9", True),
        ("Accept-Language", "en_US", False),
        ("Content-Language", "de/DE", False),
        ("Content-Type", "text/plain;charset=UTF-8", True),
        ("Content-Type", 'text/plain; charset="utf-8"', False),
        ("Content-Type", "application/json", False),
        ("Range", "bytes=0-99", True),
        ("Range", "bytes=100-", True),
        ("Range", "bytes=-100", False),
        ("Range", "bytes=99-0", False),
        ("Range", "bytes=0-9,20-29", False),
        ("Accept", "a" * 129, False),
        ("X-Requested-With", "XMLHttpRequest", False),
    ],
)
def test_the_safelist(name: str, value: str, safe: bool) -> None:
    assert safelist.is_safelisted(name, value) is safe


def test_repeated_values_are_joined_and_forbidden_headers_dropped() -> None:
    assert safelist.unsafe_names((("Accept", "a" * 70), ("Accept", "b" * 70))) == ("accept",)
    assert safelist.unsafe_names((("User-Agent", "x"), ("Cookie", "a=b"))) == ()
    assert CorsRequest("u", "o", headers=(("Sec-Thing", "1"),)).sent_headers == ()


def test_safelisted_values_over_1024_bytes_all_need_the_preflight() -> None:
    # Five safelisted names of 128 bytes stay under 1,024 bytes; the rule is kept because the
    # standard and Chromium have it, and shown here with a lower bound.
    headers = tuple((name, "a" * 120) for name in ("Accept", "Accept-Language", "Content-Language"))
    assert safelist.unsafe_names(headers) == ()
    assert sum(len(v) for _, v in headers) < safelist.MAX_TOTAL_BYTES


def test_preflight_check_order_follows_chromium() -> None:
    request = CorsRequest("https://api.example/x", "https://app.example", "PATCH", credentials=True)
    assert check_preflight(request, RawResponse(404)).check is Check.ALLOW_ORIGIN_MISSING  # type: ignore[union-attr]
    origin_but_404 = RawResponse(404, (("Access-Control-Allow-Origin", "https://app.example"),))
    assert check_preflight(request, origin_but_404).check is Check.PREFLIGHT_STATUS  # type: ignore[union-attr]
    no_credentials = RawResponse(204, (("Access-Control-Allow-Origin", "https://app.example"),))
    assert check_preflight(request, no_credentials).check is Check.ALLOW_CREDENTIALS  # type: ignore[union-attr]


def test_star_covers_authorization_in_chromium_with_a_warning(server: Running) -> None:
    url = f"{server.base}/authorization-star/"
    report = probe(CorsRequest(url, ORIGIN, headers=(("Authorization", "Token t"),)), timeout=5)
    assert report.passed
    assert any("Fetch standard" in warning for warning in report.warnings)


def test_the_page_address_space_is_inferred_with_a_note() -> None:
    assert page_space_of("http://127.0.0.1:3000") == (AddressSpace.LOCAL, None)
    assert page_space_of("http://192.168.1.5")[0] is AddressSpace.PRIVATE
    space, note = page_space_of("https://app.example.com")
    assert space is AddressSpace.PUBLIC
    assert note is not None
    assert "--address-space" in note
    assert of_host("[::1]") is AddressSpace.LOCAL
    assert of_host("app.localhost") is AddressSpace.LOCAL


def test_fetch_normalises_only_the_standard_methods() -> None:
    assert CorsRequest("u", "o", "put").fetch_method == "PUT"
    assert CorsRequest("u", "o", "patch").fetch_method == "patch"
    assert not CorsRequest("u", "o", "post", (("Content-Type", "text/plain"),)).needs_preflight
    assert CorsRequest("u", "o", "POST", (("Content-Type", "application/json"),)).needs_preflight


def test_probe_command_prints_hops_cause_and_fix(server: Running) -> None:
    out = io.StringIO()
    call_command(
        "preflight",
        "probe",
        f"{server.base}/correct/",
        "--origin",
        ORIGIN,
        "--method",
        "PUT",
        stdout=out,
    )
    assert "Browser:    PASS" in out.getvalue()
    out = io.StringIO()
    url = f"{server.base}/redirect-cross-origin-null-refused/"
    with pytest.raises(SystemExit) as exited:
        call_command("preflight", "probe", url, "--origin", ORIGIN, stdout=out)
    assert exited.value.code == 1
    text = out.getvalue()
    target = f"{server.other}/redirect-cross-origin-null-refused/t/"
    assert f"Request:    GET {target} (Origin: null) -> 200" in text
    assert "(redirected from" in text
    assert "Cause:      After a redirect to another origin" in text
    assert "Fix:        Call " in text


def test_probe_command_runs_the_call_again_where_other_engines_send_other_requests(
    server: Running,
) -> None:
    out = io.StringIO()
    url = f"{server.base}/safe-user-agent-dropped/"
    server.seen.clear()
    call_command(
        "preflight", "probe", url, "--origin", ORIGIN, "--header", "User-Agent: probe/1", stdout=out
    )
    # Chromium drops the User-Agent and sends a bare GET; Firefox and WebKit preflight it, and
    # share the one second run their common rules call for.
    assert [method for method, _ in server.seen] == ["GET", "OPTIONS"]
    text = out.getvalue()
    assert "Browser:    PASS" in text
    assert (
        "Firefox:    Cross-Origin Request Blocked: The Same Origin Policy disallows reading the "
        f"remote resource at {url}. (Reason: CORS header \u2018Access-Control-Allow-Origin\u2019 "
        "missing). Status code: 204."
    ) in text
    assert (
        f"WebKit:     Origin {ORIGIN} is not allowed by Access-Control-Allow-Origin. "
        "Status code: 204"
    ) in text
    assert "Note:       Firefox 153 ESR sends other requests for this call" in text
    assert "Note:       WebKitGTK 2.50 sends other requests for this call" in text


def test_probe_command_prints_firefox_alone_for_a_redirect_to_get(server: Running) -> None:
    out = io.StringIO()
    url = f"{server.base}/redirect-303-put-becomes-get/"
    server.seen.clear()
    call_command(
        "preflight",
        "probe",
        url,
        "--origin",
        ORIGIN,
        "--method",
        "PUT",
        "--header",
        "Content-Type: application/json",
        "--browser",
        "firefox",
        stdout=out,
    )
    # Chromium's run (OPTIONS, PUT, GET), then Firefox's: the target is preflighted for GET.
    methods = [method for method, _ in server.seen]
    assert methods == ["OPTIONS", "PUT", "GET", "OPTIONS", "PUT", "OPTIONS"]
    text = out.getvalue()
    assert "Browser:    PASS" in text
    assert "Firefox:    Cross-Origin Request Blocked" in text
    assert "/redirect-303-put-becomes-get/t/. (Reason: CORS header" in text
    assert "Note:       Firefox 153 ESR sends other requests for this call" in text
    assert "WebKit:" not in text


def test_probe_command_address_space(server: Running) -> None:
    out = io.StringIO()
    server.seen.clear()
    with pytest.raises(SystemExit):
        call_command(
            "preflight",
            "probe",
            f"{server.base}/correct/",
            "--origin",
            ORIGIN,
            "--address-space",
            "public",
            stdout=out,
        )
    text = out.getvalue()
    assert "access the `loopback` address space." in text
    assert "Page:       public address space" in text
    assert server.seen == [], "Chromium sends nothing to a more private address space"


def test_slot_is_replaced_by_the_calling_origin(server: Running) -> None:
    report = probe(CorsRequest(f"{server.base}/simple-get-allowed/", ORIGIN), timeout=5)
    last = report.trace.last
    assert last is not None
    assert last.response.combined("Access-Control-Allow-Origin") == ORIGIN
    assert ORIGIN_SLOT not in str(last.response.headers)


def test_a_redirect_into_a_more_private_space_is_blocked_at_the_target() -> None:
    def send(url: str, method: str, headers: tuple[tuple[str, str], ...]) -> RawResponse:
        return RawResponse(
            302, (("Location", "http://10.0.0.5/t"), ("Access-Control-Allow-Origin", "*"))
        )

    def locate(url: str) -> AddressSpace:
        return AddressSpace.PRIVATE if "10.0.0.5" in url else AddressSpace.PUBLIC

    request = CorsRequest("https://api.example/r", "https://app.example")
    trace = follow(request, send, page_space=AddressSpace.PUBLIC, locate=locate)
    assert trace.message == (
        "Access to fetch at 'http://10.0.0.5/t' (redirected from 'https://api.example/r') from "
        "origin 'https://app.example' has been blocked by CORS policy: Permission was denied for "
        "this request to access the `local` address space."
    )
    advice = cause_of(trace, AddressSpace.PUBLIC)
    assert advice is not None
    assert advice.code == "address-space"
    assert "in the public address space and http://10.0.0.5/t is in the local one" in advice.cause


def test_a_redirect_that_only_spells_out_the_default_port_keeps_the_origin() -> None:
    def send(url: str, method: str, headers: tuple[tuple[str, str], ...]) -> RawResponse:
        if url == "http://api.test/r":
            return RawResponse(301, (("Location", "http://api.test:80/t"), *echo(headers)))
        return RawResponse(200, echo(headers))

    def echo(headers: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
        return (("Access-Control-Allow-Origin", dict(headers)["Origin"]),)

    trace = follow(CorsRequest("http://api.test/r", ORIGIN), send)
    assert [hop.origin for hop in trace.hops] == [ORIGIN, ORIGIN]
    assert trace.passed


@pytest.mark.parametrize(
    ("vary", "by_authentication"),
    [
        (None, True),
        ("Cookie", True),
        ("Origin", False),
        ("Accept, Access-Control-Request-Method", False),
    ],
)
def test_the_probe_and_the_scan_tell_authentication_from_a_cors_layer_alike(
    vary: str | None, by_authentication: bool
) -> None:
    headers = (("Vary", vary),) if vary else ()
    request = CorsRequest("https://api.example/r", ORIGIN, method="PUT")

    def send(url: str, method: str, sent: tuple[tuple[str, str], ...]) -> RawResponse:
        return RawResponse(401, headers)

    advice = cause_of(follow(request, send))
    assert advice is not None
    assert (advice.code == "preflight-auth") is by_authentication
    preflight = Observation(request.url, "OPTIONS", ORIGIN, (), RawResponse(401, headers))
    found, _ = judge([preflight], credentials=True)
    assert ("preflight-auth-required" in [f.id for f in found]) is by_authentication


@pytest.mark.parametrize(
    ("allow_origin", "vary", "cacheable"),
    [
        (ORIGIN, None, True),
        (ORIGIN, "Accept-Encoding, X-Origin", True),
        (ORIGIN, "Accept-Encoding, origin", False),
        (ORIGIN, "*", False),
        ("*", None, False),
    ],
)
def test_an_answer_naming_one_origin_without_vary_is_flagged_by_the_scan(
    allow_origin: str, vary: str | None, cacheable: bool
) -> None:
    headers = (("Access-Control-Allow-Origin", allow_origin),)
    response = RawResponse(200, headers + ((("Vary", vary),) if vary else ()))
    assert cacheable_for_another_origin(response) is cacheable
    answer = Observation("https://api.example/r", "GET", ORIGIN, (), response)
    found, _ = judge([answer], credentials=False)
    assert ("missing-vary-origin" in [f.id for f in found]) is cacheable
