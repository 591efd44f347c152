"""Shared fixtures: a clean policy store and audit buffer around every test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache

from django_preflight import reporting
from django_preflight.audit import buffer
from django_preflight.models import CorsPolicy
from django_preflight.store import store

from .factories import CorsPolicyFactory


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database-only",
        action="store_true",
        help="run only the tests that can reach the database (and the services tier): what the "
        "database matrix needs, since the rest behaves the same on every database",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With ``--database-only``, deselect the tests that have no database access."""
    if not config.getoption("--database-only"):
        return
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        # pytest-django grants database access through this fixture, whichever way a test asks.
        reaches = "_django_db_helper" in getattr(item, "fixturenames", ())
        (kept if reaches or item.get_closest_marker("services") else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


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
    """The policy factory, committed so that the store sees the policy at once."""

    def make(origins: tuple[str, ...] = ("https://app.example.com",), **fields: Any) -> CorsPolicy:
        kinds = fields.pop("kinds", None) or ["exact"] * len(origins)
        fields.setdefault("path_prefix", "/")
        with django_capture_on_commit_callbacks(execute=True):
            return CorsPolicyFactory(origins=list(zip(kinds, origins, strict=True)), **fields)

    return make


@pytest.fixture
def credentialed_api(make_policy: Callable[..., CorsPolicy]) -> CorsPolicy:
    """A credentialed API on /api/ for one frontend, https://app.example.com."""
    return make_policy(
        origins=("https://app.example.com",),
        name="frontend",
        path_prefix="/api/",
        allow_credentials=True,
        allowed_methods=["GET", "POST"],
        allowed_headers=["content-type", "x-csrftoken"],
    )
