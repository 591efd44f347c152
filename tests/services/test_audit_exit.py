"""The audit's last flush at process exit, when a background flush is still writing.

Daemon threads are stopped when the interpreter finalises, after the exit handlers ran. A batch
the background thread had taken but not yet written would be lost, so the exit handler's flush
waits for it (gunicorn workers stopped with SIGTERM go through exactly this).
"""

from __future__ import annotations

import threading
import time
from unittest import mock

import pytest
from django.db import connections

from django_preflight import audit
from django_preflight.audit import AuditBuffer
from django_preflight.models import RejectedPreflight


def _key(origin: str) -> audit.Key:
    return audit.Key(origin, "/api/items/", "PUT", "", "origin_not_allowed", "", None)


@pytest.mark.django_db(transaction=True)
def test_exit_flush_waits_for_a_background_write_in_progress() -> None:
    pending = AuditBuffer()
    now = time.time()
    pending._pending[_key("https://taken.example")] = audit.Tally(3, now, now)
    taken, release = threading.Event(), threading.Event()
    real_write = audit._write

    def slow_write(batch: dict[audit.Key, audit.Written]) -> int:
        if not taken.is_set():
            taken.set()
            release.wait(10)
        return real_write(batch)

    def flush_and_close() -> None:
        try:
            pending.flush()
        finally:
            connections.close_all()

    with mock.patch.object(audit, "_write", side_effect=slow_write):
        background = threading.Thread(target=flush_and_close)
        background.start()
        assert taken.wait(10)
        pending._pending[_key("https://late.example")] = audit.Tally(2, now, now)
        at_exit = threading.Thread(target=flush_and_close)
        at_exit.start()
        at_exit.join(0.3)
        still_waiting = at_exit.is_alive()
        release.set()
        background.join(10)
        at_exit.join(10)

    assert still_waiting, "the exit flush waited for the batch in flight"
    counts = dict(RejectedPreflight.objects.values_list("origin", "count"))
    assert counts == {"https://taken.example": 3, "https://late.example": 2}
