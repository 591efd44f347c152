"""The parent's side of the worker protocol: start, command and stop measuring processes."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from benchmarks import stacks, workload

REPO_ROOT = Path(__file__).resolve().parent.parent
STDERR_TAIL = 4_000


class WorkerError(RuntimeError):
    """A worker failed to start, crashed, timed out or reported an exception."""


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """The parent's environment, with the repository importable and ``extra`` on top."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


class Worker:
    """One measuring process; commands are answered one JSON line at a time."""

    def __init__(self, key: str, config: dict[str, Any], env: dict[str, str]) -> None:
        self.key = key
        self.checks: dict[str, Any] = {}
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop)
        self._buffer = b""
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "benchmarks.worker", json.dumps(config)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                cwd=REPO_ROOT,
                env=child_env(env),
            )
        except BaseException:
            self._stderr.close()
            raise

    def wait_ready(self, timeout: float) -> None:
        """Block until the worker has set up and checked its subject."""
        reply = self._read(timeout)
        if not reply.get("ready"):
            raise WorkerError(f"{self.key} did not start: {reply}")
        self.checks = reply["checks"]

    def request(self, command: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one command and return the reply."""
        stdin = self.process.stdin
        assert stdin is not None
        try:
            stdin.write((json.dumps(command) + "\n").encode())
            stdin.flush()
        except BrokenPipeError as exc:
            raise WorkerError(f"{self.key} exited: {self.stderr_tail()}") from exc
        return self._read(timeout)

    def _read(self, timeout: float) -> dict[str, Any]:
        stdout = self.process.stdout
        assert stdout is not None
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WorkerError(f"{self.key} did not answer within {timeout:.0f} s")
            ready, _, _ = select.select([stdout], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(stdout.fileno(), 65536)
            if not chunk:
                raise WorkerError(f"{self.key} exited: {self.stderr_tail()}")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            raise WorkerError(f"{self.key}: {reply['error']}")
        return reply

    def stderr_tail(self) -> str:
        """The end of what the worker wrote to stderr, for error messages."""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-STDERR_TAIL:]

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the worker to quit; kill it (by its own process handle) if it does not."""
        stdin, stdout = self.process.stdin, self.process.stdout
        if self.process.poll() is None and stdin is not None:
            try:
                stdin.write(b'{"op": "quit"}\n')
                stdin.close()
            except OSError:
                pass
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)
        if stdout is not None:
            stdout.close()
        self._stderr.close()


def django_worker(stack: str, size: workload.Size, key: str | None = None) -> Worker:
    """A worker running ``stack`` through Django's handler with ``size`` origins."""
    env = {"DJANGO_SETTINGS_MODULE": stacks.SETTINGS_MODULES[stack], **size.env()}
    config = {"subject": "django", "stack": stack, "size": _size_dict(size)}
    return Worker(key or f"{stack} @ {size.label}", config, env)


def engine_worker(size: workload.Size) -> Worker:
    """A worker timing the decision engine alone on a snapshot of ``size``."""
    config = {"subject": "engine", "size": _size_dict(size)}
    return Worker(f"engine @ {size.label}", config, {})


def _size_dict(size: workload.Size) -> dict[str, int]:
    return {"exact": size.exact, "wildcards": size.wildcards, "regexes": size.regexes}


def start_all(workers: Iterable[Worker], timeout: float) -> None:
    """Wait for every worker (they set up in parallel); stop them all if one fails."""
    workers = list(workers)
    try:
        for worker in workers:
            worker.wait_ready(timeout)
    except BaseException:
        stop_all(workers)
        raise


def stop_all(workers: Iterable[Worker]) -> None:
    """Stop every worker, each by its own process."""
    for worker in workers:
        worker.stop()
