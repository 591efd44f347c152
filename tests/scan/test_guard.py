"""The admin's SSRF guard: resolve once, refuse what is not public, pin what was checked."""

from __future__ import annotations

import pytest

from django_preflight.scan.guard import ScanRefusedError, resolve


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://127.0.0.1:8000/api/", "loopback"),
        ("http://localhost/", "loopback"),
        ("http://[::1]:8000/", "loopback"),
        ("http://10.1.2.3/", "private"),
        ("https://192.168.0.10/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://0.0.0.0/", "reserved"),
        ("http://100.64.0.1/", "reserved"),
        ("http://240.0.0.1/", "reserved"),
        ("http://224.0.0.1/", "multicast"),
    ],
)
def test_non_public_addresses_are_refused(url: str, kind: str) -> None:
    with pytest.raises(ScanRefusedError, match=f"a {kind} address") as refused:
        resolve(url, allow_private=False)
    assert "PREFLIGHT_SCAN_ALLOW_PRIVATE_ADDRESSES" in str(refused.value)


def test_the_setting_lets_private_addresses_through() -> None:
    assert resolve("http://127.0.0.1:8000/", allow_private=True) == "127.0.0.1"


def test_a_public_address_is_returned_for_pinning() -> None:
    assert resolve("https://93.184.215.14/", allow_private=False) == "93.184.215.14"


@pytest.mark.parametrize("url", ["ftp://example.com/", "http:///path", "file:///etc/passwd"])
def test_only_http_urls(url: str) -> None:
    with pytest.raises(ScanRefusedError, match="not an http or https URL"):
        resolve(url, allow_private=True)
