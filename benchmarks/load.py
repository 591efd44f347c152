"""wrk on loopback: bounded duration, OPTIONS with the preflight headers, results as JSON.

The Lua script's ``done`` hook prints one machine-readable line, so nothing depends on the
layout of wrk's human-readable summary.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import workload

MARKER = "PREFLIGHT_BENCH_RESULT "
TIMEOUT_EXTRA = 30.0
REQUEST_TIMEOUT = "10s"

_DONE_HOOK = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "%s{\\"requests\\": %d, \\"duration_us\\": %d, \\"socket_errors\\": %d, "
    .. "\\"status_errors\\": %d, \\"p50_us\\": %d, \\"p90_us\\": %d, \\"p99_us\\": %d}\\n",
    "{marker}", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
"""


class LoadError(RuntimeError):
    """wrk is missing, failed, or printed no result."""


def _lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def preflight_script(probe: workload.Probe) -> str:
    """A wrk script sending ``probe`` (an OPTIONS preflight) on every request."""
    lines = [f"wrk.method = {_lua_string(probe.method)}"]
    lines += [
        f"wrk.headers[{_lua_string(name)}] = {_lua_string(value)}"
        for name, value in probe.headers.items()
    ]
    return "\n".join(lines) + "\n" + _DONE_HOOK.replace("{marker}", MARKER)


def run_wrk(
    url: str,
    probe: workload.Probe,
    seconds: int,
    connections: int,
    cpus: frozenset[int] | None = None,
) -> dict[str, Any]:
    """Load ``url`` for ``seconds`` with one wrk thread; preflights per second and latencies.

    The request timeout is long, so a slow stack shows as high latency rather than as errors.
    ``cpus``, when given, are the only CPUs wrk may run on.
    """
    wrk = shutil.which("wrk")
    if wrk is None:
        raise LoadError("wrk is not installed (apt-get install -y wrk)")
    with tempfile.TemporaryDirectory(prefix="preflight-bench-") as tmp:
        script = Path(tmp) / "preflight.lua"
        script.write_text(preflight_script(probe))
        completed = subprocess.run(
            [
                wrk,
                "-t1",
                f"-c{connections}",
                f"-d{seconds}s",
                f"--timeout={REQUEST_TIMEOUT}",
                "-s",
                str(script),
                url,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + TIMEOUT_EXTRA,
            check=False,
            preexec_fn=None if cpus is None else lambda: os.sched_setaffinity(0, cpus),
        )
    if completed.returncode != 0:
        raise LoadError(f"wrk failed ({completed.returncode}): {completed.stderr[-2000:]}")
    for line in completed.stdout.splitlines():
        if line.startswith(MARKER):
            result: dict[str, Any] = json.loads(line[len(MARKER) :])
            result["per_second"] = result["requests"] / (result["duration_us"] / 1e6)
            return result
    raise LoadError(f"wrk printed no result: {completed.stdout[-2000:]}")
