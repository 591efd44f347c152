"""Floods of refused preflights: the audit buffer, the audit table and memory stay bounded.

100,000 refusals from distinct random origins go through the engine and the process's audit
buffer (what the middleware does per refused preflight, without the HTTP layer), flushed to
the database every 25,000; a few thousand more go through the middleware. The figures are
printed (run with ``-s`` to see them).
"""

from __future__ import annotations

import gc
import random
import tracemalloc
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from django_preflight.audit import buffer
from django_preflight.engine import OriginKind, OriginSpec, PolicySpec, build_policy_set
from django_preflight.engine.decision import Reason, RequestFacts, decide
from django_preflight.models import CorsPolicy, RejectedPreflight

from .support import preflight

pytestmark = [pytest.mark.django_db, pytest.mark.flood]

APP = "https://app.example.com"
FLOOD = 100_000
FLUSH_EVERY = 25_000
BUFFER_SIZE = 100
MAX_ROWS = 250
SPEC = PolicySpec(
    1,
    "flooded",
    "/api/",
    allowed_methods=("GET", "PUT"),
    allowed_headers=("content-type",),
    origins=(OriginSpec(OriginKind.EXACT, APP),),
)


def flood_facts(rng: random.Random) -> RequestFacts:
    """A refused preflight; mostly a random origin, sometimes another reason."""
    token = f"{rng.getrandbits(64):016x}"
    roll = rng.random()
    if roll < 0.7:
        return RequestFacts("OPTIONS", "/api/items/", f"https://{token}.example.net", "PUT")
    if roll < 0.8:
        return RequestFacts("OPTIONS", f"/other/{token}/", APP, "PUT")
    if roll < 0.9:
        return RequestFacts("OPTIONS", "/api/items/", APP, f"M{token}")
    if roll < 0.95:
        return RequestFacts("OPTIONS", "/api/items/", APP, "PUT", f"x-{token}")
    return RequestFacts("OPTIONS", "/api/items/", APP, "PUT", f"bad {token}")


def assert_buffer_bounded() -> None:
    """At most the capacity of distinct entries, plus one overflow entry per reason."""
    pending = buffer.entries()
    details = [key for key in pending if not key.overflow]
    overflow = Counter((key.reason, key.report_only) for key in pending if key.overflow)
    assert len(details) <= BUFFER_SIZE
    assert all(n == 1 for n in overflow.values())


def assert_table_bounded(recorded: int, cap: int = MAX_ROWS) -> tuple[int, int]:
    """Rows with details stay within the cap, which overflow rows share; one overflow row per
    reason may go past it; no refusal is lost."""
    rows = RejectedPreflight.objects.filter(is_overflow=False).count()
    overflow = Counter(
        RejectedPreflight.objects.filter(is_overflow=True).values_list("reason", "report_only")
    )
    assert rows <= cap
    assert all(n == 1 for n in overflow.values())
    assert sum(RejectedPreflight.objects.values_list("count", flat=True)) == recorded
    return rows, sum(overflow.values())


def test_a_flood_through_the_engine_and_the_buffer(settings: Any) -> None:
    settings.PREFLIGHT_AUDIT_BUFFER_SIZE = BUFFER_SIZE
    settings.PREFLIGHT_AUDIT_MAX_ROWS = MAX_ROWS
    policies = build_policy_set([SPEC])
    rng = random.Random(7)
    reasons: Counter[str] = Counter()
    largest = 0
    gc.collect()
    tracemalloc.start()
    try:
        after_first_flush = 0
        for n in range(1, FLOOD + 1):
            facts = flood_facts(rng)
            decision = decide(policies, facts)
            assert decision.refused
            reasons[decision.reason.value] += 1
            buffer.record(decision, facts)
            # The buffer only grows between flushes, so checking before each flush (and
            # every hundred records) sees its largest size.
            if n % 100 == 0:
                largest = max(largest, buffer.distinct)
                assert_buffer_bounded()
            if n % FLUSH_EVERY == 0:
                assert buffer.flush() == FLUSH_EVERY
                assert_table_bounded(n)
                if n == FLUSH_EVERY:
                    gc.collect()
                    after_first_flush = tracemalloc.get_traced_memory()[0]
        gc.collect()
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rows, overflow_rows = assert_table_bounded(FLOOD)
    assert set(reasons) == {
        Reason.ORIGIN_NOT_ALLOWED.value,
        Reason.NO_POLICY.value,
        Reason.METHOD_NOT_ALLOWED.value,
        Reason.HEADER_NOT_ALLOWED.value,
        Reason.MALFORMED_REQUEST.value,
    }
    assert largest <= BUFFER_SIZE + len(reasons)
    growth = current - after_first_flush
    print(
        f"\nflood: {FLOOD:,} refusals {dict(reasons)}; buffer at most {largest} entries "
        f"(capacity {BUFFER_SIZE}); table {rows} rows + {overflow_rows} overflow rows "
        f"(cap {MAX_ROWS}); memory traced since the start: {after_first_flush / 1024:.0f} KiB "
        f"after the first flush, {current / 1024:.0f} KiB at the end "
        f"(growth over the last {FLOOD - FLUSH_EVERY:,}: {growth / 1024:.0f} KiB), "
        f"peak {peak / 1024:.0f} KiB"
    )
    assert growth < 1024 * 1024, "memory does not grow with the number of refusals"


def test_a_flood_through_the_middleware(
    make_policy: Callable[..., CorsPolicy], client: Client, settings: Any
) -> None:
    settings.PREFLIGHT_AUDIT_BUFFER_SIZE = 100
    settings.PREFLIGHT_AUDIT_MAX_ROWS = 300
    make_policy(origins=(APP,), name="flooded", path_prefix="/api/")
    rng = random.Random(11)
    total = 2_500
    for n in range(1, total + 1):
        origin = f"https://{rng.getrandbits(64):016x}.example.net"
        response = preflight(client, "/api/items/1/", origin)
        assert response.status_code == 403
        assert "Access-Control-Allow-Origin" not in response.headers
        assert buffer.distinct <= 101
        if n % 500 == 0:
            buffer.flush()
            assert_table_bounded(n, cap=300)
    rows, overflow_rows = assert_table_bounded(total, cap=300)
    assert overflow_rows == 1
    print(f"\nmiddleware flood: {total:,} refusals; {rows} rows + {overflow_rows} overflow row")


def test_distinct_huge_preflights_from_an_allowed_origin_do_not_pile_up_in_memory() -> None:
    """Nothing keyed by request values may keep them: 3,000 preflights from the allowed origin,
    each with a different 64 KB header list and method, leave memory where it was."""
    policies = build_policy_set([SPEC])
    filler = "content-type," * 5000
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(3_000):
            for facts in (
                RequestFacts("OPTIONS", "/api/items/", APP, "PUT", f"x-{n},{filler}"),
                RequestFacts("OPTIONS", "/api/items/", APP, f"M{n}" + "X" * 65_000),
            ):
                assert decide(policies, facts).reason is Reason.MALFORMED_REQUEST
        gc.collect()
        growth = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    print(f"\n3,000 distinct 64 KB preflights: traced memory grew {growth / 1024:.0f} KiB")
    assert growth < 4 * 1024 * 1024
