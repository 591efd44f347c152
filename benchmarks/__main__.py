"""``python -m benchmarks [--quick] [--only PART]``: measure the parts, print tables, write JSON.

Exits non-zero when any part fails (a worker crashes, a stack answers wrongly, gunicorn or wrk
misbehaves), never because of a timing: a missed target is reported, not fatal.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks import end_to_end, flood, in_process, machine, per_view, report, targets
from benchmarks.plan import FULL, QUICK, Plan
from benchmarks.pool import REPO_ROOT

RESULTS_DIR = Path("benchmarks") / "results"
IN_PROCESS, END_TO_END, FLOOD, PER_VIEW = "in-process", "end-to-end", "flood", "per-view"
PARTS = (IN_PROCESS, END_TO_END, FLOOD, PER_VIEW)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes and few repetitions: checks that every part runs (seconds, not minutes)",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=PARTS,
        metavar="PART",
        help="run only this part, repeatable: in-process (parts 1 to 4), end-to-end (part 5), "
        "flood (part 6), per-view (part 7)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="JSON file to write (default: benchmarks/results/latest.json, or latest-quick.json "
        "with --quick; with --only, the parts are added to the name: latest-flood.json)",
    )
    return parser.parse_args(argv)


def _logger(started: float) -> Callable[[str], None]:
    def log(message: str) -> None:
        print(f"[{time.monotonic() - started:7.1f} s] {message}", file=sys.stderr, flush=True)

    return log


def _run_part(
    name: str,
    part: Callable[[Plan, Callable[[str], None]], dict[str, Any]],
    plan: Plan,
    log: Callable[[str], None],
    errors: list[dict[str, str]],
) -> dict[str, Any]:
    log(f"{name}: start")
    try:
        return part(plan, log)
    except Exception:
        message = traceback.format_exc()
        log(f"{name}: FAILED\n{message}")
        errors.append({"part": name, "message": message})
        return {}


def main(argv: list[str]) -> int:
    """Run the plan, print the report, write the JSON; 1 if any part failed."""
    args = _parse(argv)
    plan = QUICK if args.quick else FULL
    only = [part for part in PARTS if part in (args.only or ())]
    selected = only or list(PARTS)
    quick = ["--quick"] if args.quick else []
    command = " ".join(["python -m benchmarks", *quick, *(f"--only {part}" for part in only)])
    name = "-".join(["latest", *(["quick"] if args.quick else []), *only])
    output = args.output or REPO_ROOT / RESULTS_DIR / f"{name}.json"
    started = time.monotonic()
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    load_at_start = machine.load_average()
    log = _logger(started)
    log(f"{plan.name} run")
    errors: list[dict[str, str]] = []
    results: dict[str, Any] = {}
    if IN_PROCESS in selected:
        results.update(_run_part("in-process parts 1-4", in_process.run, plan, log, errors))
    if END_TO_END in selected:
        e2e = _run_part("gunicorn + wrk", end_to_end.run, plan, log, errors)
        if e2e:
            results["end_to_end"] = e2e
    if FLOOD in selected:
        flooded = _run_part("flood (part 6)", flood.run, plan, log, errors)
        if flooded:
            results["flood"] = flooded
    if PER_VIEW in selected:
        views = _run_part("per-view (part 7)", per_view.run, plan, log, errors)
        if views:
            results["per_view"] = views
    run = {
        "command": command,
        "started_at": started_at,
        "duration_seconds": round(time.monotonic() - started, 1),
        "machine": machine.describe(),
        "load_average": {"start": load_at_start, "end": machine.load_average()},
        "plan": asdict(plan),
        "patterns": f"{plan.wildcards:,} subdomain wildcards and {plan.regexes:,} regexes",
        "results": results,
        "errors": errors,
    }
    try:
        found = targets.evaluate(results)
    except (KeyError, ValueError):
        errors.append({"part": "targets", "message": traceback.format_exc()})
        found = []
    print(report.render(run, found))
    report.write_json(output, run, found)
    log(f"wrote {output.relative_to(REPO_ROOT) if output.is_relative_to(REPO_ROOT) else output}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
