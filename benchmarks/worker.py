"""A measuring process: sets up one subject, then times it on the parent's command.

The parent decides the order of everything (that is how repetitions of different stacks are
interleaved); a worker only answers one JSON line per command on stdout. Anything else written
to stdout would break the protocol, so ``print`` output is sent to stderr.
"""

from __future__ import annotations

import json
import sys
import traceback
from typing import Any, TextIO

from benchmarks import audit_flood, snapshot, timing
from benchmarks.subjects import make_subject


def _send(channel: TextIO, message: dict[str, Any]) -> None:
    channel.write(json.dumps(message) + "\n")
    channel.flush()


def handle(subject: Any, command: dict[str, Any]) -> dict[str, Any]:
    """Run one command and return its reply."""
    op = command["op"]
    if op == "calibrate":
        loops, ns = timing.calibrate(subject.operation(command["kind"]), command["seconds"])
        return {"loops": loops, "ns": ns}
    if op == "time":
        operation = subject.operation(command["kind"])
        sample = timing.per_op(operation, command["loops"], command.get("warmup", 0))
        return {"cpu_ns": sample.cpu_ns, "wall_ns": sample.wall_ns}
    if op == "snapshot":
        return snapshot.measure_build(command["reps"])
    if op == "propagation":
        return snapshot.measure_propagation(command["interval"], command["trials"])
    if op.startswith("flood_"):
        return audit_flood.handle(subject, command)
    raise ValueError(f"unknown command {op!r}")


def main(argv: list[str]) -> int:
    """Serve commands until the parent says quit or closes stdin."""
    channel = sys.stdout
    sys.stdout = sys.stderr
    try:
        subject = make_subject(json.loads(argv[1]))
        checks = subject.check()
    except Exception:
        _send(channel, {"error": traceback.format_exc()})
        return 1
    _send(channel, {"ready": True, "checks": checks})
    for line in sys.stdin:
        command = json.loads(line)
        if command["op"] == "quit":
            break
        try:
            reply = handle(subject, command)
        except Exception:
            reply = {"error": traceback.format_exc()}
        _send(channel, reply)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
