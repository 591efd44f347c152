"""Part 7: what per-view policies add to a preflight, against the path-only cost.

A child process runs django-preflight's benchmark stack with 500 URL patterns, the covered route
last (Django's resolver tries patterns in order, so that is the slowest to resolve). Four cases,
interleaved round by round, CPU time of one allowed preflight through the full handler:

- ``path_only``: the middleware deciding by path prefix alone, view resolution switched off: the
  cost before per-view policies existed;
- ``undecorated``: resolution on, no view naming a policy (the URLconf is then never resolved
  against);
- ``decorated``: resolution on, every other view (the covered one included) naming the policy;
- ``uncached``: the decorated URLconf with the resolution cache emptied before every request:
  the first request for a path, or a path never seen before.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import types
from collections.abc import Callable
from typing import Any

from benchmarks import stats, timing, workload
from benchmarks.plan import Plan
from benchmarks.pool import REPO_ROOT

PATTERNS = 500
CASES = ("path_only", "undecorated", "decorated", "uncached")


def _urlconf(name: str, *, decorated: bool) -> str:
    """Register a URLconf module of PATTERNS routes, the covered one last; returns its name."""
    from django.urls import path

    from benchmarks.project import views
    from django_preflight.decorators import cors_policy

    def view(index: int) -> Callable[..., Any]:
        def filler(request: Any, pk: int) -> Any:
            return views.notes(request)

        filler.__name__ = f"filler_{index}"
        return cors_policy("benchmarks")(filler) if decorated and index % 2 == 0 else filler

    def covered(request: Any) -> Any:
        return views.notes(request)

    target = cors_policy("benchmarks")(covered) if decorated else views.notes
    module = types.ModuleType(name)
    module.urlpatterns = [  # type: ignore[attr-defined]
        *(path(f"section{i}/items/<int:pk>/", view(i)) for i in range(PATTERNS - 1)),
        path(workload.PATH.lstrip("/"), target),
    ]
    sys.modules[name] = module
    return name


def measure(reps: int, rep_seconds: float) -> dict[str, Any]:
    """In the child process: set up, check every case's answer, then time the rounds."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.project.settings_ours"
    import django

    django.setup()
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler

    from benchmarks import wsgi_driver
    from benchmarks.project.database import prepare
    from django_preflight import routing

    size = workload.Size(1)
    prepare(size)
    handler = WSGIHandler()
    probe = workload.probes(size)[workload.ALLOWED_PREFLIGHT]
    environ = wsgi_driver.environ_for(probe)
    request = wsgi_driver.request_callable(handler, environ)
    resolve = routing.view_policy
    plain = _urlconf("benchmarks_per_view_plain", decorated=False)
    decorated = _urlconf("benchmarks_per_view_decorated", decorated=True)
    setups: dict[str, tuple[str, Callable[[str], str | None]]] = {
        "path_only": (plain, lambda path: None),
        "undecorated": (plain, resolve),
        "decorated": (decorated, resolve),
        "uncached": (decorated, resolve),
    }

    def activate(case: str) -> Callable[[], object]:
        urlconf, lookup = setups[case]
        settings.ROOT_URLCONF = urlconf
        routing.view_policy = lookup  # type: ignore[assignment]
        if case != "uncached":
            return request

        def uncached() -> object:
            routing.clear()
            return request()

        return uncached

    checks = {}
    for case in CASES:
        activate(case)
        got = wsgi_driver.answer(handler, environ)
        named = routing.view_policy(workload.PATH)
        if got.status != 204 or got.headers.get("access-control-allow-origin") != probe.origin:
            raise RuntimeError(f"{case}: the allowed preflight was answered {got}")
        if named != ("benchmarks" if setups[case][0] == decorated else None):
            raise RuntimeError(f"{case}: the covered view resolved to policy {named!r}")
        checks[case] = {"status": got.status, "view_policy": named}

    loops = {}
    for case in CASES:
        loops[case], _ = timing.calibrate(activate(case), rep_seconds)
    samples: dict[str, list[float]] = {case: [] for case in CASES}
    for _ in range(reps):
        for case in CASES:
            operation = activate(case)
            sample = timing.per_op(operation, loops[case], timing.warmup_calls(loops[case], 0))
            samples[case].append(sample.cpu_ns / 1000)
    medians = {case: stats.median(values) for case, values in samples.items()}
    return {
        "patterns": PATTERNS,
        "checks": checks,
        "cases": {
            case: {
                "median_us": medians[case],
                "spread": stats.spread(samples[case]),
                "reps": len(samples[case]),
                "ratio_to_path_only": stats.ratio(medians[case], medians["path_only"]),
                "samples_us": samples[case],
            }
            for case in CASES
        },
    }


def run(plan: Plan, log: Callable[[str], None]) -> dict[str, Any]:
    """In the parent: run the child and return its results."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.per_view",
        "--reps",
        str(plan.reps),
        "--rep-seconds",
        str(plan.rep_seconds),
    ]
    log(f"per-view: {PATTERNS} URL patterns, {plan.reps} rounds")
    done = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=1800
    )
    if done.returncode:
        raise RuntimeError(f"per-view child failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.per_view")
    parser.add_argument("--reps", type=int, default=31)
    parser.add_argument("--rep-seconds", type=float, default=0.01)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.reps, args.rep_seconds)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
