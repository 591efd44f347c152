"""The snapshot cache: invalidation on commit, the shared version, and surviving failures."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import DatabaseError, ProgrammingError, transaction

from django_preflight import conf, versioning
from django_preflight import store as store_module
from django_preflight.engine import OriginKind, OriginSpec, PolicySpec
from django_preflight.engine.decision import Outcome, RequestFacts, decide
from django_preflight.models import AllowedOrigin, CorsPolicy
from django_preflight.store import PolicyStore, publish_change, store

APP = "https://app.example.com"
NEW = "https://new.example.com"

pytestmark = pytest.mark.django_db


def outcome(snapshot_store: PolicyStore, origin: str) -> Outcome:
    facts = RequestFacts("OPTIONS", "/api/x", origin, "GET")
    snapshot = snapshot_store.current()
    assert snapshot is not None
    return decide(snapshot, facts).outcome


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


def test_other_processes_follow_the_database_version_within_the_interval(
    make_policy: Callable[..., CorsPolicy], settings: Any
) -> None:
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    settings.PREFLIGHT_REFRESH_INTERVAL = 30.0
    policy = make_policy(origins=(APP,))
    other = PolicyStore()
    assert outcome(other, NEW) is Outcome.PREFLIGHT_REFUSED
    AllowedOrigin.objects.create(policy=policy, value=NEW)
    assert outcome(other, NEW) is Outcome.PREFLIGHT_REFUSED, "not before its next check"
    with mock.patch.object(store_module.time, "monotonic", return_value=10**9):
        assert outcome(other, NEW) is Outcome.PREFLIGHT_ALLOWED, "no cache needed"


def test_no_query_between_checks_and_one_per_check(
    make_policy: Callable[..., CorsPolicy], settings: Any, django_assert_num_queries: Any
) -> None:
    settings.PREFLIGHT_REFRESH_INTERVAL = 30.0
    make_policy(origins=(APP,))
    other = PolicyStore()
    other.current()
    with django_assert_num_queries(0):
        for _ in range(100):
            other.current()
    with (
        mock.patch.object(store_module.time, "monotonic", return_value=10**9),
        django_assert_num_queries(1),
    ):
        other.current()


def test_last_good_snapshot_serves_when_the_database_fails(
    make_policy: Callable[..., CorsPolicy], caplog: pytest.LogCaptureFixture
) -> None:
    make_policy(origins=(APP,))
    assert outcome(store, APP) is Outcome.PREFLIGHT_ALLOWED
    store.mark_stale()
    with (
        mock.patch.object(store_module, "load_specs", side_effect=DatabaseError("down")),
        caplog.at_level(logging.ERROR, logger="django_preflight"),
    ):
        assert outcome(store, APP) is Outcome.PREFLIGHT_ALLOWED
        assert outcome(store, APP) is Outcome.PREFLIGHT_ALLOWED
    assert "last good snapshot keeps serving" in caplog.text
    assert caplog.text.count("could not load policies") == 1, "retried per interval, not per call"


@contextlib.contextmanager
def database_down() -> Iterator[None]:
    """Both the version and the policies fail to load, as with the database unreachable."""
    down = DatabaseError("down")
    with (
        mock.patch.object(versioning, "read_version", side_effect=down),
        mock.patch.object(store_module, "load_specs", side_effect=down),
    ):
        yield


def test_without_the_version_table_policies_still_load_and_it_is_logged(
    make_policy: Callable[..., CorsPolicy], caplog: pytest.LogCaptureFixture, settings: Any
) -> None:
    """New code running before ``migrate`` (a rolling deploy) keeps answering preflights."""
    settings.PREFLIGHT_REFRESH_INTERVAL = 0
    make_policy(origins=(APP,))
    fresh = PolicyStore()
    with (
        mock.patch.object(versioning, "read_version", side_effect=ProgrammingError("no table")),
        caplog.at_level(logging.WARNING, logger="django_preflight"),
    ):
        assert outcome(fresh, APP) is Outcome.PREFLIGHT_ALLOWED
        assert outcome(fresh, APP) is Outcome.PREFLIGHT_ALLOWED
    assert caplog.text.count("run manage.py migrate") == 1


def test_a_worker_started_without_database_serves_the_published_snapshot(
    make_policy: Callable[..., CorsPolicy], caplog: pytest.LogCaptureFixture
) -> None:
    make_policy(origins=(APP,))
    assert outcome(store, APP) is Outcome.PREFLIGHT_ALLOWED, "publishes the snapshot"
    fresh = PolicyStore()
    with (
        database_down(),
        caplog.at_level(logging.WARNING, logger="django_preflight"),
    ):
        assert outcome(fresh, APP) is Outcome.PREFLIGHT_ALLOWED
        assert outcome(fresh, NEW) is Outcome.PREFLIGHT_REFUSED
    assert fresh.from_cache
    assert "serving the snapshot published in cache 'default'" in caplog.text
    with mock.patch.object(store_module.time, "monotonic", return_value=10**9):
        fresh.current()
    assert not fresh.from_cache, "rebuilt from the database once it is back"


def test_without_database_or_published_snapshot_there_is_no_snapshot(
    db: None, caplog: pytest.LogCaptureFixture
) -> None:
    fresh = PolicyStore()
    with (
        database_down(),
        caplog.at_level(logging.ERROR, logger="django_preflight"),
    ):
        assert fresh.current() is None
        assert fresh.current() is None
    assert caplog.text.count("preflights are answered 503") == 1, "one attempt per interval"


def test_a_corrupt_published_snapshot_is_not_trusted(
    db: None, caplog: pytest.LogCaptureFixture
) -> None:
    from django.core.cache import cache

    cache.set(conf.get().CACHE_KEY, '{"format": 2, "version": 3, "policies": [{"id": 1}]}')
    fresh = PolicyStore()
    with (
        database_down(),
        caplog.at_level(logging.WARNING, logger="django_preflight"),
    ):
        assert fresh.current() is None
    assert "could not read a published snapshot" in caplog.text


SPECS = [PolicySpec(1, "p", "/api/", origins=(OriginSpec(OriginKind.EXACT, APP),))]


def slow_load(started: threading.Event, release: threading.Event) -> Callable[[], Any]:
    def load() -> list[PolicySpec]:
        started.set()
        assert release.wait(10)
        return SPECS

    return load


def test_concurrent_first_requests_wait_for_the_one_first_load(db: None) -> None:
    fresh = PolicyStore()
    started, release = threading.Event(), threading.Event()
    load = mock.Mock(side_effect=slow_load(started, release))
    with (
        mock.patch.object(store_module, "load_specs", load),
        mock.patch.object(versioning, "read_version", return_value=7),
        mock.patch.object(store_module, "_publish_snapshot"),
        ThreadPoolExecutor(max_workers=32) as pool,
    ):
        first = pool.submit(outcome, fresh, APP)
        assert started.wait(10)
        others = [pool.submit(outcome, fresh, APP) for _ in range(31)]
        release.set()
        results = [first.result(10)] + [f.result(10) for f in others]
    assert results == [Outcome.PREFLIGHT_ALLOWED] * 32
    assert load.call_count == 1


def test_concurrent_first_async_requests_await_one_load_without_blocking_the_loop(
    db: None,
) -> None:
    fresh = PolicyStore()
    started, release = threading.Event(), threading.Event()
    load = mock.Mock(side_effect=slow_load(started, release))

    async def first_request() -> Outcome:
        if fresh.refresh_due():
            await fresh.arefresh()
        snapshot = fresh.loaded()
        assert snapshot is not None
        return decide(snapshot, RequestFacts("OPTIONS", "/api/x", APP, "GET")).outcome

    async def scenario() -> list[Outcome]:
        requests = [asyncio.ensure_future(first_request()) for _ in range(200)]
        while not started.is_set():
            await asyncio.sleep(0.01)  # the loop keeps running while the load waits
        release.set()
        return list(await asyncio.gather(*requests))

    with (
        mock.patch.object(store_module, "load_specs", load),
        mock.patch.object(versioning, "read_version", return_value=7),
        mock.patch.object(store_module, "_publish_snapshot"),
    ):
        results = asyncio.run(scenario())
    assert results == [Outcome.PREFLIGHT_ALLOWED] * 200
    assert load.call_count == 1


def test_one_version_move_and_one_notice_per_transaction(
    make_policy: Callable[..., CorsPolicy], django_capture_on_commit_callbacks: Any
) -> None:
    policy = make_policy(origins=(APP,))
    before = versioning.read_version()
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        for n in range(20):
            AllowedOrigin.objects.create(policy=policy, value=f"https://n{n}.example.com")
        AllowedOrigin.objects.filter(policy=policy).update(note="bulk")
        policy.origins.filter(value__startswith="https://n1").delete()
        CorsPolicy.objects.filter(pk=policy.pk).update(max_age=60)
    assert versioning.read_version() == before + 1
    assert len(callbacks) == 1


def test_a_rolled_back_change_moves_nothing_and_the_next_one_moves_it(
    make_policy: Callable[..., CorsPolicy], django_capture_on_commit_callbacks: Any
) -> None:
    policy = make_policy(origins=(APP,))
    before = versioning.read_version()
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        with contextlib.suppress(RuntimeError), transaction.atomic():
            AllowedOrigin.objects.create(policy=policy, value=NEW)
            raise RuntimeError("rolled back")
        assert versioning.read_version() == before, "the move was rolled back with the change"
        AllowedOrigin.objects.create(policy=policy, value="https://later.example.com")
    assert versioning.read_version() == before + 1
    assert len(callbacks) == 1


def test_bulk_writes_move_the_version(
    make_policy: Callable[..., CorsPolicy], django_capture_on_commit_callbacks: Any
) -> None:
    policy = make_policy(origins=(APP,))
    before = versioning.read_version()
    with django_capture_on_commit_callbacks(execute=True):
        AllowedOrigin.objects.bulk_create([AllowedOrigin(policy=policy, value=NEW)])
    assert versioning.read_version() == before + 1
    assert outcome(store, NEW) is Outcome.PREFLIGHT_ALLOWED
    with django_capture_on_commit_callbacks(execute=True):
        CorsPolicy.objects.update(enabled=False)
    assert versioning.read_version() == before + 2
    assert outcome(store, NEW) is Outcome.PREFLIGHT_REFUSED


def test_an_import_of_500_origins_publishes_once(
    db: None, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    origins = [
        {"kind": "exact", "value": f"https://o{n}.example.com", "note": ""} for n in range(500)
    ]
    data = {
        "format": "django-preflight/1",
        "policies": [{"name": "bulk", "path_prefix": "/api/", "origins": origins}],
    }
    path = tmp_path / "policies.json"
    path.write_text(json.dumps(data))
    before = versioning.read_version()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        call_command("preflight", "import", str(path), stdout=io.StringIO())
    assert AllowedOrigin.objects.count() == 500
    assert versioning.read_version() == before + 1
    assert len(callbacks) == 1
    assert outcome(store, "https://o499.example.com") is Outcome.PREFLIGHT_ALLOWED


def test_published_specs_round_trip_as_plain_json() -> None:
    from django_preflight.engine import spec_json

    spec = PolicySpec(
        7,
        "full",
        "/api/",
        allow_credentials=True,
        allowed_methods=("GET", "PUT"),
        allowed_headers=("authorization",),
        exposed_headers=("X-Id",),
        max_age=600,
        allow_private_network=True,
        origins=(
            OriginSpec(OriginKind.EXACT, APP),
            OriginSpec(OriginKind.REGEX, r"^x$"),
            OriginSpec(OriginKind.SUBDOMAIN, "https://*.github.io", allow_public_suffix=True),
        ),
        report_only=True,
        enforce_on_server=True,
    )
    text = spec_json.dumps(12, [spec])
    assert json.loads(text)["format"] == spec_json.FORMAT
    assert spec_json.loads(text) == (12, [spec])
    with pytest.raises(ValueError, match="format"):
        spec_json.loads(text.replace(f'"format": {spec_json.FORMAT}', '"format": 99'))


def test_cache_down_keeps_serving_and_logs(
    make_policy: Callable[..., CorsPolicy], caplog: pytest.LogCaptureFixture, settings: Any
) -> None:
    settings.PREFLIGHT_REFRESH_INTERVAL = 0
    broken = mock.MagicMock()
    broken.get.side_effect = ConnectionError("cache down")
    broken.set.side_effect = ConnectionError("cache down")
    with (
        mock.patch.object(store_module, "caches", {"default": broken}),
        caplog.at_level(logging.WARNING, logger="django_preflight"),
    ):
        policy = make_policy(origins=(APP,))
        assert outcome(store, APP) is Outcome.PREFLIGHT_ALLOWED
        with transaction.atomic():
            AllowedOrigin.objects.create(policy=policy, value=NEW)
        assert outcome(store, NEW) is Outcome.PREFLIGHT_ALLOWED, "propagation needs no cache"
    assert "could not publish its snapshot" in caplog.text


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
