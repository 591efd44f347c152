"""Origin parsing and normalisation: the engine alone, no Django."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from django_preflight.engine import OriginKind, OriginSpec
from django_preflight.engine.compiler import compile_origin
from django_preflight.engine.origins import (
    Origin,
    OriginError,
    compile_origin_regex,
    is_serialised_origin,
    normalise_origin,
    normalise_subdomain_pattern,
    parse_request_origin,
)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("https://app.example.com", "https://app.example.com"),
        ("HTTPS://App.Example.COM", "https://app.example.com"),
        ("https://app.example.com:443", "https://app.example.com"),
        ("http://app.example.com:80/", "http://app.example.com"),
        ("http://127.0.0.1:8001", "http://127.0.0.1:8001"),
        ("https://app.example.com:8443", "https://app.example.com:8443"),
        ("  https://app.example.com  ", "https://app.example.com"),
        ("https://bücher.example", "https://xn--bcher-kva.example"),
        ("http://[::1]:8000", "http://[::1]:8000"),
        ("http://[0:0:0:0:0:0:0:1]", "http://[::1]"),
        ("capacitor://localhost", "capacitor://localhost"),
    ],
)
def test_configured_origins_are_stored_in_serialised_form(typed: str, stored: str) -> None:
    assert normalise_origin(typed) == stored


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("https://app.example.com/path", "remove a path"),
        ("https://app.example.com/?q=1", "remove a path"),
        ("https://app.example.com?q=1", "remove a query"),
        ("https://app.example.com#top", "remove a fragment"),
        ("https://user@app.example.com", "remove userinfo"),
        ("app.example.com", "starts with a scheme"),
        ("null", "'null' origin"),
        ("https://", "has no host"),
        ("https://app.example.com:99999", "not a port number"),
        ("https://app.example.com:0", "not a port number"),
        ("https://app.example.com:8o", "not a port number"),
        ("https://app example.com", "spaces or control characters"),
        ("https://app.example.com.", "trailing dot"),
        ("https://exa_mple.com", "not a valid host name"),
        ("https://[zz::1]", "not a valid IPv6 address"),
        ("1ttp://example.com", "not a valid URL scheme"),
        ("", "Enter an origin"),
        ("https://" + "a" * 400 + ".com", "at most 300"),
    ],
)
def test_malformed_configured_origins_are_refused_with_a_sentence(typed: str, message: str) -> None:
    with pytest.raises(OriginError, match=message):
        normalise_origin(typed)


def test_subdomain_pattern_keeps_scheme_and_port() -> None:
    assert normalise_subdomain_pattern("HTTPS://*.Example.com:8443") == Origin(
        "https", "example.com", 8443
    )


@pytest.mark.parametrize(
    "typed", ["https://*example.com", "https://app.*.example.com", "https://*.com", "*.example.com"]
)
def test_loose_subdomain_patterns_are_refused(typed: str) -> None:
    with pytest.raises(OriginError):
        normalise_subdomain_pattern(typed)


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("https://app.example.com", Origin("https", "app.example.com", None)),
        ("http://127.0.0.1:8001", Origin("http", "127.0.0.1", 8001)),
        ("http://[::1]:3000", Origin("http", "[::1]", 3000)),
    ],
)
def test_request_origins_in_browser_form_are_recognised(value: str, parsed: Origin) -> None:
    assert parse_request_origin(value) == parsed


@pytest.mark.parametrize(
    "value",
    [
        "null",
        "HTTPS://app.example.com",
        "https://app.example.com:443",
        "https://app.example.com/",
        "https://app.example.com\n",
        "https://app.example.com\r\nX-Evil: 1",
        " https://app.example.com",
        "https://user@app.example.com",
        "https://app.example.com:65536",
        "https://[nothex]",
        "https://a..b",
        "https://" + "a" * 400,
        "",
    ],
)
def test_request_origins_not_in_browser_form_are_not_recognised(value: str) -> None:
    assert parse_request_origin(value) is None


def test_regexes_are_compiled_once_and_bounded() -> None:
    assert compile_origin_regex(r"https://[a-z]+\.example\.com").fullmatch(
        "https://app.example.com"
    )
    with pytest.raises(OriginError, match="not a valid regular expression"):
        compile_origin_regex("https://(unclosed")
    with pytest.raises(OriginError, match="at most 500"):
        compile_origin_regex("a" * 501)
    with pytest.raises(OriginError, match="Enter a regular expression"):
        compile_origin_regex("  ")


@pytest.mark.properties
@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"(https?|wss?|app)://[a-z0-9.\-]{1,30}(:[0-9]{1,5})?", fullmatch=True))
def test_the_snapshot_fast_path_keeps_only_normal_forms(value: str) -> None:
    """A stored exact origin compiles to what normalising it gives, fast path or not; one that
    normalising refuses is kept only as a browser sends it (``ab--cd.example``, an IDNA 2003
    ``xn--`` label), as stored."""
    entry = OriginSpec(OriginKind.EXACT, value)
    try:
        expected = normalise_origin(value)
    except OriginError:
        if is_serialised_origin(value):
            assert parse_request_origin(value) is not None
            assert compile_origin(entry, credentials=False).text == value
        else:
            with pytest.raises(OriginError):
                compile_origin(entry, credentials=False)
        return
    assert compile_origin(entry, credentials=False).text == expected
