"""Shared fixtures: a clean policy store and audit buffer around every test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache

from django_preflight import reporting
from django_preflight.audit import buffer
from django_preflight.models import AllowedOrigin, CorsPolicy
from django_preflight.store import store


@pytest.fixture(autouse=True)
def _fresh_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(reporting, "log_limit", reporting.RateLimit())
    store.reset()
    cache.clear()
    buffer.reset()
    yield
    store.reset()


@pytest.fixture
def make_policy(db: None, django_capture_on_commit_callbacks: Any) -> Callable[..., CorsPolicy]:
    """Create a validated policy with its origins, committed so the store sees it."""

    def make(origins: tuple[str, ...] = ("https://app.example.com",), **fields: Any) -> CorsPolicy:
        kinds = fields.pop("kinds", None) or ["exact"] * len(origins)
        with django_capture_on_commit_callbacks(execute=True):
            policy = CorsPolicy(
                name=fields.pop("name", f"policy-{CorsPolicy.objects.count()}"), **fields
            )
            policy.full_clean()
            policy.save()
            for kind, value in zip(kinds, origins, strict=True):
                origin = AllowedOrigin(policy=policy, kind=kind, value=value)
                origin.full_clean()
                origin.save()
        return policy

    return make
