"""``manage.py preflight``: status and argument errors."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from django_preflight.models import CorsPolicy

pytestmark = pytest.mark.django_db


def test_status_lists_tiers_and_skipped_rows(
    make_policy: Callable[..., CorsPolicy], settings: Any
) -> None:
    settings.ROOT_URLCONF = "tests.security.urls"  # no view there names a policy
    make_policy(origins=("https://a.example",), name="api", path_prefix="/api/")
    make_policy(origins=("https://b.example",), name="site", path_prefix="/")
    broken = make_policy(origins=(), name="broken", path_prefix="/broken/")
    CorsPolicy.objects.filter(pk=broken.pk).update(allowed_methods=["BAD METHOD"], max_age=99999)
    out, err = StringIO(), StringIO()
    call_command("preflight", "status", stdout=out, stderr=err)
    assert out.getvalue().splitlines() == [
        "2 enabled policies, 2 origins.",
        "  /api: api",
        "  /: site",
    ]
    assert err.getvalue().splitlines() == [
        "  skipped 'broken':",
        "    'BAD METHOD' is not a valid HTTP method name: it contains whitespace."
        " [allowed_methods.invalid]",
        "    Max-Age is between 0 and 86400 seconds. [max_age.out_of_range]",
    ]


def test_prune_refuses_negative_days() -> None:
    with pytest.raises(CommandError, match="cannot be negative"):
        call_command("preflight", "prune-audit", "--days", "-1")
