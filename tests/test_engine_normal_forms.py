"""The shortcuts for values already in stored form agree with the full processing.

Building a snapshot recognises exact origins in browser form, and hosts and subdomain wildcards
that need no UTS #46 processing, with one pattern match each. Each shortcut must give what the
IDNA library and the full parse give, never accept what they refuse: the corpus below is run
both ways.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from django_preflight.engine import OriginKind, OriginSpec
from django_preflight.engine import origins as origins_module
from django_preflight.engine.compiler import compile_origin
from django_preflight.engine.hosts import HostError, is_plain_host, to_ascii, uts46_to_ascii
from django_preflight.engine.origins import (
    OriginError,
    is_serialised_origin,
    normalise_origin,
    normalise_subdomain_pattern,
    parse_request_origin,
)

HOSTS = [
    # plain: lower-case letter-digit-hyphen labels
    "example.com",
    "app1.example.com",
    "a",
    "a.b",
    "123",
    "1.2.3.4",
    "0x7f.1",
    "localhost",
    "a-b.c-d",
    "99-bottles.example",
    "a1-2b.x9",
    "a" * 63 + ".com",
    ".".join(["a" * 63] * 3 + ["b" * 61]),  # 253 characters
    # upper case
    "Example.com",
    "EXAMPLE.COM",
    "app.Example.com",
    # trailing, leading and doubled dots
    "example.com.",
    ".",
    ".example.com",
    "a..b",
    "",
    # encoded labels, valid, invalid and upper case
    "xn--bcher-kva.example",
    "XN--BCHER-KVA.example",
    "app.xn--bcher-kva.example",
    "xn--zz.com",
    "xn--.com",
    "xn---bbk.com",
    "xn--a-ecp.ru",
    # hyphens at label edges and in the third and fourth places
    "-a.com",
    "a-.com",
    "a.-b",
    "a.b-",
    "-",
    "ab--cd.com",
    "a--b.com",
    "ab---c.com",
    "12--3.com",
    # lengths over the limits
    "a" * 64 + ".com",
    ".".join(["a" * 63] * 3 + ["b" * 62]),  # 254 characters
    # characters outside letter-digit-hyphen
    "a_b.com",
    "a b.com",
    "*.example.com",
    "a:b",
    "[::1]",
    # non-ASCII: mapped, deviation, disallowed, other dots, bidi
    "bücher.example",
    "BÜCHER.example",
    "faß.de",
    "ς.gr",
    "\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25.com",  # full-width letters
    "example\u3002com",  # ideographic full stop
    "example\uff0ecom",  # full-width full stop
    "a\u200db.com",
    "🙂.com",
    "עברית.example",
    "١٢٣.example",
    "münchen-.de",
    "\u0301a.com",
]


def _outcome(function: object, value: str) -> tuple[str, object]:
    """('ok', result) or ('error', code or exception class): how a call ended."""
    assert callable(function)
    try:
        return "ok", function(value)
    except OriginError as exc:
        return "error", exc.code
    except HostError:
        return "error", HostError


@pytest.mark.parametrize("host", HOSTS)
def test_a_plain_host_is_what_the_idna_library_returns(host: str) -> None:
    if is_plain_host(host):
        assert uts46_to_ascii(host) == host
    assert _outcome(to_ascii, host) == _outcome(uts46_to_ascii, host)


def test_the_corpus_takes_both_paths() -> None:
    plain = [host for host in HOSTS if is_plain_host(host)]
    assert 10 <= len(plain) < len(HOSTS) - 30


def _both_ways(
    function: object, value: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[tuple[str, object], tuple[str, object]]:
    """The outcome with the shortcuts, and with them off (hosts always through the library)."""
    fast = _outcome(function, value)
    with monkeypatch.context() as patched:
        patched.setattr(origins_module, "to_ascii", uts46_to_ascii)
        patched.setattr(origins_module, "_NORMAL_SUBDOMAIN", re.compile(r"(?!)"))
        full = _outcome(function, value)
    return fast, full


ORIGINS = [
    *(f"https://{host}" for host in HOSTS),
    *(f"http://{host}:8080" for host in HOSTS),
    "https://app.example.com:443",
    "wss://app.example.com:443",
    "http://app.example.com:80",
    "ws://app.example.com:80",
    "https://app.example.com:80",
    "http://app.example.com:443",
    "https://app.example.com:8443",
    "https://app.example.com:65535",
    "https://app.example.com:65536",
    "https://app.example.com:99999",
    "https://app.example.com:0",
    "https://app.example.com:08443",
    "https://app.example.com:",
    "HTTPS://app.example.com",
    "Https://app.example.com",
    "https://app.example.com/",
    "https://app.example.com/path",
    "https://user@app.example.com",
    "https://app.example.com?q",
    " https://app.example.com",
    "https://app.example.com\n",
    "https://[::1]",
    "http://[0:0:0:0:0:0:0:1]:8000",
    "capacitor://localhost",
    "chrome-extension://abcdefghijklmnop",
    "web+app://example.com",
    "1http://example.com",
    "null",
    "https://*.example.com",
    "https://" + "a" * 300,
]


def _browser_form(value: str) -> bool:
    """What the snapshot used as stored before it had a pattern of its own for this."""
    parsed = parse_request_origin(value)
    return parsed is not None and not parsed.host.startswith("[") and parsed.serialise() == value


@pytest.mark.parametrize("value", ORIGINS)
def test_an_exact_origin_in_browser_form_is_used_as_stored(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert is_serialised_origin(value) is _browser_form(value)
    fast, full = _both_ways(normalise_origin, value, monkeypatch)
    assert fast == full
    entry = OriginSpec(OriginKind.EXACT, value)
    compiled = _outcome(lambda v: compile_origin(entry, credentials=False).text, value)
    assert compiled == (("ok", value) if _browser_form(value) else full)


WILDCARDS = [
    *(f"https://*.{host}" for host in HOSTS),
    *(f"http://*.{host}:8080" for host in HOSTS),
    "https://*.example.com:443",
    "http://*.example.com:80",
    "https://*.example.com:8443",
    "https://*.example.com:65536",
    "https://*.example.com:0",
    "https://*.example.com:08443",
    "HTTPS://*.example.com",
    "https://*.com",
    "https://*.*.example.com",
    "https://*example.com",
    "https://*.example.com/",
    " https://*.example.com",
    "https://*.[::1]",
]


@pytest.mark.parametrize("value", WILDCARDS)
def test_a_normal_wildcard_parses_as_the_full_parse_does(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, full = _both_ways(normalise_subdomain_pattern, value, monkeypatch)
    assert fast == full


def test_ports_in_browser_form_are_in_range_and_not_the_default() -> None:
    for scheme, default in (("https", 443), ("http", 80), ("wss", 443), ("app", None)):
        kept = {p for p in range(100_000) if is_serialised_origin(f"{scheme}://a.example:{p}")}
        assert kept == set(range(1, 65_536)) - {default}


@pytest.mark.properties
@settings(max_examples=2_000, deadline=None)
@given(st.text(alphabet="abxnAB09-.ßé", min_size=1, max_size=24))
def test_every_plain_host_is_its_own_uts46_form(host: str) -> None:
    if is_plain_host(host):
        assert uts46_to_ascii(host) == host
    assert _outcome(to_ascii, host) == _outcome(uts46_to_ascii, host)


@pytest.mark.properties
@settings(max_examples=2_000, deadline=None)
@given(
    st.from_regex(r"[a-zA-Z0-9+.\-]{1,8}://[a-z0-9.\-\[\]:]{1,30}(:[0-9]{1,6})?/?", fullmatch=True)
)
def test_the_browser_form_pattern_says_what_parsing_says(value: str) -> None:
    assert is_serialised_origin(value) is _browser_form(value)
