"""The browser model and the probe, judged on the table of server behaviours."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.management import call_command

from django_preflight.engine.browser import CorsRequest, RawResponse, check_preflight
from django_preflight.probe import probe

from .cors_server import BEHAVIOURS, ORIGIN_SLOT, Behaviour, serve

ORIGIN = "http://127.0.0.1:9"


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, list[tuple[str, str]]]]:
    with serve() as running:
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
    assert len(BEHAVIOURS) >= 25
    assert len({b.name for b in BEHAVIOURS}) == len(BEHAVIOURS)


@pytest.mark.parametrize("behaviour", BEHAVIOURS, ids=lambda b: b.name)
def test_probe_verdict_matches_the_table(
    server: tuple[str, list[tuple[str, str]]], behaviour: Behaviour
) -> None:
    base, _ = server
    report = probe(request_for(base, behaviour), timeout=5)
    if behaviour.verdict is None:
        assert report.passed, report.message
    else:
        assert report.message is not None
        prefix = f"Access to fetch at '{base}/{behaviour.name}/' from origin '{ORIGIN}' "
        assert report.message.startswith(prefix + "has been blocked by CORS policy: ")
        assert behaviour.verdict in report.message
        assert len(report.causes) == 1


def test_simple_requests_send_no_preflight(server: tuple[str, list[tuple[str, str]]]) -> None:
    base, seen = server
    seen.clear()
    probe(CorsRequest(f"{base}/simple-get-allowed/", ORIGIN), timeout=5)
    assert seen == [("GET", "/simple-get-allowed/")]


def test_blocked_preflight_stops_before_the_real_request(
    server: tuple[str, list[tuple[str, str]]],
) -> None:
    base, seen = server
    seen.clear()
    report = probe(CorsRequest(f"{base}/auth-401/", ORIGIN, "PUT"), timeout=5)
    assert seen == [("OPTIONS", "/auth-401/")]
    assert report.actual is None
    assert any("authentication" in cause for cause in report.causes)


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("route-404", "no route or view handles OPTIONS"),
        ("cors-layer-refusal", "A CORS layer answered the preflight itself (403)"),
        ("redirect-301", "redirected to /elsewhere/"),
        ("html-200", "An HTML page answered"),
        ("origin-twice", "two layers add CORS headers"),
        ("actual-error-without-acao", "failed with 500"),
    ],
)
def test_likely_causes_are_named(
    server: tuple[str, list[tuple[str, str]]], name: str, fragment: str
) -> None:
    base, _ = server
    behaviour = next(b for b in BEHAVIOURS if b.name == name)
    report = probe(request_for(base, behaviour), timeout=5)
    assert any(fragment in cause for cause in report.causes), report.causes


def test_warnings_for_max_age_and_vary(server: tuple[str, list[tuple[str, str]]]) -> None:
    base, _ = server
    report = probe(CorsRequest(f"{base}/correct/", ORIGIN, "PUT"), timeout=5)
    assert report.passed
    assert any("5 seconds" in warning for warning in report.warnings)


def test_preflight_check_order_follows_chromium() -> None:
    request = CorsRequest("https://api.example/x", "https://app.example", "PATCH", credentials=True)
    no_origin_and_404 = RawResponse(404)
    assert "No 'Access-Control-Allow-Origin'" in (check_preflight(request, no_origin_and_404) or "")
    origin_but_404 = RawResponse(404, (("Access-Control-Allow-Origin", "https://app.example"),))
    assert "HTTP ok status" in (check_preflight(request, origin_but_404) or "")
    no_credentials = RawResponse(204, (("Access-Control-Allow-Origin", "https://app.example"),))
    assert "Allow-Credentials" in (check_preflight(request, no_credentials) or "")


def test_fetch_normalises_only_the_standard_methods() -> None:
    assert CorsRequest("u", "o", "put").fetch_method == "PUT"
    assert CorsRequest("u", "o", "patch").fetch_method == "patch"
    assert not CorsRequest("u", "o", "post", (("Content-Type", "text/plain"),)).needs_preflight
    assert CorsRequest("u", "o", "POST", (("Content-Type", "application/json"),)).needs_preflight
    assert CorsRequest("u", "o", "GET", (("Accept", "x" * 200),)).needs_preflight


def test_probe_command_exit_status(server: tuple[str, list[tuple[str, str]]]) -> None:
    base, _ = server
    call_command("preflight", "probe", f"{base}/correct/", "--origin", ORIGIN, "--method", "PUT")
    with pytest.raises(SystemExit) as exited:
        call_command(
            "preflight", "probe", f"{base}/route-404/", "--origin", ORIGIN, "--method", "PUT"
        )
    assert exited.value.code == 1


def test_slot_is_replaced_by_the_calling_origin(server: tuple[str, list[tuple[str, str]]]) -> None:
    base, _ = server
    report = probe(CorsRequest(f"{base}/simple-get-allowed/", ORIGIN), timeout=5)
    assert report.actual is not None
    assert report.actual.response.combined("Access-Control-Allow-Origin") == ORIGIN
    assert ORIGIN_SLOT not in str(report.actual.response.headers)
