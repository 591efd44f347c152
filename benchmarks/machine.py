"""A description of the machine and software a run measured, kept with its results.

Numbers from a two-core virtual machine and from a workstation are not comparable; the ratios
mostly are. Either way, a reader needs to know which one produced a table.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import django_preflight

_PACKAGES = ("django", "django-cors-headers", "gunicorn")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def _usable_cpus() -> int:
    """What ``nproc`` prints: the CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 0


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _wrk_version() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        return "not installed"
    completed = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
    first = (completed.stdout or completed.stderr).strip().splitlines()
    return first[0].split(" [", 1)[0] if first else "unknown"


def _revision() -> str:
    """The commit measured, marked when the working tree differs from it."""
    git = shutil.which("git")
    if git is None:
        return "unknown"
    root = Path(__file__).resolve().parent.parent
    head = subprocess.run(
        [git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=root, check=False
    ).stdout.strip()
    dirty = subprocess.run(
        [git, "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        cwd=root,
        check=False,
    ).stdout.strip()
    return f"{head or 'unknown'}{' (modified)' if dirty else ''}"


def load_average() -> float | None:
    """The one-minute load average: how busy the machine was with other work."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def describe() -> dict[str, Any]:
    """CPU model and count, memory, OS, Python and the versions of every package measured."""
    return {
        "cpu_model": _cpu_model(),
        "cpus": _usable_cpus(),
        "memory_gib": _memory_gib(),
        "os": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "packages": {
            "django-preflight": django_preflight.__version__,
            **{name: _version(name) for name in _PACKAGES},
        },
        "revision": _revision(),
        "wrk": _wrk_version(),
    }
