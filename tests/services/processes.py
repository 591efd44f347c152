"""Process control for the service tests: skips, ports, deadlines, and servers of our own.

Everything listens on and talks to loopback only, every loop has a deadline, and every process
is started with ``subprocess.Popen`` so it is stopped by its own PID.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CI = os.environ.get("CI") == "true"


def require(condition: bool, message: str) -> None:
    """Skip when a service is missing; under CI=true the service must be there, so fail."""
    if condition:
        return
    if CI:
        pytest.fail(f"{message} (CI=true: service tests fail instead of skipping)", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether something accepts TCP connections there."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll ``check`` until it holds or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return check()


def stop_process(
    proc: subprocess.Popen[Any], sig: int = signal.SIGTERM, timeout: float = 20
) -> None:
    """Signal one process we started, wait for it, and kill it if it does not go."""
    if proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


class PrivatePostgres:
    """A PostgreSQL server of the test's own: own data folder, own port, stopped at will.

    The machine's shared server is never touched. As root, the server runs as the
    ``postgres`` user, since PostgreSQL refuses to run as root.
    """

    def __init__(self, bindir: Path, root: Path) -> None:
        self.bindir = bindir
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.owner: pwd.struct_passwd | None = (
            pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        )
        if self.owner is not None:
            os.chown(root, self.owner.pw_uid, self.owner.pw_gid)

    def _as_owner(self) -> dict[str, Any]:
        if self.owner is None:
            return {}
        return {"user": self.owner.pw_uid, "group": self.owner.pw_gid, "extra_groups": []}

    def initdb(self) -> None:
        subprocess.run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            timeout=120,
            env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C"},
            **self._as_owner(),
        )

    def start(self, timeout: float = 30) -> None:
        with (self.root / "postgres.log").open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    str(self.bindir / "postgres"),
                    "-D",
                    str(self.data),
                    "-p",
                    str(self.port),
                    "-k",
                    str(self.root),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    "fsync=off",
                    "-c",
                    "max_connections=60",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C"},
                **self._as_owner(),
            )
        if not wait_until(lambda: self._accepts(), timeout, interval=0.1):
            self.stop()
            pytest.fail(f"private PostgreSQL did not start:\n{self.log()}")

    def _accepts(self) -> bool:
        import psycopg

        try:
            psycopg.connect(self.url("postgres"), connect_timeout=2).close()
        except psycopg.Error:
            return False
        return True

    def stop(self) -> None:
        """Fast shutdown: clients are disconnected at once, as in a crash of the database."""
        if self.proc is not None:
            stop_process(self.proc, signal.SIGINT, timeout=30)

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def log(self) -> str:
        path = self.root / "postgres.log"
        return path.read_text(errors="replace") if path.exists() else ""


def postgres_user_exists() -> bool:
    """Whether the user PostgreSQL is run as, under root, exists here."""
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return False
    return True


def postgres_bindir() -> Path | None:
    """Where initdb and postgres live: PG_BIN_DIR, then pg_config's answer, then PATH."""
    candidates: list[str] = []
    if os.environ.get("PG_BIN_DIR"):
        candidates.append(os.environ["PG_BIN_DIR"])
    if shutil.which("pg_config"):
        result = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=False, timeout=10
        )
        candidates.append(result.stdout.strip())
    found = shutil.which("initdb")
    if found:
        candidates.append(str(Path(found).parent))
    for candidate in candidates:
        path = Path(candidate)
        if (path / "initdb").exists() and (path / "postgres").exists():
            return path
    return None


class PrivateRedis:
    """A redis-server of the test's own on its own port, keeping nothing on disk."""

    def __init__(self, binary: str, root: Path) -> None:
        self.binary = binary
        self.root = root
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 15) -> None:
        with (self.root / "redis.log").open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    self.binary,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.root),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if not wait_until(lambda: listening("127.0.0.1", self.port, 0.5), timeout):
            self.stop()
            pytest.fail("private redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, signal.SIGTERM, timeout=15)


def log_lines(text: str, pattern: str) -> list[str]:
    """Lines of a server log matching a regular expression."""
    return [line for line in text.splitlines() if re.search(pattern, line)]
