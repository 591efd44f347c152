"""``python -m benchmarks.relay [--quick]``: what the relay costs, and that streaming is bounded.

Three ways to the same loopback API (its own process): directly, through the relay's sync view
under gunicorn (one worker) and through its async view under uvicorn; and, as the floor of what
Django itself costs on those servers, the relay's own 404 for an unknown upstream. Requests are
sent one at a time, in interleaved rounds (direct, sync, async, ...), so drift on the machine
hits all ways alike; the report gives the median of each and its overhead over the direct call
as a difference and a ratio, measured side by side in one run.

Then a 100 MB body is streamed through each server while its resident memory peak (VmHWM) is
read before and after: a relay that buffered would grow by the body's size. This is the one
check that fails the run (exit 1): peak growth above a quarter of the body. Timings never do.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx

from benchmarks.pool import REPO_ROOT
from benchmarks.serve import free_port

HOST = "127.0.0.1"
ORIGIN = "https://app.example.com"
BODY_MB = 100
BOUND = 0.25
START_TIMEOUT = 30.0


def _django_env(db: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "benchmarks.project.settings_relay",
        "PREFLIGHT_BENCH_DB": str(db),
        "PYTHONPATH": str(REPO_ROOT),
    }


SETUP = """
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
from django_preflight.models import AllowedOrigin, CorsPolicy
from django_preflight.relay.models import Upstream
policy = CorsPolicy.objects.create(name="relay", path_prefix="/", allowed_methods=["GET"])
AllowedOrigin.objects.create(policy=policy, kind="exact", value={origin!r})
Upstream(slug="api", base_url={base!r}, allow_http=True, allow_private_targets=True,
         rate_limit=0, max_response_bytes={limit}).save()
"""


@contextmanager
def _process(
    command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdin=subprocess.PIPE, stdout=out, stderr=out
        )
    try:
        yield process
    finally:
        if process.stdin is not None:
            with suppress(OSError):
                process.stdin.close()
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait(url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        with suppress(httpx.HTTPError):
            httpx.get(url, timeout=1, headers={"Origin": ORIGIN})
            return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {START_TIMEOUT} s")


def _peak_kb(pid: int) -> int:
    """The process's resident memory peak so far (VmHWM), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmHWM for {pid}")


def _serving_pid(process: subprocess.Popen[bytes]) -> int:
    """gunicorn's single worker, or the process itself when it has no children."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    return int(children[0]) if children else process.pid


def _timed_get(client: httpx.Client, url: str) -> float:
    started = time.perf_counter_ns()
    response = client.get(url, headers={"Origin": ORIGIN})
    elapsed = time.perf_counter_ns() - started
    if response.status_code != (404 if "/unknown/" in url else 200):
        raise RuntimeError(f"{url}: {response.status_code} {response.text[:200]}")
    return elapsed / 1000


def _stream(client: httpx.Client, url: str) -> int:
    total = 0
    with client.stream("GET", url, headers={"Origin": ORIGIN}) as response:
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status_code}")
        for chunk in response.iter_raw():
            total += len(chunk)
    return total


def run(rounds: int, per_round: int, workdir: Path) -> dict[str, object]:
    """Measure; returns the results as JSON-ready values."""
    db = workdir / "relay.sqlite3"
    env = _django_env(db)
    with _process([sys.executable, "-m", "tests.relay.upstream"], env, workdir / "api.log"):
        port_line = b""
        deadline = time.monotonic() + START_TIMEOUT
        while not port_line.strip() and time.monotonic() < deadline:
            time.sleep(0.05)
            port_line = (workdir / "api.log").read_bytes()
        api_url = f"http://{HOST}:{int(port_line.split()[0])}/v1"
        setup = SETUP.format(origin=ORIGIN, base=api_url, limit=2 * BODY_MB * 1024 * 1024)
        subprocess.run([sys.executable, "-c", setup], cwd=REPO_ROOT, env=env, check=True)
        wsgi_port, asgi_port = free_port(), free_port()
        gunicorn = [
            sys.executable, "-m", "gunicorn", "django.core.wsgi:get_wsgi_application()",
            "--bind", f"{HOST}:{wsgi_port}", "--workers", "1", "--no-control-socket",
        ]  # fmt: skip
        uvicorn = [
            sys.executable, "-m", "uvicorn", "--factory", "django.core.asgi:get_asgi_application",
            "--host", HOST, "--port", str(asgi_port), "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
        with (
            _process(gunicorn, env, workdir / "gunicorn.log") as wsgi,
            _process(uvicorn, env, workdir / "uvicorn.log") as asgi,
        ):
            ways = {
                "direct": f"{api_url}/echo",
                "relay_sync": f"http://{HOST}:{wsgi_port}/relay/api/echo",
                "relay_async": f"http://{HOST}:{asgi_port}/relay-async/api/echo",
                # Django's own cost on the same servers: the relay's JSON 404, no upstream call.
                "django_sync": f"http://{HOST}:{wsgi_port}/relay/unknown/echo",
                "django_async": f"http://{HOST}:{asgi_port}/relay-async/unknown/echo",
            }
            for url in ways.values():
                _wait(url)
            samples: dict[str, list[float]] = {name: [] for name in ways}
            with httpx.Client(trust_env=False) as client:
                for url in ways.values():
                    _timed_get(client, url)  # warm up: connections, imports, first queries
                for _ in range(rounds):
                    for name, url in ways.items():
                        samples[name] += [_timed_get(client, url) for _ in range(per_round)]
                memory = {}
                size = BODY_MB * 1024 * 1024
                for name, server, port, mount in (
                    ("relay_sync", wsgi, wsgi_port, "relay"),
                    ("relay_async", asgi, asgi_port, "relay-async"),
                ):
                    base = f"http://{HOST}:{port}/{mount}/api/bytes"
                    _stream(client, f"{base}?n={1024 * 1024}&chunked=1")
                    pid = _serving_pid(server)
                    before = _peak_kb(pid)
                    received = _stream(client, f"{base}?n={size}&chunked=1")
                    after = _peak_kb(pid)
                    if received != size:
                        raise RuntimeError(f"{name}: streamed {received} of {size} bytes")
                    growth = (after - before) * 1024
                    memory[name] = {
                        "body_bytes": size,
                        "peak_before_kib": before,
                        "peak_after_kib": after,
                        "peak_growth_bytes": growth,
                        "bounded": growth <= BOUND * size,
                    }
    medians = {name: statistics.median(values) for name, values in samples.items()}
    direct = medians["direct"]
    latency = {
        name: {
            "samples": len(samples[name]),
            "median_us": round(medians[name], 1),
            "overhead_us": round(medians[name] - direct, 1),
            "ratio_to_direct": round(medians[name] / direct, 2),
        }
        for name in ways
    }
    return {"latency": latency, "memory": memory}


def render(results: dict[str, object]) -> str:
    """The two tables of the report."""
    latency = results["latency"]
    memory = results["memory"]
    assert isinstance(latency, dict)
    assert isinstance(memory, dict)
    lines = ["Relay overhead per request (sequential GETs, median)", ""]
    lines.append(f"{'way':<12} {'samples':>8} {'median us':>10} {'overhead us':>12} {'ratio':>6}")
    for name, row in latency.items():
        lines.append(
            f"{name:<12} {row['samples']:>8} {row['median_us']:>10} "
            f"{row['overhead_us']:>12} {row['ratio_to_direct']:>6}"
        )
    lines += ["", f"Peak memory while streaming {BODY_MB} MB (VmHWM growth of the server)", ""]
    for name, row in memory.items():
        growth_mb = row["peak_growth_bytes"] / 1024 / 1024
        verdict = "bounded" if row["bounded"] else "NOT BOUNDED"
        peak_mb = row["peak_after_kib"] / 1024
        lines.append(
            f"{name:<12} {growth_mb:+.1f} MB (peak {peak_mb:.0f} MB) for {BODY_MB} MB: {verdict}"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Run, print, write JSON; 1 when streaming memory is not bounded."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.relay", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="few samples: checks that it runs")
    parser.add_argument("--output", type=Path, help="JSON file to write")
    args = parser.parse_args(argv)
    rounds, per_round = (2, 10) if args.quick else (20, 50)
    with tempfile.TemporaryDirectory(prefix="relay-bench-") as tmp:
        results = run(rounds, per_round, Path(tmp))
    print(render(results))
    name = "relay-quick.json" if args.quick else "relay.json"
    output = args.output or REPO_ROOT / "benchmarks" / "results" / name
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    memory = results["memory"]
    assert isinstance(memory, dict)
    return 0 if all(row["bounded"] for row in memory.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
