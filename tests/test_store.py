"""The snapshot cache: invalidation on commit, the shared version, and surviving failures."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from django.db import DatabaseError

from django_preflight import conf
from django_preflight import store as store_module
from django_preflight.engine.decision import Outcome, RequestFacts, decide
from django_preflight.models import AllowedOrigin, CorsPolicy
from django_preflight.store import PolicyStore, publish_change, store

APP = "https://app.example.com"
NEW = "https://new.example.com"

pytestmark = pytest.mark.django_db


def outcome(snapshot_store: PolicyStore, origin: str) -> Outcome:
    facts = RequestFacts("OPTIONS", "/api/x", origin, "GET")
    return decide(snapshot_store.current(), facts).outcome


def test_saving_an_origin_rebuilds_after_commit(
    make_policy: Callable[..., CorsPolicy], django_capture_on_commit_callbacks: Any
) -> None:
    policy = make_policy(origins=(APP,))
    assert outcome(store, NEW) is Outcome.PREFLIGHT_REFUSED
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        AllowedOrigin.objects.create(policy=policy, value=NEW)
    assert outcome(store, NEW) is Outcome.PREFLIGHT_REFUSED, "nothing changes before commit"
    for callback in callbacks:
        callback()
    assert outcome(store, NEW) is Outcome.PREFLIGHT_ALLOWED


def test_deleting_an_origin_or_policy_rebuilds(
    make_policy: Callable[..., CorsPolicy], django_capture_on_commit_callbacks: Any
) -> None:
    policy = make_policy(origins=(APP, NEW))
    assert outcome(store, NEW) is Outcome.PREFLIGHT_ALLOWED
    with django_capture_on_commit_callbacks(execute=True):
        policy.origins.get(value=NEW).delete()
    assert outcome(store, NEW) is Outcome.PREFLIGHT_REFUSED
    assert outcome(store, APP) is Outcome.PREFLIGHT_ALLOWED
    with django_capture_on_commit_callbacks(execute=True):
        policy.delete()
    assert outcome(store, APP) is Outcome.PREFLIGHT_REFUSED


def test_disabling_a_policy_rebuilds(
    make_policy: Callable[..., CorsPolicy], django_capture_on_commit_callbacks: Any
) -> None:
    policy = make_policy(origins=(APP,))
    assert outcome(store, APP) is Outcome.PREFLIGHT_ALLOWED
    with django_capture_on_commit_callbacks(execute=True):
        policy.enabled = False
        policy.save()
    assert outcome(store, APP) is Outcome.PREFLIGHT_REFUSED


def test_other_processes_follow_the_shared_version_within_the_interval(
    make_policy: Callable[..., CorsPolicy], settings: Any
) -> None:
    settings.PREFLIGHT_REFRESH_INTERVAL = 30.0
    policy = make_policy(origins=(APP,))
    other = PolicyStore()
    assert outcome(other, NEW) is Outcome.PREFLIGHT_REFUSED
    AllowedOrigin.objects.create(policy=policy, value=NEW)
    publish_change()
    assert outcome(other, NEW) is Outcome.PREFLIGHT_REFUSED, "not before its next check"
    with mock.patch.object(store_module.time, "monotonic", return_value=10**9):
        assert outcome(other, NEW) is Outcome.PREFLIGHT_ALLOWED


def test_no_cache_round_trip_between_checks(
    make_policy: Callable[..., CorsPolicy], settings: Any
) -> None:
    settings.PREFLIGHT_REFRESH_INTERVAL = 30.0
    make_policy(origins=(APP,))
    other = PolicyStore()
    other.current()
    with mock.patch.object(store_module, "caches") as caches:
        for _ in range(100):
            other.current()
    caches.__getitem__.assert_not_called()


def test_last_good_snapshot_serves_when_the_database_fails(
    make_policy: Callable[..., CorsPolicy], caplog: pytest.LogCaptureFixture
) -> None:
    make_policy(origins=(APP,))
    assert outcome(store, APP) is Outcome.PREFLIGHT_ALLOWED
    store.mark_stale()
    with (
        mock.patch.object(store_module, "load_policy_set", side_effect=DatabaseError("down")),
        caplog.at_level(logging.ERROR, logger="django_preflight"),
    ):
        assert outcome(store, APP) is Outcome.PREFLIGHT_ALLOWED
        assert outcome(store, APP) is Outcome.PREFLIGHT_ALLOWED
    assert "last good snapshot keeps serving" in caplog.text
    assert caplog.text.count("could not load policies") == 1, "retried per interval, not per call"


def test_a_missing_version_is_replaced_so_every_process_rebuilds_once(
    make_policy: Callable[..., CorsPolicy], settings: Any
) -> None:
    from django.core.cache import cache

    settings.PREFLIGHT_REFRESH_INTERVAL = 0
    make_policy(origins=(APP,))
    other = PolicyStore()
    other.current()
    assert cache.get(conf.get().CACHE_KEY) is not None
    cache.clear()
    with mock.patch.object(
        store_module, "load_policy_set", wraps=store_module.load_policy_set
    ) as load:
        other.current()
    assert load.call_count == 1


def test_cache_down_keeps_serving_and_logs(
    make_policy: Callable[..., CorsPolicy], caplog: pytest.LogCaptureFixture, settings: Any
) -> None:
    settings.PREFLIGHT_REFRESH_INTERVAL = 0
    make_policy(origins=(APP,))
    assert outcome(store, APP) is Outcome.PREFLIGHT_ALLOWED
    broken = mock.MagicMock()
    broken.get.side_effect = ConnectionError("cache down")
    broken.set.side_effect = ConnectionError("cache down")
    with (
        mock.patch.object(store_module, "caches", {"default": broken}),
        caplog.at_level(logging.WARNING, logger="django_preflight"),
    ):
        assert outcome(store, APP) is Outcome.PREFLIGHT_ALLOWED
        publish_change()
        assert outcome(store, APP) is Outcome.PREFLIGHT_ALLOWED
    assert "could not read the policy version" in caplog.text
    assert "could not publish a policy change" in caplog.text


def test_invalid_rows_are_skipped_and_logged(
    make_policy: Callable[..., CorsPolicy], caplog: pytest.LogCaptureFixture
) -> None:
    good = make_policy(origins=(APP,), name="good")
    bad = make_policy(origins=(NEW,), name="bad", path_prefix="/bad/")
    CorsPolicy.objects.filter(pk=bad.pk).update(allowed_methods=["NOT A TOKEN"])
    publish_change()
    with caplog.at_level(logging.ERROR, logger="django_preflight"):
        snapshot = store.current()
    assert [p.name for p in snapshot.policies] == [good.name]
    assert "skipped policy 'bad'" in caplog.text
