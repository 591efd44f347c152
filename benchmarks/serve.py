"""Gunicorn (WSGI, sync workers) or uvicorn (ASGI) serving one stack on loopback, started and
stopped by its PID.

A gunicorn server counts as ready once every worker has loaded the application, a uvicorn one
once it answers; then one preflight over HTTP must be answered with the grant (the floor answers
every request with a bare 204).
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO

from benchmarks import pool, stacks, workload
from benchmarks.project.gunicorn_conf import READY_DIR_ENV

HOST = "127.0.0.1"
STOP_TIMEOUT = 15.0
POLL_SECONDS = 0.05


GUNICORN, UVICORN = "gunicorn", "uvicorn"
SERVERS = (GUNICORN, UVICORN)


class ServerError(RuntimeError):
    """The server exited, did not get ready in time, or answered the preflight wrongly."""


def free_port() -> int:
    """A port nothing listens on right now, chosen by the kernel on loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def gunicorn_command(port: int, workers: int) -> list[str]:
    """Sync workers (gunicorn's default), loopback only, no control socket, quiet logs."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--no-control-socket",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--log-level",
        "warning",
        "--config",
        "python:benchmarks.project.gunicorn_conf",
        "benchmarks.project.wsgi:application",
    ]


def uvicorn_command(port: int, workers: int) -> list[str]:
    """uvicorn's defaults, loopback only, quiet logs; Django runs the middleware async."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
        "benchmarks.project.asgi:application",
    ]


class Server:
    """One gunicorn or uvicorn master and its workers, serving ``stack`` at ``size``."""

    def __init__(
        self, stack: str, size: workload.Size, workers: int, server: str = GUNICORN
    ) -> None:
        self.server = server
        self.stack = stack
        self.size = size
        self.workers = workers
        self.port = free_port()
        self._ready_dir = tempfile.TemporaryDirectory(prefix="preflight-bench-")
        self._log: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop)
        env = {
            "DJANGO_SETTINGS_MODULE": stacks.SETTINGS_MODULES[stack],
            READY_DIR_ENV: self._ready_dir.name,
            **size.env(),
        }
        try:
            command = gunicorn_command if server == GUNICORN else uvicorn_command
            self.process = subprocess.Popen(
                command(self.port, workers),
                stdout=self._log,
                stderr=subprocess.STDOUT,
                cwd=pool.REPO_ROOT,
                env=pool.child_env(env),
            )
        except BaseException:
            self._log.close()
            self._ready_dir.cleanup()
            raise
        self.pid = self.process.pid

    @property
    def url(self) -> str:
        """The covered path on this server."""
        return f"http://{HOST}:{self.port}{workload.PATH}"

    def wait_ready(self, timeout: float) -> None:
        """Wait until the workers have loaded the application, then check one preflight."""
        deadline = time.monotonic() + timeout
        ready_dir = Path(self._ready_dir.name)
        while not self._ready(ready_dir):
            if self.process.poll() is not None:
                raise ServerError(f"{self.server} for {self.stack} exited: {self.log_tail()}")
            if time.monotonic() > deadline:
                raise ServerError(
                    f"{self.server} for {self.stack} not ready within {timeout:.0f} s"
                )
            time.sleep(POLL_SECONDS)
        self.check_preflight()

    def _ready(self, ready_dir: Path) -> bool:
        """Gunicorn's workers report in through a hook; uvicorn is ready once it answers."""
        if self.server == GUNICORN:
            return len(list(ready_dir.iterdir())) >= self.workers
        try:
            with socket.create_connection((HOST, self.port), timeout=1):
                return True
        except OSError:
            return False

    def check_preflight(self) -> None:
        """The allowed preflight over HTTP must carry the grant, as in the in-process checks."""
        probe = workload.probes(self.size)[workload.ALLOWED_PREFLIGHT]
        connection = http.client.HTTPConnection(HOST, self.port, timeout=30)
        try:
            connection.request(probe.method, workload.PATH, headers=probe.headers)
            response = connection.getresponse()
            response.read()
        finally:
            connection.close()
        allow_origin = response.getheader("Access-Control-Allow-Origin")
        expected = None if self.stack == stacks.FLOOR else probe.origin
        if response.status >= 300 or allow_origin != expected:
            raise ServerError(
                f"{self.stack} over HTTP: status {response.status}, "
                f"Access-Control-Allow-Origin {allow_origin!r}"
            )

    def pin(self, cpus: frozenset[int]) -> None:
        """Keep every thread of the server, and of its worker processes, on ``cpus``.

        Threads started later (Django's thread hops) inherit it from the thread starting them.
        """
        pending = [self.pid]
        while pending:
            tasks = Path(f"/proc/{pending.pop()}/task")
            for task in tasks.iterdir():
                try:
                    os.sched_setaffinity(int(task.name), cpus)
                    children = (task / "children").read_text().split()
                except (ProcessLookupError, FileNotFoundError):
                    continue  # a thread that has ended runs nowhere
                pending += [int(child) for child in children]

    def log_tail(self, limit: int = 4_000) -> str:
        """The end of gunicorn's output, for error messages."""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-limit:]

    def stop(self) -> None:
        """SIGTERM to the master by its PID (it stops its workers), SIGKILL if it lingers."""
        if self.process.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.process.wait(STOP_TIMEOUT)
        self._log.close()
        self._ready_dir.cleanup()
