"""The results as Markdown tables (printed, and pasted into docs/benchmarks.md) and as JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import stacks, stats, workload
from benchmarks.targets import MB, Target

OURS, CORS, FLOOR = stacks.OURS, stacks.CORS_HEADERS, stacks.FLOOR


def table(header: Sequence[str], rows: Sequence[Sequence[str]], text_columns: int = 1) -> str:
    """A Markdown table: the first ``text_columns`` columns left-aligned, numbers right."""
    widths = [max(len(c) for c in column) for column in zip(header, *rows, strict=True)]
    left = [i < text_columns for i in range(len(widths))]

    def line(cells: Sequence[str]) -> str:
        padded = (
            c.ljust(w) if is_left else c.rjust(w)
            for c, w, is_left in zip(cells, widths, left, strict=True)
        )
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(
        (":" + "-" * (w + 1)) if is_left else ("-" * (w + 1) + ":")
        for w, is_left in zip(widths, left, strict=True)
    )
    return "\n".join([line(header), rule + "|", *(line(row) for row in rows)])


def _us(summary: dict[str, Any]) -> str:
    return f"{summary['median_us']:,.1f}"


def _reps(summaries: Sequence[dict[str, Any]]) -> str:
    counts = sorted({int(s["reps"]) for s in summaries})
    return "/".join(str(c) for c in counts)


def machine_section(run: dict[str, Any]) -> str:
    """Where and with what the numbers were measured, and how busy the machine was."""
    machine, load = run["machine"], run["load_average"]
    packages = ", ".join(f"{name} {version}" for name, version in machine["packages"].items())
    return "\n".join(
        [
            f"- Command: `{run['command']}` ({run['duration_seconds']:.0f} s)",
            f"- Machine: {machine['cpu_model']}, {machine['cpus']} CPUs, "
            f"{machine['memory_gib']} GiB RAM, {machine['os']}",
            f"- Software: {machine['python']}, {packages}, {machine['wrk']}; "
            f"revision {machine['revision']}",
            f"- Load average (1 min) at start / end: {load['start']} / {load['end']}",
        ]
    )


def full_stack_section(full: dict[str, Any]) -> str:
    """Part 1: µs per request through Django's handler, one origin."""
    rows = []
    for kind in workload.KINDS:
        cells = full["kinds"][kind]
        ours, cors, floor = (cells[s]["median_us"] for s in (OURS, CORS, FLOOR))
        wall_ours, wall_cors = (cells[s]["wall_median_us"] for s in (OURS, CORS))
        rows.append(
            [
                kind,
                _us(cells[OURS]),
                _us(cells[CORS]),
                _us(cells[FLOOR]),
                f"{stats.ratio(ours, cors):.2f}",
                f"{stats.ratio(ours - floor, cors - floor):.2f}",
                f"{stats.ratio(wall_ours, wall_cors):.2f}",
                _reps(list(cells.values())),
            ]
        )
    header = [
        "request (1 origin)",
        "django-preflight µs",
        "cors-headers µs",
        "floor µs",
        "ours / cors",
        "(ours - floor) / (cors - floor)",
        "wall-clock ours / cors",
        "reps",
    ]
    return "### 1. Full Django stack, per request (median CPU time)\n\n" + table(header, rows)


def scaling_section(scaling: dict[str, Any], patterns: str) -> str:
    """Part 2: µs per preflight as the number of exact origins grows."""
    sizes = sorted(scaling[workload.ALLOWED_PREFLIGHT][OURS], key=int)
    rows = []
    for size in sizes:
        row = [f"{int(size):,}"]
        for kind in workload.PREFLIGHT_KINDS:
            ours, cors = scaling[kind][OURS][size], scaling[kind][CORS][size]
            row += [
                _us(ours),
                _us(cors),
                f"{stats.ratio(ours['median_us'], cors['median_us']):.3f}",
            ]
        cells = [scaling[kind][stack][size] for kind in scaling for stack in scaling[kind]]
        row.append(_reps(cells))
        rows.append(row)
    header = ["exact origins"]
    for kind in ("allowed", "refused"):
        header += [f"{kind}: ours µs", f"{kind}: cors-headers µs", f"{kind}: ours / cors"]
    header.append("reps")
    return (
        "### 2. Scaling, full stack, per preflight (median CPU time)\n\n"
        f"Our stack also holds {patterns} at every size.\n\n" + table(header, rows)
    )


def engine_section(engine: dict[str, Any]) -> str:
    """Part 3: µs per decision, no Django."""
    rows = [
        [label, *(_us(by_kind[kind]) for kind in workload.KINDS)]
        for label, by_kind in engine.items()
    ]
    header = ["snapshot (exact+w+r)", *(f"{kind} µs" for kind in workload.KINDS)]
    return "### 3. Decision engine alone, per decision (median CPU time)\n\n" + table(header, rows)


def snapshot_section(snapshot: dict[str, Any]) -> str:
    """Part 4: build time, memory, propagation of a change."""
    build, propagation = snapshot["build"], snapshot["propagation"]
    rows = [
        [
            f"{build['origin_entries']:,}",
            f"{stats.median(build['cpu_seconds']):.3f}",
            f"{stats.median(build['wall_seconds']):.3f}",
            f"{max(build['wall_seconds']):.3f}",
            f"{stats.median(build['read_cpu_seconds']):.3f}",
            f"{stats.median(build['compile_cpu_seconds']):.3f}",
            f"{build['held_bytes'] / MB:.1f}",
            f"{build['peak_bytes'] / MB:.1f}",
            str(build["compilations"]["second_compilations"]),
        ]
    ]
    header = [
        "origin entries",
        "build CPU s (median)",
        "build wall s (median)",
        "build wall s (max)",
        "read CPU s (median)",
        "compile CPU s (median)",
        "held MB",
        "peak MB",
        "second compilations",
    ]
    latencies = propagation["latencies"]
    change = [
        [
            f"{propagation['interval']:.2f}",
            str(len(latencies)),
            f"{stats.median(latencies):.3f}",
            f"{max(latencies):.3f}",
            f"{max(propagation['rebuilds']):.3f}",
        ]
    ]
    change_header = [
        "refresh interval s",
        "trials",
        "commit to served s (median)",
        "(max)",
        "rebuild s (max)",
    ]
    return "### 4. Snapshot\n\n" + table(header, rows) + "\n\n" + table(change_header, change)


def end_to_end_section(e2e: dict[str, Any]) -> str:
    """Part 5: gunicorn and uvicorn + wrk."""
    rows = []
    for server, by_size in e2e["by_server"].items():
        for size, by_stack in by_size.items():
            for stack in (OURS, CORS, FLOOR):
                got = by_stack[stack]
                rows.append(
                    [
                        server,
                        f"{int(size):,}",
                        stack,
                        f"{got['per_second']:,.0f}",
                        "{:.2f} ({:.2f}-{:.2f})".format(got["x_floor"], *got["x_floor_quartiles"]),
                        f"{got['p50_us'] / 1000:.2f}",
                        f"{got['p90_us'] / 1000:.2f}",
                        f"{got['p99_us'] / 1000:.2f}",
                        str(got["errors"]),
                    ]
                )
    header = [
        "server",
        "origins",
        "stack",
        "preflights/s",
        "x floor",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "errors",
    ]
    return (
        "### 5. gunicorn (sync) and uvicorn + wrk, allowed preflight "
        f"({_workers(e2e['workers'])}{_pinned(e2e.get('pinned'))}, "
        f"{e2e['connections']} connections, "
        f"{e2e['seconds']} s x {e2e['reps']} runs after {e2e['warmup_seconds']} s of warm-up, "
        "medians; x floor: each round's ratio to the floor's run, two rounds at a time (the "
        "stack and the floor swapping places), their median and quartiles)\n\n"
        + table(header, rows, 3)
    )


def _workers(by_server: dict[str, int]) -> str:
    """``gunicorn 2 workers, uvicorn 1 worker``."""
    return ", ".join(
        f"{server} {n} worker{'s' if n != 1 else ''}" for server, n in by_server.items()
    )


def _pinned(pinned: dict[str, list[int]] | None) -> str:
    """``; uvicorn on CPU 1, wrk on CPU 0`` when the run pinned them, else nothing."""
    if not pinned:
        return ""
    return "; " + ", ".join(
        f"{name} on CPU {', '.join(map(str, cpus))}" for name, cpus in pinned.items()
    )


def _mb(value: int | None) -> str:
    return "n/a" if value is None else f"{value / MB:.1f}"


def flood_section(flood: dict[str, Any]) -> str:
    """Part 6: the allowed preflight quiet and during a flood; the audit and memory after it."""
    quiet, during = flood["quiet"], flood["flood"]

    def row(name: str, samples: int, median: float | None, wall: str, audit: str) -> list[str]:
        if median is None:
            return [name, f"{samples:,}", "-", "-", wall, audit]
        ratio = stats.ratio(median, quiet["median_us"])
        return [name, f"{samples:,}", f"{median:,.1f}", f"{ratio:.3f}", wall, audit]

    rows = []
    for name, got in (("quiet", quiet), ("during the flood", during)):
        if got["audit_idle_only"]:
            name += ", audit thread idle"
        wall, audit = f"{got['wall_median_us']:,.1f}", f"{got['audit_cpu_seconds']:.2f}"
        rows.append(row(name, got["reps"], got["median_us"], wall, audit))
        for part, key in (
            ("… while the audit thread ran", "audit_ran"),
            ("… while it was idle", "audit_idle"),
        ):
            if got["audit_idle_only"] and key == "audit_idle":
                continue
            left_out = " (left out)" if got["audit_idle_only"] else ""
            rows.append(row(part + left_out, got[key]["samples"], got[key]["median_us"], "", ""))
    header = [
        "allowed preflight, 1 origin",
        "samples",
        "CPU µs (median)",
        "/ quiet",
        "wall µs (median)",
        "audit thread CPU s",
    ]
    audit, before, after = flood["audit"], flood["memory"]["before"], flood["memory"]["after"]
    audit_row = [
        f"{flood['refused']:,}",
        f"{during['wall_seconds']:.1f}",
        f"{audit['flood_counted']:,}",
        f"{audit['after']['rows']:,}",
        f"{audit['after']['overflow_rows']:,}",
        f"{audit['row_bound']:,}",
        f"{_mb(before['rss_bytes'])} → {_mb(after['rss_bytes'])}",
        f"{_mb(before['peak_rss_bytes'])} → {_mb(after['peak_rss_bytes'])}",
    ]
    audit_header = [
        "refused sent",
        "flood wall s",
        "refusals counted",
        "audit rows",
        "overflow rows",
        "cap + reasons",
        "RSS MB before → after",
        "peak RSS MB before → after",
    ]
    return (
        "### 6. Flood: allowed preflight amid refused ones (median CPU time)\n\n"
        f"{flood['refused']:,} refused preflights from distinct random origins in "
        f"{flood['rounds']} rounds; in each condition one allowed preflight timed after every "
        f"{flood['every']:,} other requests (refused ones in the flood, allowed ones when quiet). "
        f"Audit defaults: cap {audit['max_rows']:,} rows, buffer {audit['buffer_size']:,}, "
        f"written every {audit['flush_interval']:g} s.\n\n"
        + table(header, rows)
        + "\n\n"
        + table(audit_header, [audit_row], 0)
    )


def _target_row(t: Target) -> list[str]:
    unit = f" {t.unit}" if t.unit else ""
    value = f"{t.value:,.0f}" if t.integer else f"{t.value:.3f}"
    limit = f"{t.limit:,.0f}" if t.integer else f"{t.limit:.3g}"
    result = ("PASS" if t.passed else "MISS") + (f" ({t.errors} errors)" if t.errors else "")
    return [t.name, value + unit, f"{t.op} {limit}{unit}", result]


def targets_section(targets: Sequence[Target]) -> str:
    """Every target with its value and verdict."""
    rows = [_target_row(t) for t in targets]
    return "### Targets\n\n" + table(["target", "value", "limit", "result"], rows)


def per_view_section(per_view: dict[str, Any]) -> str:
    """An allowed preflight with per-view policies, against the path-only cost."""
    labels = {
        "path_only": "path prefixes only (resolution off)",
        "undecorated": "no view names a policy",
        "decorated": "every other view names a policy, path cached",
        "uncached": "every other view names a policy, path not cached",
    }
    cases = per_view["cases"]
    rows = [
        [labels[name], _us(case), f"{case['ratio_to_path_only']:.3f}", str(case["reps"])]
        for name, case in cases.items()
    ]
    return (
        f"### 7. Per-view policies, {per_view['patterns']} URL patterns (median CPU time)\n\n"
        + table(["allowed preflight", "median µs (CPU)", "vs path only", "reps"], rows)
    )


def render(run: dict[str, Any], targets: Sequence[Target]) -> str:
    """Every section that has results, then the targets and any errors."""
    results = run["results"]
    sections = [machine_section(run)]
    if "full_stack" in results:
        sections.append(full_stack_section(results["full_stack"]))
    if "scaling" in results:
        sections.append(scaling_section(results["scaling"], run["patterns"]))
    if "engine" in results:
        sections.append(engine_section(results["engine"]))
    if "snapshot" in results:
        sections.append(snapshot_section(results["snapshot"]))
    if "end_to_end" in results:
        sections.append(end_to_end_section(results["end_to_end"]))
    if "flood" in results:
        sections.append(flood_section(results["flood"]))
    if "per_view" in results:
        sections.append(per_view_section(results["per_view"]))
    sections.append(targets_section(targets))
    sections += [f"ERROR in {error['part']}:\n{error['message']}" for error in run["errors"]]
    return "\n\n".join(sections)


def write_json(path: Path, run: dict[str, Any], targets: Sequence[Target]) -> None:
    """The whole run, raw samples included, for later comparison."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {**run, "targets": [t.as_dict() for t in targets]}
    path.write_text(json.dumps(document, indent=2) + "\n")
