"""The hostile origins: derived from the trusted ones, bounded, never a trusted one."""

from __future__ import annotations

import pytest

from django_preflight.engine.lookalikes import site_of
from django_preflight.engine.origins import parse_request_origin
from django_preflight.scan.origins import Kind, hostile_origins
from django_preflight.scan.plan import MAX_HOSTILE, MAX_TRUSTED, make_plan, url_origin

URL = "https://api.example.com/v1/notes/"


def by_kind(trusted: list[str], url: str = URL) -> dict[Kind, list[str]]:
    kinds: dict[Kind, list[str]] = {}
    for hostile in hostile_origins(trusted, url_origin(url)):
        kinds.setdefault(hostile.kind, []).append(hostile.value)
    return kinds


def test_each_mistake_has_its_look_alike() -> None:
    kinds = by_kind(["https://app.example.com"])
    assert kinds[Kind.ARBITRARY] == ["https://preflight-scan.example"]
    assert kinds[Kind.NULL] == ["null"]
    assert "https://preflight-scanexample.com" in kinds[Kind.SUFFIX]
    assert "https://app.example.com.preflight-scan.example" in kinds[Kind.PREFIX]
    assert "https://appxexample.com" in kinds[Kind.UNESCAPED_DOT]
    assert "https://app.example.com_.preflight-scan.example" in kinds[Kind.SPECIAL_CHARACTER]
    assert "https://preflight-scan.app.example.com" in kinds[Kind.SUBDOMAIN]
    assert kinds[Kind.HTTP][0] == "http://app.example.com"
    assert kinds[Kind.OTHER_PORT][0] == "https://app.example.com:8443"
    assert "https://preflight-scan.github.io" in kinds[Kind.HOSTING]


def test_the_urls_own_host_is_a_base_too() -> None:
    kinds = by_kind(["https://app.example.com"])
    assert "http://api.example.com" in kinds[Kind.HTTP]


def test_no_trusted_origin_is_ever_sent_as_hostile() -> None:
    trusted = ["https://app.example.com", "http://app.example.com", "https://appxexample.com"]
    values = [h.value for h in hostile_origins(trusted, url_origin(URL))]
    assert not set(values) & set(trusted)
    assert len(values) == len(set(values))


def test_ip_hosts_get_no_look_alikes() -> None:
    kinds = by_kind(["http://127.0.0.1:8002"], "http://127.0.0.1:8001/api/")
    assert set(kinds) == {Kind.ARBITRARY, Kind.NULL, Kind.HOSTING}


def test_hostile_values_are_origins_a_browser_could_send() -> None:
    """Except the special characters, which some browsers accept but the strict parser does not."""
    for hostile in hostile_origins(["https://app.example.com:8443"], url_origin(URL)):
        if hostile.kind in (Kind.NULL, Kind.SPECIAL_CHARACTER):
            continue
        assert parse_request_origin(hostile.value) is not None, hostile


def test_the_plan_is_bounded() -> None:
    trusted = [f"https://a{i}.b{i}.example{i}.com:{8000 + i}" for i in range(10)]
    plan = make_plan(URL, trusted)
    assert len(plan.trusted) == MAX_TRUSTED
    assert len(plan.hostile) <= MAX_HOSTILE
    assert plan.max_requests == 2 * (len(plan.trusted) + len(plan.hostile))


def test_without_trusted_origins_the_url_origin_stands_in() -> None:
    plan = make_plan("https://api.example.com:443/x", [])
    assert plan.trusted == ("https://api.example.com",)


@pytest.mark.parametrize(
    ("host", "registrable"),
    [
        ("app.example.com", "example.com"),
        ("example.com", "example.com"),
        ("shop.example.co.uk", "example.co.uk"),
        ("a.b.example.com.au", "example.com.au"),
        ("api.example.de", "example.de"),
    ],
)
def test_suffix_look_alikes_glue_onto_the_registrable_domain(host: str, registrable: str) -> None:
    assert site_of(host) == registrable
    suffixes = by_kind([f"https://{host}"], f"https://{host}/")[Kind.SUFFIX]
    assert suffixes == [f"https://preflight-scan{registrable}"]
