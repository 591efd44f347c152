"""``python -m benchmarks.regex_worst_case [--quick]``: the costliest origin regex we could write,
timed on hostile origins of 100, 1,000 and 10,000 bytes.

Origin regexes run on RE2, so the time must grow linearly with the origin's length whatever the
pattern: each tenfold longer origin should cost about ten times as much. The candidates are the
patterns that hurt most: nested repeats that make a backtracking engine try every split, and
"a letter followed by exactly n more" which needs 2^n automaton states and pushes RE2 off its
fast path. The worst of them at 1,000 bytes is reported; the engine's own preflight check is
timed beside it (origins over 300 characters are refused before any regex runs).
Timings are the thread's CPU time, median of the repetitions; nothing here fails on a timing.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import sys
import time
from collections.abc import Callable

from django_preflight.engine import OriginKind, OriginSpec, PolicySpec, build_policy_set
from django_preflight.engine.origins import compile_origin_regex

LENGTHS = (100, 1_000, 10_000)
SEEDS = (1, 2, 3)
TAILS = (".example.com", ".example.org")
CANDIDATES = (
    r"https://([a-z0-9-]+\.?)+\.example\.com",
    r"https://(([a-z0-9.-])*)*x\.example\.com",
    r"https://[a-z0-9.-]*a[a-z0-9.-]{24}\.example\.com",
    r"https://([a-z0-9.-]*a[a-z0-9.-]{12}){1,8}\.example\.com",
)


def hostile_origin(length: int, seed: int, tail: str) -> str:
    """``https://`` + random letters a and b (a label break every 60) + ``tail``, ``length``
    bytes in all."""
    rng = random.Random(seed)
    body_length = length - len("https://") - len(tail)
    body = "".join(rng.choice("ab") if i % 61 != 60 else "." for i in range(body_length))
    return f"https://{body}{tail}"


def cpu_seconds_per_call(call: Callable[[], object], reps: int) -> float:
    """Median thread CPU seconds of one call, over ``reps`` repetitions of enough calls to last
    a few milliseconds."""
    loops = 1
    while True:
        started = time.thread_time()
        for _ in range(loops):
            call()
        if time.thread_time() - started > 0.005 or loops >= 100_000:
            break
        loops *= 4
    samples = []
    for _ in range(reps):
        started = time.thread_time()
        for _ in range(loops):
            call()
        samples.append((time.thread_time() - started) / loops)
    return statistics.median(samples)


def measure(reps: int) -> dict[str, object]:
    """Per candidate and length, seconds per match on the costliest of several hostile origins
    (accepted and refused ones); the worst candidate; the engine's own check."""
    inputs = {
        length: [hostile_origin(length, seed, tail) for seed in SEEDS for tail in TAILS]
        for length in LENGTHS
    }
    table: dict[str, dict[int, float]] = {}
    for pattern in CANDIDATES:
        regex = compile_origin_regex(pattern)
        table[pattern] = {
            length: max(
                cpu_seconds_per_call(lambda o=origin, r=regex: r.fullmatch(o), reps)  # type: ignore[misc]
                for origin in origins
            )
            for length, origins in inputs.items()
        }
    origins = {length: found[0] for length, found in inputs.items()}
    worst = max(table, key=lambda p: table[p][1_000])
    snapshot = build_policy_set(
        [PolicySpec(1, "worst", origins=(OriginSpec(OriginKind.REGEX, worst),))]
    )
    index = snapshot.tiers[0].origins
    preflight = {
        length: cpu_seconds_per_call(lambda o=origin: index.match(o), reps)  # type: ignore[misc]
        for length, origin in origins.items()
    }
    return {"table": table, "worst": worst, "preflight": preflight}


def render(result: dict[str, object]) -> str:
    table: dict[str, dict[int, float]] = result["table"]  # type: ignore[assignment]
    preflight: dict[int, float] = result["preflight"]  # type: ignore[assignment]
    lines = ["pattern | " + " | ".join(f"{n:,} B (us)" for n in LENGTHS) + " | x10 growth"]
    for pattern, times in table.items():
        growth = " / ".join(f"{times[b] / times[a]:.1f}" for a, b in itertools.pairwise(LENGTHS))
        mark = "  <- worst" if pattern == result["worst"] else ""
        cells = " | ".join(f"{times[n] * 1e6:.2f}" for n in LENGTHS)
        lines.append(f"{pattern} | {cells} | {growth}{mark}")
    slowest = {n: max(times[n] for times in table.values()) for n in LENGTHS}
    cells = " | ".join(f"{slowest[n] * 1e6:.2f}" for n in LENGTHS)
    growth = " / ".join(f"{slowest[b] / slowest[a]:.1f}" for a, b in itertools.pairwise(LENGTHS))
    lines.append(f"slowest of all at each length | {cells} | {growth}")
    cells = " | ".join(f"{preflight[n] * 1e6:.2f}" for n in LENGTHS)
    lines.append(f"engine match, worst pattern | {cells} | (over 300 B refused unparsed)")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.regex_worst_case")
    parser.add_argument("--quick", action="store_true", help="3 repetitions instead of 15")
    args = parser.parse_args(argv)
    print(render(measure(3 if args.quick else 15)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
