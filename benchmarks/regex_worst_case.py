"""``python -m benchmarks.regex_worst_case [--quick]``: the costliest origin regex we could write,
timed on hostile origins of 100, 1,000, 10,000 and (not with ``--quick``) 100,000 bytes.

Origin regexes run on RE2, so the time must grow linearly with the origin's length whatever the
pattern. The candidates are the patterns that hurt most: nested repeats that make a backtracking
engine try every split, and "a letter followed by exactly n more" which needs 2^n automaton
states and pushes RE2 off its fast path. RE2 runs a lazily built DFA while its states fit its
memory budget, then falls back to simulating the automaton, which costs more per byte but the
same for every byte: the cost per byte rises over the first few thousand bytes of such an origin
and then stays flat, which is linear growth. The table gives the cost per byte at each length
to show it. The worst pattern at 1,000 bytes is reported; the engine's own preflight check is
timed beside it, at 300 bytes too (origins over 300 characters are refused before any regex
runs, so 300 bytes is the longest origin a regex ever sees).
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
from django_preflight.engine.limits import MAX_ORIGIN_LENGTH
from django_preflight.engine.origins import compile_origin_regex

LENGTHS = (100, 1_000, 10_000)
LONGEST = 100_000
"""Added without ``--quick``; timed with 3 repetitions (a match takes a fifth of a second)."""
REGEX_LIMIT = MAX_ORIGIN_LENGTH
"""The longest origin the engine passes to a regex."""
DISTINCT_ORIGINS = 1_000
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


def measure(reps: int, lengths: tuple[int, ...]) -> dict[str, object]:
    """Per candidate and length, seconds per match on the costliest of several hostile origins
    (accepted and refused ones); the worst candidate; the engine's own check."""
    inputs = {
        length: [hostile_origin(length, seed, tail) for seed in SEEDS for tail in TAILS]
        for length in lengths
    }
    table: dict[str, dict[int, float]] = {}
    for pattern in CANDIDATES:
        regex = compile_origin_regex(pattern)
        table[pattern] = {
            length: max(
                cpu_seconds_per_call(
                    lambda o=origin, r=regex: r.fullmatch(o),  # type: ignore[misc]
                    reps if length < LONGEST else 3,
                )
                for origin in origins
            )
            for length, origins in inputs.items()
        }
    origins = {
        length: found[0]
        for length, found in {
            **inputs,
            REGEX_LIMIT: [hostile_origin(REGEX_LIMIT, 1, TAILS[1])],
        }.items()
    }
    worst = max(table, key=lambda p: table[p][1_000])
    snapshot = build_policy_set(
        [PolicySpec(1, "worst", origins=(OriginSpec(OriginKind.REGEX, worst),))]
    )
    index = snapshot.tiers[0].origins
    preflight = {
        length: cpu_seconds_per_call(lambda o=origin: index.match(o), reps)  # type: ignore[misc]
        for length, origin in origins.items()
    }
    return {
        "table": table,
        "worst": worst,
        "preflight": preflight,
        "lengths": lengths,
        "distinct": distinct_origins_cost(table),
    }


def distinct_origins_cost(table: dict[str, dict[int, float]]) -> dict[str, float]:
    """Per candidate, CPU seconds per engine match of a stream of distinct hostile origins of
    the longest length a regex sees: each one takes RE2's automaton to states its cache has not
    seen, so this, not one origin repeated, is what an attacker can make every preflight cost."""
    origins = [hostile_origin(REGEX_LIMIT, seed, TAILS[1]) for seed in range(DISTINCT_ORIGINS)]
    costs = {}
    for pattern in table:
        snapshot = build_policy_set(
            [PolicySpec(1, "one", origins=(OriginSpec(OriginKind.REGEX, pattern),))]
        )
        index = snapshot.tiers[0].origins
        started = time.thread_time()
        for origin in origins:
            index.match(origin)
        costs[pattern] = (time.thread_time() - started) / len(origins)
    return costs


def render(result: dict[str, object]) -> str:
    table: dict[str, dict[int, float]] = result["table"]  # type: ignore[assignment]
    preflight: dict[int, float] = result["preflight"]  # type: ignore[assignment]
    lengths: tuple[int, ...] = result["lengths"]  # type: ignore[assignment]

    def row(name: str, times: dict[int, float], note: str = "") -> str:
        cells = " | ".join(f"{times[n] * 1e6:.2f} ({times[n] * 1e9 / n:.0f})" for n in lengths)
        growth = " / ".join(f"{times[b] / times[a]:.1f}" for a, b in itertools.pairwise(lengths))
        return f"{name} | {cells} | {growth}{note}"

    header = " | ".join(f"{n:,} B: us (ns/B)" for n in lengths)
    lines = [f"pattern | {header} | x10 growth"]
    for pattern, times in table.items():
        lines.append(row(pattern, times, "  <- worst" if pattern == result["worst"] else ""))
    lines.append(
        row(
            "slowest of all at each length", {n: max(t[n] for t in table.values()) for n in lengths}
        )
    )
    cells = " | ".join(f"{preflight[n] * 1e6:.2f}" for n in (REGEX_LIMIT, *lengths))
    lines.append(
        f"engine match, worst pattern, at {REGEX_LIMIT:,} B and each length | {cells} | "
        f"(over {REGEX_LIMIT} B refused unparsed)"
    )
    distinct: dict[str, float] = result["distinct"]  # type: ignore[assignment]
    lines.append(f"engine match, {DISTINCT_ORIGINS:,} distinct {REGEX_LIMIT} B origins (us each):")
    lines.extend(f"  {pattern} | {cost * 1e6:.1f}" for pattern, cost in distinct.items())
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.regex_worst_case")
    parser.add_argument("--quick", action="store_true", help="3 repetitions instead of 15")
    args = parser.parse_args(argv)
    lengths = LENGTHS if args.quick else (*LENGTHS, LONGEST)
    print(render(measure(3 if args.quick else 15, lengths)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
