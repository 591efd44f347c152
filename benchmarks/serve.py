"""Gunicorn serving one stack on loopback, started and stopped by its PID.

A server counts as ready once every worker has loaded the application and one preflight over
HTTP has been answered with the grant.
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


class ServerError(RuntimeError):
    """Gunicorn exited, did not get ready in time, or answered the preflight wrongly."""


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


class Server:
    """One gunicorn master and its sync workers, serving ``stack`` at ``size``."""

    def __init__(self, stack: str, size: workload.Size, workers: int) -> None:
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
            self.process = subprocess.Popen(
                gunicorn_command(self.port, workers),
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
        """Wait until every worker has loaded the application, then check one preflight."""
        deadline = time.monotonic() + timeout
        ready_dir = Path(self._ready_dir.name)
        while len(list(ready_dir.iterdir())) < self.workers:
            if self.process.poll() is not None:
                raise ServerError(f"gunicorn for {self.stack} exited: {self.log_tail()}")
            if time.monotonic() > deadline:
                raise ServerError(f"gunicorn for {self.stack} not ready within {timeout:.0f} s")
            time.sleep(POLL_SECONDS)
        self.check_preflight()

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
        if response.status >= 300 or allow_origin != probe.origin:
            raise ServerError(
                f"{self.stack} over HTTP: status {response.status}, "
                f"Access-Control-Allow-Origin {allow_origin!r}"
            )

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
