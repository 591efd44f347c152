"""The long fuzz run: random policy sets and near-miss requests, every answer checked.

    python -m fuzz --requests 1000000 [--seed N] [--middleware-share 0.02]

Most requests go to the engine alone (``decide``); a share goes through Django's full request
handling with ``PreflightMiddleware`` and the audit, on a throw-away SQLite database. The same
invariants as the property tests are checked on every answer; the run prints counts, timing
and the first example of every problem, and exits with status 1 if it found any.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import traceback
from collections import Counter
from typing import Any

SPECS_PER_SET = 2_000
"""Requests decided against one generated policy set before the next one is built."""


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run both parts, print the report."""
    parser = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1_000_000, help="total requests")
    parser.add_argument("--seed", type=int, default=20_240_601, help="random seed (replayable)")
    parser.add_argument(
        "--middleware-share",
        type=float,
        default=0.02,
        help="fraction of the requests sent through the full Django stack",
    )
    args = parser.parse_args(argv)
    through_django = int(args.requests * args.middleware_share)
    engine_only = args.requests - through_django

    print(f"seed {args.seed}", flush=True)
    with tempfile.TemporaryDirectory() as directory:
        _setup_django(os.path.join(directory, "fuzz.sqlite3"))
        engine = run_engine(engine_only, args.seed)
        _print_part("engine", engine)
        django_part = run_middleware(through_django, args.seed + 1)
        _print_part("middleware", django_part)
    total_problems = sum(engine["problems"].values()) + sum(django_part["problems"].values())
    total_crashes = engine["crashes"] + django_part["crashes"]
    print(f"total: {args.requests:,} requests, {total_problems} problems, {total_crashes} crashes")
    return 1 if total_problems or total_crashes else 0


def _setup_django(database: str) -> None:
    import django
    from django.conf import settings
    from django.core.management import call_command

    from fuzz.site import settings_for

    settings.configure(**settings_for(database))
    django.setup()
    call_command("migrate", verbosity=0)


def run_engine(requests: int, seed: int) -> dict[str, Any]:
    """Decide ``requests`` generated requests against generated policy sets."""
    from django_preflight.engine import build_policy_set
    from django_preflight.engine.decision import decide
    from fuzz.generate import Generator
    from fuzz.invariants import decision_problems, enforced_specs

    generator = Generator(seed)
    problems: Counter[str] = Counter()
    examples: dict[str, str] = {}
    outcomes: Counter[str] = Counter()
    crashes = sets = done = 0
    started = time.perf_counter()
    while done < requests:
        specs = generator.policy_specs()
        snapshot = build_policy_set(specs)
        enforced = enforced_specs(specs, snapshot)
        sets += 1
        for _ in range(min(SPECS_PER_SET, requests - done)):
            done += 1
            facts = generator.facts(specs)
            try:
                decision = decide(snapshot, facts)
            except Exception:
                crashes += 1
                examples.setdefault("crash", f"{facts!r}\n{traceback.format_exc()}")
                continue
            outcomes[f"{decision.outcome.value}/{decision.reason.value}"] += 1
            for problem in decision_problems(enforced, facts, decision):
                problems[problem] += 1
                examples.setdefault(problem, f"{facts!r} with {specs!r}"[:2000])
    return {
        "requests": done,
        "policy sets": sets,
        "seconds": time.perf_counter() - started,
        "outcomes": outcomes,
        "problems": problems,
        "examples": examples,
        "crashes": crashes,
    }


def run_middleware(requests: int, seed: int) -> dict[str, Any]:
    """Send ``requests`` generated requests through Django with the middleware and the audit."""
    from django.core.signals import got_request_exception
    from django.test import Client

    from django_preflight.audit import buffer
    from django_preflight.models import RejectedPreflight
    from fuzz.generate import Generator
    from fuzz.site import CheckingMiddleware, CountingHandler

    generator = Generator(seed)
    client = Client(raise_request_exception=False)
    crashes: list[str] = []
    got_request_exception.connect(
        lambda sender, request=None, **kw: crashes.append(traceback.format_exc()),
        weak=False,
    )
    largest_buffer = done = sets = 0
    started = time.perf_counter()
    while done < requests:
        specs = generator.policy_specs()
        _save_policies(specs)
        sets += 1
        for _ in range(min(SPECS_PER_SET // 4, requests - done)):
            done += 1
            _send(client, generator.facts(specs))
            largest_buffer = max(largest_buffer, buffer.distinct)
    seconds = time.perf_counter() - started
    buffer.flush()
    rows = RejectedPreflight.objects.count()
    return {
        "requests": done,
        "policy sets": sets,
        "seconds": seconds,
        "outcomes": CheckingMiddleware.outcomes,
        "problems": CheckingMiddleware.problems,
        "examples": {**CheckingMiddleware.examples, **({"crash": crashes[0]} if crashes else {})},
        "crashes": len(crashes),
        "audit rows": rows,
        "audit overflow rows": RejectedPreflight.objects.filter(is_overflow=True).count(),
        "audit refusals counted": sum(RejectedPreflight.objects.values_list("count", flat=True)),
        "largest audit buffer": largest_buffer,
        "log records": {
            key: f"{count} (e.g. {CountingHandler.examples[key]!r})"
            for key, count in CountingHandler.counts.items()
        },
    }


def _save_policies(specs: list[Any]) -> None:
    """Replace every policy with ``specs``, unvalidated: the store must reject bad rows itself."""
    from django.db import transaction

    from django_preflight.mapping import save_spec
    from django_preflight.models import CorsPolicy

    with transaction.atomic():
        CorsPolicy.objects.all().delete()
        for spec in specs:
            save_spec(spec, validate=False)


def _send(client: Any, facts: Any) -> None:
    from fuzz.generate import wire

    extra = {"PATH_INFO": wire(facts.path)}
    if facts.origin is not None:
        extra["HTTP_ORIGIN"] = wire(facts.origin)
    if facts.request_method is not None:
        extra["HTTP_ACCESS_CONTROL_REQUEST_METHOD"] = wire(facts.request_method)
    if facts.request_headers is not None:
        extra["HTTP_ACCESS_CONTROL_REQUEST_HEADERS"] = wire(facts.request_headers)
    if facts.request_private_network:
        extra["HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK"] = "true"
    client.generic(facts.method, "/", **extra)


def _print_part(name: str, part: dict[str, Any]) -> None:
    seconds = part["seconds"]
    rate = part["requests"] / seconds if seconds else 0.0
    print(
        f"{name}: {part['requests']:,} requests over {part['policy sets']:,} policy sets "
        f"in {seconds:.1f} s ({rate:,.0f}/s); crashes {part['crashes']}"
    )
    for outcome, count in sorted(part["outcomes"].items()):
        print(f"  {outcome}: {count:,}")
    for key in ("audit rows", "audit overflow rows", "audit refusals counted"):
        if key in part:
            print(f"  {key}: {part[key]:,}")
    for key in ("largest audit buffer", "log records"):
        if key in part:
            print(f"  {key}: {part[key]}")
    for problem, count in part["problems"].most_common():
        print(f"  PROBLEM {problem}: {count:,}\n    e.g. {part['examples'][problem]}")
    if "crash" in part["examples"]:
        print(f"  CRASH e.g. {part['examples']['crash']}")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
