"""``check --deploy`` on what tests/test_checks.py leaves out: plain-http origins reached through
a subdomain wildcard or a regex, on credentialed policies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from django_preflight.checks import check_deploy
from django_preflight.models import AllowedOrigin, CorsPolicy
from tests.test_checks import READS_DATABASES, SHARED_CACHES, as_deployed

pytestmark = [pytest.mark.django_db, READS_DATABASES]


@pytest.fixture(autouse=True)
def _deployed_services(settings: Any) -> None:
    """A shared cache and SQLite set up for several processes, so that only the policies'
    warnings are in question here."""
    settings.CACHES = SHARED_CACHES
    settings.DATABASES = as_deployed(settings.DATABASES)


def ids(make: Callable[[], object]) -> list[str]:
    make()
    return sorted(message.id for message in check_deploy() if message.id)


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("subdomain", "http://*.example.com"),
        ("regex", r"http://app\.example\.com"),
    ],
)
def test_plain_http_with_credentials_is_warned_whatever_the_kind(
    make_policy: Callable[..., CorsPolicy], kind: str, value: str
) -> None:
    found = ids(
        lambda: make_policy(origins=(value,), kinds=[kind], name="plain", allow_credentials=True)
    )
    assert found == ["django_preflight.W001"]


@pytest.mark.parametrize(
    "value", [r"https?://app\.example\.com", r"(http|https)://([a-z]+\.)?example\.com"]
)
def test_a_regex_also_matching_http_is_refused_and_warned_about_when_saved_before(
    make_policy: Callable[..., CorsPolicy], value: str
) -> None:
    """The look-alike lint refuses it with credentials now; a row saved by an older release is
    still named, as plain http (W001), as a look-alike match (W006), and as a policy the
    snapshot skips (W007)."""
    with pytest.raises(ValidationError, match="http for https"):
        make_policy(origins=(value,), kinds=["regex"], allow_credentials=True)

    def legacy() -> None:
        policy = CorsPolicy.objects.create(name="legacy", allow_credentials=True)
        AllowedOrigin.objects.create(policy=policy, kind="regex", value=value)

    assert ids(legacy) == [
        "django_preflight.W001",
        "django_preflight.W006",
        "django_preflight.W007",
    ]


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("exact", "https://app.example.com"),
        ("subdomain", "https://*.example.com"),
        ("regex", r"https://([a-z0-9-]+\.)?example\.com"),
    ],
)
def test_https_only_credentialed_policies_pass(
    make_policy: Callable[..., CorsPolicy], kind: str, value: str
) -> None:
    assert ids(lambda: make_policy(origins=(value,), kinds=[kind], allow_credentials=True)) == []


def test_disabled_policies_are_not_warned(make_policy: Callable[..., CorsPolicy]) -> None:
    found = ids(
        lambda: make_policy(
            origins=("http://app.example.com",), allow_credentials=True, enabled=False
        )
    )
    assert found == []
