"""What differs between SQLite, PostgreSQL and MariaDB/MySQL, pinned on whichever one runs.

These tests use the test database that ``DATABASE_URL`` selects, so the same file proves the
same behaviour on each: JSON token lists, case-insensitive searches next to case-sensitive
values, unique constraints over long values in four-byte UTF-8, and the audit's upsert when
several writers add to the same row at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.test import Client
from django.utils import timezone

from django_preflight import audit
from django_preflight.audit import AuditBuffer, buffer
from django_preflight.engine.decision import Outcome, RequestFacts, decide
from django_preflight.models import AllowedOrigin, CorsPolicy, RejectedPreflight, SharedState
from django_preflight.store import load_policy_set, store

APP = "https://app.example.com"

pytestmark = pytest.mark.django_db


def outcome(origin: str, method: str = "GET") -> Outcome:
    facts = RequestFacts("OPTIONS", "/api/x", origin, method)
    return decide(store.current(), facts).outcome


def test_token_lists_round_trip_as_json_lists(make_policy: Callable[..., CorsPolicy]) -> None:
    policy = make_policy(
        origins=(APP,),
        path_prefix="/api/",
        allowed_methods=["PUT", "GET", "put"],
        allowed_headers=["X-Trace-Id", "content-type"],
        exposed_headers=[],
    )
    policy.refresh_from_db()
    assert policy.allowed_methods == ["PUT", "GET", "put"], "order and case kept"
    assert policy.exposed_headers == []
    row = CorsPolicy.objects.values("allowed_methods", "allowed_headers").get(pk=policy.pk)
    assert row == {
        "allowed_methods": ["PUT", "GET", "put"],
        "allowed_headers": ["X-Trace-Id", "content-type"],
    }
    (compiled,) = load_policy_set().policies
    assert set(compiled.methods) == {"PUT", "GET", "put"}
    assert outcome(APP, "put") is Outcome.PREFLIGHT_ALLOWED
    assert outcome(APP, "Put") is Outcome.PREFLIGHT_REFUSED, "methods stay byte for byte"


def test_admin_searches_ignore_case_on_every_database(
    admin_client: Client, make_policy: Callable[..., CorsPolicy]
) -> None:
    make_policy(origins=(APP, "https://other.example.org"), name="Frontend", path_prefix="/api/")
    RejectedPreflight.objects.create(
        fingerprint="f" * 64,
        origin="https://blocked.example.net",
        path="/api/Items/",
        request_method="PUT",
        reason="origin_not_allowed",
        count=1,
        first_seen=timezone.now(),
        last_seen=timezone.now(),
    )
    searches = [
        ("/admin/django_preflight/allowedorigin/", "APP.Example", 1),
        ("/admin/django_preflight/corspolicy/", "APP.EXAMPLE.COM", 1),
        ("/admin/django_preflight/corspolicy/", "frontEND", 1),
        ("/admin/django_preflight/rejectedpreflight/", "BLOCKED.example", 1),
        ("/admin/django_preflight/rejectedpreflight/", "/api/items", 1),
    ]
    for url, term, expected in searches:
        response = admin_client.get(url, {"q": term})
        assert response.status_code == 200
        assert response.context["cl"].result_count == expected, (url, term)


def test_origin_values_are_unique_case_sensitively(
    make_policy: Callable[..., CorsPolicy],
) -> None:
    r"""``\d`` and ``\D`` differ only in case and mean opposite things: both can be saved."""
    digit, not_digit = r"^https://app\d\.example\.com$", r"^https://app\D\.example\.com$"
    make_policy(
        origins=(digit, not_digit), kinds=["regex", "regex"], name="regexes", path_prefix="/api/"
    )
    assert set(AllowedOrigin.objects.values_list("value", flat=True)) == {digit, not_digit}
    assert outcome("https://app1.example.com") is Outcome.PREFLIGHT_ALLOWED
    assert outcome("https://appx.example.com") is Outcome.PREFLIGHT_ALLOWED


def long_regex(last: str) -> str:
    """A valid 500-character origin regex, mostly four-byte characters, ending in ``last``."""
    head, tail = "^https://(?:", f")?app\\.example\\.{last}$"
    value = head + "\U0001f600" * (500 - len(head) - len(tail)) + tail
    assert len(value) == 500
    return value


def test_unique_constraint_covers_long_values_in_full(
    make_policy: Callable[..., CorsPolicy],
) -> None:
    com, org = long_regex("com"), long_regex("org")
    policy = make_policy(origins=(com, org), kinds=["regex", "regex"], path_prefix="/api/")
    stored = sorted(AllowedOrigin.objects.values_list("value", flat=True))
    assert stored == sorted([com, org]), "both kept whole, four-byte characters included"
    with pytest.raises(IntegrityError), transaction.atomic():
        AllowedOrigin.objects.create(policy=policy, kind="regex", value=com)
    duplicate = AllowedOrigin(policy=policy, kind="regex", value=org)
    with pytest.raises(Exception, match="already exists"):
        duplicate.full_clean()
    assert outcome("https://app.example.org") is Outcome.PREFLIGHT_ALLOWED


def test_audit_rows_keep_values_at_their_length_limits(
    client: Client, make_policy: Callable[..., CorsPolicy], settings: Any
) -> None:
    settings.PREFLIGHT_AUDIT_MAX_VALUE_LENGTH = 500
    make_policy(origins=(APP,), path_prefix="/api/")
    origin = "https://" + "\U0001f600" * 400 + ".example"
    path = "/api/" + "\u00e9\U0001f600" * 300
    response = client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="PUT",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-" + "a" * 600,
    )
    assert response.status_code == 403
    assert buffer.flush() == 1
    row = RejectedPreflight.objects.get()
    assert (len(row.origin), len(row.path), len(row.request_headers)) == (300, 500, 500)
    assert row.origin == origin[:299] + "…"
    assert row.path == path[:499] + "…"


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_add_up_in_one_row(make_policy: Callable[..., CorsPolicy]) -> None:
    """Writers flush the same new refusal at once: they take turns on the audit's lock row, so
    the first inserts it and the others add to it, without an insert race to lose."""
    policy = make_policy(origins=(APP,), path_prefix="/api/")
    # As `manage.py flush` (and a transactional test's teardown) leaves it: no lock row yet.
    SharedState.objects.filter(name=SharedState.AUDIT_LOCK).delete()
    writers, per_writer = 6, 25
    key = audit.Key(
        "https://refused.example", "/api/items/", "PUT", "", "origin_not_allowed", "", policy.pk
    )
    buffers = [AuditBuffer() for _ in range(writers)]
    now = time.time()
    for writer, pending in enumerate(buffers):
        pending._pending[key] = audit.Tally(per_writer, now, now)
        other = key._replace(origin=f"https://writer{writer}.example")
        pending._pending[other] = audit.Tally(1, now, now)
    together = threading.Barrier(writers, timeout=30)
    written: list[int] = []

    def write(pending: AuditBuffer) -> None:
        try:
            together.wait()
            written.append(pending.flush())
            for _ in range(50):  # SQLite refuses a second writer instead of making it wait
                if not pending.pending:
                    return
                time.sleep(0.05)
                pending.flush()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(b,)) for b in buffers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not any(thread.is_alive() for thread in threads)
    assert [b.pending for b in buffers] == [0] * writers
    if connection.vendor != "sqlite":
        assert written == [per_writer + 1] * writers, "each waited its turn, none failed"
    shared = RejectedPreflight.objects.get(origin="https://refused.example")
    assert shared.count == writers * per_writer
    assert RejectedPreflight.objects.count() == 1 + writers
