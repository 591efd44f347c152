"""The audit: aggregation, bounds, no write on the request path, nothing lost on failure."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import DatabaseError
from django.test import Client
from django.utils import timezone

from django_preflight import audit
from django_preflight.audit import buffer
from django_preflight.models import CorsPolicy, RejectedPreflight, SharedState
from django_preflight.store import store
from tests.factories import RejectedPreflightFactory

APP = "https://app.example.com"

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(make_policy: Callable[..., CorsPolicy]) -> CorsPolicy:
    return make_policy(
        origins=(APP,), name="frontend", path_prefix="/api/", allowed_methods=["GET", "PUT"]
    )


def refuse(
    client: Client,
    origin: str = "https://evil.example",
    method: str = "PUT",
    path: str = "/api/items/1/",
    headers: str = "",
) -> None:
    extra = {"HTTP_ORIGIN": origin, "HTTP_ACCESS_CONTROL_REQUEST_METHOD": method}
    if headers:
        extra["HTTP_ACCESS_CONTROL_REQUEST_HEADERS"] = headers
    assert client.options(path, **extra).status_code == 403


def test_identical_refusals_aggregate_into_one_row(
    client: Client, policy: CorsPolicy, django_assert_num_queries: Any
) -> None:
    store.current()
    with django_assert_num_queries(0):
        for _ in range(5):
            refuse(client)
    assert RejectedPreflight.objects.count() == 0, "nothing is written on the request path"
    assert buffer.flush() == 5
    row = RejectedPreflight.objects.get()
    assert (row.count, row.origin, row.reason, row.policy) == (
        5,
        "https://evil.example",
        "origin_not_allowed",
        policy,
    )
    assert row.first_seen <= row.last_seen
    for _ in range(3):
        refuse(client)
    buffer.flush()
    row.refresh_from_db()
    assert row.count == 8
    assert RejectedPreflight.objects.count() == 1


def test_rows_explain_in_the_browsers_terms(client: Client, policy: CorsPolicy) -> None:
    refuse(client, origin=APP, method="DELETE")
    refuse(client, origin=APP, method="GET", headers="x-secret")
    buffer.flush()
    method_row = RejectedPreflight.objects.get(reason="method_not_allowed")
    assert method_row.detail == "DELETE"
    assert "No 'Access-Control-Allow-Origin' header is present" in method_row.console_message
    assert "DELETE" in method_row.advice.cause
    assert "DELETE" in method_row.advice.fix
    header_row = RejectedPreflight.objects.get(reason="header_not_allowed")
    assert header_row.detail == "x-secret"
    assert header_row.request_headers == "x-secret"


def test_uncovered_path_is_recorded_without_policy(client: Client, policy: CorsPolicy) -> None:
    refuse(client, path="/other/plain/")
    buffer.flush()
    row = RejectedPreflight.objects.get()
    assert (row.reason, row.policy) == ("no_policy_for_path", None)


def test_field_lengths_are_bounded(client: Client, policy: CorsPolicy, settings: Any) -> None:
    settings.PREFLIGHT_AUDIT_MAX_VALUE_LENGTH = 40
    refuse(client, origin="https://" + "a" * 5000 + ".example")
    buffer.flush()
    row = RejectedPreflight.objects.get()
    assert len(row.origin) == 40
    assert row.origin.endswith("…")


def test_table_cap_folds_new_refusals_into_overflow_rows(
    client: Client, policy: CorsPolicy, settings: Any
) -> None:
    settings.PREFLIGHT_AUDIT_MAX_ROWS = 3
    for n in range(10):
        refuse(client, origin=f"https://evil{n}.example")
    buffer.flush()
    for n in range(10, 15):
        refuse(client, origin=f"https://evil{n}.example")
    buffer.flush()
    assert RejectedPreflight.objects.filter(is_overflow=False).count() == 3
    overflow = RejectedPreflight.objects.get(is_overflow=True)
    assert overflow.count == 12
    assert overflow.reason == "origin_not_allowed"
    assert sum(RejectedPreflight.objects.values_list("count", flat=True)) == 15


def test_buffer_is_bounded_and_counts_what_it_folds(
    client: Client, policy: CorsPolicy, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.PREFLIGHT_AUDIT_BUFFER_SIZE = 4
    for n in range(50):
        refuse(client, origin=f"https://flood{n}.example")
    assert buffer.distinct == 5, "four distinct entries and one overflow entry"
    assert buffer.pending == 50
    with caplog.at_level(logging.WARNING, logger="django_preflight"):
        assert buffer.flush() == 50
    assert "46 refusals were counted in overflow rows" in caplog.text
    assert sum(RejectedPreflight.objects.values_list("count", flat=True)) == 50


def test_database_failure_keeps_counts_for_the_next_flush(
    client: Client, policy: CorsPolicy
) -> None:
    refuse(client)
    refuse(client, origin="https://other.example")
    with mock.patch.object(audit, "_increment_all", side_effect=DatabaseError("down")):
        assert buffer.flush() == 0
    assert buffer.pending == 2
    refuse(client)
    assert buffer.flush() == 3
    assert sum(RejectedPreflight.objects.values_list("count", flat=True)) == 3


def test_failure_midway_writes_nothing_and_counts_nothing_twice(
    client: Client, policy: CorsPolicy
) -> None:
    refuse(client, origin="https://one.example")
    assert buffer.flush() == 1
    refuse(client, origin="https://one.example")
    refuse(client, origin="https://two.example")
    with mock.patch.object(
        RejectedPreflight.objects, "bulk_create", side_effect=DatabaseError("down")
    ):
        assert buffer.flush() == 0
    assert dict(RejectedPreflight.objects.values_list("origin", "count")) == {
        "https://one.example": 1
    }, "the increment made before the failure was rolled back with it"
    assert buffer.flush() == 2
    counts = dict(RejectedPreflight.objects.values_list("origin", "count"))
    assert counts == {"https://one.example": 2, "https://two.example": 1}


def test_a_flush_is_a_few_statements_whatever_its_size(
    client: Client, policy: CorsPolicy, django_assert_max_num_queries: Any
) -> None:
    # SQLite takes at most 999 parameters per statement, so about 76 rows per INSERT; the
    # servers take 500 rows. Either way the statements grow with the rows per statement, not
    # with the rows: 300 distinct refusals used to cost about 1,200 statements.
    # The lock row comes with the migrations; a transactional test run earlier may have
    # emptied the table (re-creating it is covered below), so the steady state is set up here.
    SharedState.objects.get_or_create(name=SharedState.AUDIT_LOCK, defaults={"number": 0})
    for n in range(300):
        refuse(client, origin=f"https://flood{n}.example")
    with django_assert_max_num_queries(12):
        assert buffer.flush() == 300
    for n in range(0, 600, 2):
        refuse(client, origin=f"https://flood{n}.example")
    with django_assert_max_num_queries(12):
        assert buffer.flush() == 300, "half increments, half inserts"
    counts = dict(RejectedPreflight.objects.values_list("origin", "count"))
    assert len(counts) == 450
    assert counts["https://flood0.example"] == 2
    assert counts["https://flood1.example"] == 1
    assert counts["https://flood598.example"] == 1


def test_an_increment_clears_resolved_and_keeps_the_latest_last_seen(
    client: Client, policy: CorsPolicy
) -> None:
    refuse(client)
    buffer.flush()
    row = RejectedPreflight.objects.get()
    later = timezone.now() + timezone.timedelta(days=1)
    RejectedPreflight.objects.filter(pk=row.pk).update(resolved_at=timezone.now(), last_seen=later)
    refuse(client)
    buffer.flush()
    row.refresh_from_db()
    assert (row.count, row.resolved_at, row.last_seen) == (2, None, later)


def test_the_cap_counts_the_table_as_it_is_at_write_time(
    client: Client, policy: CorsPolicy, settings: Any
) -> None:
    settings.PREFLIGHT_AUDIT_MAX_ROWS = 10
    RejectedPreflightFactory.create_batch(8)
    for n in range(5):
        refuse(client, origin=f"https://late{n}.example")
    assert buffer.flush() == 5
    rows = RejectedPreflight.objects.filter(origin__startswith="https://late")
    assert rows.count() == 2, "room for two before the cap"
    overflow = RejectedPreflight.objects.get(is_overflow=True)
    assert (overflow.count, overflow.reason) == (3, "origin_not_allowed")


def test_deleted_policy_does_not_block_the_write(client: Client, policy: CorsPolicy) -> None:
    refuse(client)
    CorsPolicy.objects.all().delete()
    assert buffer.flush() == 1
    assert RejectedPreflight.objects.get().policy is None


def test_refusals_do_not_flood_the_request_log(
    client: Client, policy: CorsPolicy, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="django.request"):
        for _ in range(20):
            refuse(client)
    assert not [r for r in caplog.records if r.name == "django.request"]


def test_audit_can_be_disabled(client: Client, policy: CorsPolicy, settings: Any) -> None:
    settings.PREFLIGHT_AUDIT_ENABLED = False
    refuse(client)
    assert buffer.pending == 0


def test_background_flusher_writes_without_a_request(
    client: Client, policy: CorsPolicy, settings: Any
) -> None:
    flushed: list[int] = []
    fresh = audit.AuditBuffer()

    def stop_after_one_flush(seconds: float) -> None:
        if flushed:
            raise SystemExit
        flushed.append(1)

    with (
        mock.patch.object(audit.time, "sleep", side_effect=stop_after_one_flush),
        mock.patch.object(audit.connections, "close_all"),
    ):
        key = audit.Key("o", "/p", "GET", "", "origin_not_allowed", "", None)
        fresh._pending[key] = audit.Tally(2, time.time(), time.time())
        with pytest.raises(SystemExit):
            fresh._run(0.01)
    assert RejectedPreflight.objects.get().count == 2


def test_a_resolved_refusal_that_happens_again_reopens(client: Client, policy: CorsPolicy) -> None:
    refuse(client)
    buffer.flush()
    RejectedPreflight.objects.update(resolved_at=timezone.now())
    buffer.flush()
    assert RejectedPreflight.objects.get().resolved_at is not None
    refuse(client)
    buffer.flush()
    row = RejectedPreflight.objects.get()
    assert (row.resolved_at, row.count) == (None, 2)


def test_prune_command_deletes_old_rows(settings: Any) -> None:
    old = RejectedPreflightFactory(last_seen=timezone.now() - timezone.timedelta(days=40))
    recent = RejectedPreflightFactory()
    call_command("preflight", "prune-audit", "--dry-run")
    assert RejectedPreflight.objects.count() == 2
    call_command("preflight", "prune-audit")
    assert list(RejectedPreflight.objects.all()) == [recent]
    assert not RejectedPreflight.objects.filter(pk=old.pk).exists()
    call_command("preflight", "prune-audit", "--days", "0")
    assert RejectedPreflight.objects.count() == 0


def test_times_are_written_as_the_moments_of_the_refusals(
    client: Client, policy: CorsPolicy
) -> None:
    before = timezone.now()
    refuse(client)
    refuse(client)
    after = timezone.now()
    buffer.flush()
    row = RejectedPreflight.objects.get()
    assert timezone.is_aware(row.first_seen)
    assert before <= row.first_seen <= row.last_seen <= after


def test_times_are_naive_without_time_zone_support(settings: Any) -> None:
    settings.USE_TZ = False
    key = audit.Key("o", "/p", "GET", "", "origin_not_allowed", "", None)
    now = timezone.now()
    written = audit.stamped({key: audit.Tally(1, now.timestamp(), now.timestamp())})[key]
    assert timezone.is_naive(written.first_seen)
    assert written.first_seen == written.last_seen == now


def test_a_forked_child_starts_its_own_flusher(client: Client, policy: CorsPolicy) -> None:
    fresh = audit.AuditBuffer()
    with mock.patch.object(audit.AuditBuffer, "_run"):
        fresh._ensure_flusher(60.0)
        started = fresh._flusher
        assert started is not None
        audit._after_fork_in_child()
        assert fresh._flusher is None
        fresh._ensure_flusher(60.0)
        assert fresh._flusher is not started


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_flusher_that_stopped_is_replaced(client: Client, policy: CorsPolicy) -> None:
    fresh = audit.AuditBuffer()
    with (
        mock.patch.object(audit.time, "sleep", side_effect=SystemExit),
        mock.patch.object(audit.connections, "close_all"),
    ):
        fresh._ensure_flusher(0.01)
        stopped = fresh._flusher
        assert stopped is not None
        stopped.join(10)
    assert fresh._flusher is None, "the next refusal starts a new one"
