"""How many distinct refusals per second one worker's audit can write before it falls behind.

``python -m benchmarks.audit_write [--sizes 100,1000] [--repeat 3]``

A flush that takes ``t`` seconds to write ``n`` distinct refusals keeps up with at most ``n / t``
new distinct refusals per second; past that, the buffer's overflow entry takes the details.
Measured side by side in one run, in alternation, on the database ``DATABASE_URL`` selects (a
scratch database: the audit table is emptied between rounds) or a temporary SQLite file:

- **per row**: the audit's previous write, one ``UPDATE`` per distinct refusal and, for a new
  one, an ``INSERT`` in a savepoint (about four statements per refusal), kept here as the
  reference;
- **batched**: the audit's write, one transaction of a few statements per flush.

Each size is measured twice per round: all new rows (inserts), then the same refusals again
(increments). The figures are medians over the rounds; compare the ratio, not the absolute rates,
which depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _batch(size: int, now: Any) -> dict[Any, Any]:
    from django_preflight import audit

    return {
        audit.Key(
            f"https://b{n}.example", "/api/items/", "PUT", "", "origin_not_allowed", "", None
        ): audit.Written(1, now, now)
        for n in range(size)
    }


def per_row_write(batch: dict[Any, Any]) -> int:
    """The previous write: per distinct refusal an UPDATE, and on a miss an INSERT."""
    from django.db import IntegrityError, transaction
    from django.db.models import F
    from django.db.models.functions import Greatest

    from django_preflight.audit import fingerprint
    from django_preflight.models import RejectedPreflight

    RejectedPreflight.objects.count()
    written = 0
    for key, tally in batch.items():
        rows = RejectedPreflight.objects.filter(fingerprint=fingerprint(key))
        if not rows.update(
            count=F("count") + tally.count, last_seen=Greatest(F("last_seen"), tally.last_seen)
        ):
            try:
                with transaction.atomic():
                    RejectedPreflight.objects.create(
                        fingerprint=fingerprint(key),
                        origin=key.origin,
                        path=key.path,
                        request_method=key.method,
                        request_headers=key.headers,
                        reason=key.reason,
                        detail=key.detail,
                        count=tally.count,
                        first_seen=tally.first_seen,
                        last_seen=tally.last_seen,
                    )
            except IntegrityError:
                rows.update(count=F("count") + tally.count)
        written += tally.count
    return written


def batched_write(batch: dict[Any, Any]) -> int:
    """The audit's write."""
    from django_preflight import audit

    return audit._write(batch)


def _timed(write: Callable[[dict[Any, Any]], int], size: int) -> float:
    from django.utils import timezone

    batch = _batch(size, timezone.now())
    started = time.perf_counter()
    assert write(batch) == size
    return time.perf_counter() - started


def measure(sizes: list[int], repeat: int) -> list[dict[str, Any]]:
    """Rates per size and method: new rows, then increments; medians over ``repeat`` rounds."""
    from django_preflight.models import RejectedPreflight

    writers = {"per row": per_row_write, "batched": batched_write}
    seconds: dict[tuple[int, str, str], list[float]] = {}
    for _ in range(repeat):
        for size in sizes:
            for name, write in writers.items():
                RejectedPreflight.objects.all().delete()
                for phase in ("insert", "increment"):
                    seconds.setdefault((size, name, phase), []).append(_timed(write, size))
    RejectedPreflight.objects.all().delete()
    return [
        {
            "size": size,
            "method": name,
            "phase": phase,
            "median_s": statistics.median(values),
            "refusals_per_s": size / statistics.median(values),
        }
        for (size, name, phase), values in seconds.items()
    ]


def main(argv: list[str]) -> int:
    """Set up Django on the chosen database, measure, print a table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.audit_write", description=__doc__)
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    scratch = tempfile.TemporaryDirectory(prefix="preflight-audit-bench-")
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(scratch.name) / 'audit.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    call_command("migrate", verbosity=0)
    results = measure([int(s) for s in args.sizes.split(",")], args.repeat)
    print(f"audit writes on {connection.vendor}, medians of {args.repeat} rounds")
    print(f"{'distinct':>9} {'phase':>10} {'per row /s':>12} {'batched /s':>12} {'ratio':>7}")
    for size in sorted({r["size"] for r in results}):
        for phase in ("insert", "increment"):
            rate = {
                r["method"]: r["refusals_per_s"]
                for r in results
                if r["size"] == size and r["phase"] == phase
            }
            print(
                f"{size:>9} {phase:>10} {rate['per row']:>12,.0f} {rate['batched']:>12,.0f} "
                f"{rate['batched'] / rate['per row']:>6.1f}x"
            )
    scratch.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
