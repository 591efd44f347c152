"""The SSRF guard on its own: address classes, the production resolver, and the async path."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from asgiref.sync import async_to_sync

from django_preflight import netguard

from . import resolver


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.31.255.255", "private"),
        ("192.168.0.1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("224.0.0.251", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("0.0.0.0", "reserved"),
        ("100.64.0.1", "reserved"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("64:ff9b::a00:1", "private"),
        ("2001:db8::1", "private"),
    ],
)
def test_non_public_addresses_are_classified(address: str, kind: str) -> None:
    assert netguard.classify(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1::1", "8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert netguard.classify(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("address", ["::ffff:8.8.8.8", "64:ff9b::808:808"])
def test_embedded_ipv4_addresses_are_judged_by_the_address_they_carry(address: str) -> None:
    """IPv6-only networks reach public IPv4 hosts through NAT64: those must still work."""
    assert netguard.classify(ipaddress.ip_address(address)) is None


def test_production_path_uses_the_system_resolver(settings: Any) -> None:
    settings.PREFLIGHT_NETGUARD_RESOLVER = None
    assert netguard.resolver() is netguard.system_resolver

    with pytest.raises(netguard.RefusedTargetError, match="loopback"):
        netguard.check_host("localhost", 443)  # /etc/hosts: no packet leaves the machine


def test_allow_private_returns_the_first_answer_to_dial(settings: Any) -> None:
    settings.PREFLIGHT_NETGUARD_RESOLVER = "tests.relay.resolver.resolve"
    resolver.answers["svc.internal.test"] = [["10.0.0.7", "10.0.0.8"]]

    target = netguard.check_host("svc.internal.test", 80, allow_private=True)

    assert target == netguard.Target("svc.internal.test", ipaddress.ip_address("10.0.0.7"))
    with pytest.raises(netguard.RefusedTargetError):
        netguard.check_host("svc.internal.test", 80)


def test_async_check_refuses_the_same(settings: Any) -> None:
    settings.PREFLIGHT_NETGUARD_RESOLVER = "tests.relay.resolver.resolve"
    resolver.answers["meta.test"] = [["169.254.169.254"]]

    with pytest.raises(netguard.RefusedTargetError, match="link-local"):
        async_to_sync(netguard.acheck_host)("meta.test", 80)


def test_target_url_host_brackets_ipv6() -> None:
    assert netguard.Target("h", ipaddress.ip_address("2001:db8::1")).url_host == "[2001:db8::1]"


@pytest.mark.parametrize(
    ("name", "value", "valid"),
    [
        ("NETGUARD_RESOLVER", None, True),
        ("NETGUARD_RESOLVER", "tests.relay.resolver.resolve", True),
        ("NETGUARD_RESOLVER", "tests.relay.resolver.nothing_here", False),
        ("NETGUARD_RESOLVER", "tests.relay.resolver.answers", False),
        ("RELAY_STATS_INTERVAL", 0, True),
        ("RELAY_STATS_INTERVAL", -1, False),
    ],
)
def test_settings_are_checked(settings: Any, name: str, value: object, valid: bool) -> None:
    from django_preflight.checks import check_settings

    setattr(settings, f"PREFLIGHT_{name}", value)

    errors = [e.msg for e in check_settings() if f"PREFLIGHT_{name}" in e.msg]

    assert (errors == []) is valid
