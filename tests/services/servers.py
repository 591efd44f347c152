"""gunicorn servers of the served project, started and stopped by their PIDs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from .databases import SITE_SETTINGS
from .processes import ROOT, free_port, listening, wait_until
from .web import Reply, send


def base_env(**overrides: str) -> dict[str, str]:
    """The environment of a served process: this one's, plus the given variables."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    env.update({"PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": SITE_SETTINGS})
    env.update(overrides)
    return env


def gunicorn_argv(port: int, workers: int, *options: str) -> list[str]:
    """gunicorn serving the project's WSGI application, sync workers unless ``options`` say."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--no-control-socket",
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--graceful-timeout",
        "15",
        "--preload",
        "--error-logfile",
        "-",
        *options,
        "tests.services.site.wsgi:application",
    ]


def uvicorn_argv(port: int, workers: int, *options: str) -> list[str]:
    """One uvicorn process serving the project's ASGI application: its own PID is the worker."""
    assert workers == 1, "uvicorn's --workers forks a supervisor; one process is one worker"
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        *options,
        "tests.services.site.asgi:application",
    ]


class Gunicorn:
    """One server of the served project (gunicorn unless told otherwise): a machine."""

    def __init__(
        self,
        name: str,
        env: dict[str, str],
        workers: int,
        log_dir: Path,
        argv: Callable[..., list[str]] = gunicorn_argv,
        options: Sequence[str] = (),
    ) -> None:
        self.name = name
        self.workers = workers
        self.argv = argv
        self.options = tuple(options)
        self.env = {**env, "SERVICES_SERVER_NAME": name}
        self.log_path = log_dir / f"{name}.log"
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60, *, warm: bool = True) -> Gunicorn:
        """Start it and wait until it answers HTTP; with ``warm=False`` only until its port
        accepts connections, so that no request has reached a worker yet."""
        self.port = free_port()
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                self.argv(self.port, self.workers, *self.options),
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        proc = self.proc
        if not warm:
            if not wait_until(lambda: listening("127.0.0.1", self.port, 0.5), timeout, 0.05):
                self.stop()
                pytest.fail(f"{self.name} did not listen:\n{self.log()}")
            return self

        answered = False

        def ready() -> bool:
            nonlocal answered
            if proc.poll() is not None:
                return True
            answered = send(self.port, "GET", "/_services/none/", timeout=2).status != 0
            return answered

        # One answer is the proof; asking again could time out on a loaded machine.
        wait_until(ready, timeout, interval=0.1)
        if proc.poll() is not None or not answered:
            self.stop()
            pytest.fail(f"gunicorn {self.name} did not start:\n{self.log()}")
        return self

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> int | None:
        """SIGTERM: workers finish their request and exit normally, so exit handlers run."""
        return stop_servers([self])[0]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def post(self, path: str, body: str) -> Reply:
        """A JSON POST to one of the served project's edit views."""
        return send(
            self.port, "POST", path, {"Content-Type": "application/json"}, body.encode(), 30
        )


def stop_servers(servers: Sequence[Gunicorn], timeout: float = 30) -> list[int | None]:
    """SIGTERM every server at once, then wait for each; returns their exit codes."""
    for server in servers:
        if server.running:
            assert server.proc is not None
            server.proc.send_signal(signal.SIGTERM)
    for server in servers:
        if server.proc is not None:
            try:
                server.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                server.proc.kill()
                server.proc.wait(timeout=10)
    return [server.proc.returncode if server.proc is not None else None for server in servers]


class ServerStarter:
    """Starts gunicorn servers and remembers them, so a finalizer stops every one by its PID."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[Gunicorn] = []

    def __call__(
        self,
        name: str,
        *,
        database_url: str,
        redis_url: str,
        workers: int = 4,
        argv: Callable[..., list[str]] = gunicorn_argv,
        options: Sequence[str] = (),
        warm: bool = True,
        **env: str,
    ) -> Gunicorn:
        """An empty ``redis_url`` leaves the project with Django's default cache (local
        memory, one per process), as a project made by startproject has."""
        settings = {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SERVICES_CACHE_PREFIX": env.pop("SERVICES_CACHE_PREFIX", uuid.uuid4().hex[:12]),
            **env,
        }
        server = Gunicorn(name, base_env(**settings), workers, self.log_dir, argv, options)
        self.started.append(server)
        return server.start(warm=warm)

    def stop_all(self) -> None:
        stop_servers(self.started)
