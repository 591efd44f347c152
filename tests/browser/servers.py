"""Real servers for the browser suite: started with Popen, stopped by their own PID.

Ports are taken free at run time; every server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from .control import ROOT

NGINX_PATH = "/usr/sbin/nginx"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
START_TIMEOUT = 30.0


def in_ci() -> bool:
    """CI installs every dependency, so a missing one there is a failure, not a skip."""
    return os.environ.get("CI", "").lower() == "true"


def skip_or_fail(message: str) -> None:
    """Skip on a developer's machine, fail in CI."""
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    """A port nothing listens on right now; the server binds it a moment later."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """One server process and where it listens."""

    name: str
    command: Sequence[str]
    env: Mapping[str, str]
    port: int
    log_path: Path
    ready_path: str = "/"
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def origin(self) -> str:
        """The server's origin as a browser writes it."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerProcess:
        """Start and wait until it answers HTTP; its output goes to its log file."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                list(self.command),
                cwd=ROOT,
                env=dict(self.env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start:\n{self.log_tail()}")
            if _answers(self.origin + self.ready_path):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"{self.name} did not answer within {START_TIMEOUT} s:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        """SIGTERM, wait, SIGKILL if it will not stop; only this process is signalled."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's output, for failure messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no output)"
        return "\n".join(text.splitlines()[-lines:])


def running(server: ServerProcess) -> Iterator[ServerProcess]:
    """Start a server for a fixture's scope and stop it by its PID afterwards."""
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _answers(url: str) -> bool:
    """Any HTTP answer counts: the server is up, whatever it thinks of the path."""
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def gunicorn(
    name: str,
    env: Mapping[str, str],
    workdir: Path,
    workers: int = 2,
    application: str = "example_project.wsgi:application",
) -> ServerProcess:
    """A WSGI application (by default the example project's) under gunicorn."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        application,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--no-control-socket",
        "--graceful-timeout",
        "3",
    ]
    return ServerProcess(name, command, env, port, workdir / f"{name}.log")


def uvicorn(name: str, env: Mapping[str, str], workdir: Path) -> ServerProcess:
    """The example project's ASGI application under uvicorn, so the middleware runs async."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "example_project.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--timeout-graceful-shutdown",
        "3",
    ]
    return ServerProcess(name, command, env, port, workdir / f"{name}.log")


NGINX_HTTP_HEAD = """\
worker_processes 1;
{user}pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 128; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
"""
"""The start of every nginx configuration here: one worker, and every path under the prefix."""

NGINX_CONF = (
    NGINX_HTTP_HEAD
    + """\

    # Only forwarding: Django answers preflights and adds every CORS header.
    server {{
        listen 127.0.0.1:{forward_port};
        location / {{
            proxy_pass http://127.0.0.1:{upstream_port};
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
    }}

    # The mistake: the proxy adds Access-Control-Allow-Origin on top of Django's.
    server {{
        listen 127.0.0.1:{adding_port};
        location / {{
            proxy_pass http://127.0.0.1:{upstream_port};
            add_header Access-Control-Allow-Origin $http_origin always;
        }}
    }}
}}
"""
)


@dataclass
class Nginx:
    """nginx in the foreground, configured in its own folder; two listening ports."""

    prefix: Path
    upstream_port: int
    forward_port: int = field(default_factory=free_port)
    adding_port: int = field(default_factory=free_port)
    template: str = NGINX_CONF
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> Nginx:
        """Write the configuration, start nginx and wait for both ports."""
        self.prefix.mkdir(parents=True, exist_ok=True)
        # Started as root, nginx runs its workers as 'nobody', who cannot enter a private
        # temporary folder; keep them as the current user instead.
        user = "user root;\n" if os.geteuid() == 0 else ""
        conf = self.prefix / "nginx.conf"
        conf.write_text(
            self.template.format(
                user=user,
                prefix=self.prefix,
                forward_port=self.forward_port,
                adding_port=self.adding_port,
                upstream_port=self.upstream_port,
            )
        )
        log = (self.prefix / "stderr.log").open("ab")
        with log:
            self.process = subprocess.Popen(
                [
                    NGINX_PATH,
                    "-c",
                    str(conf),
                    "-p",
                    str(self.prefix),
                    "-e",
                    str(self.prefix / "error.log"),
                    "-g",
                    "daemon off;",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited at start:\n{self.errors()}")
            listened = [p for p in self.ports if f"127.0.0.1:{p};" in conf.read_text()]
            if all(_answers(f"http://127.0.0.1:{p}/") for p in listened):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nginx did not answer:\n{self.errors()}")

    @property
    def ports(self) -> tuple[int, int]:
        """The forwarding port and the port that adds a header."""
        return self.forward_port, self.adding_port

    def errors(self) -> str:
        """nginx's own error log."""
        parts = []
        for name in ("stderr.log", "error.log"):
            path = self.prefix / name
            if path.exists():
                parts.append(path.read_text(errors="replace"))
        return "\n".join(parts)

    def stop(self) -> None:
        """SIGQUIT asks the master to shut down gracefully; SIGKILL if it will not."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGQUIT)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def require_nginx() -> str:
    """nginx's path; skip without it locally, fail in CI."""
    if not shutil.which(NGINX_PATH):
        skip_or_fail(f"{NGINX_PATH} not found: install it with `apt-get install nginx-light`.")
    return NGINX_PATH


def redis_url() -> str:
    """REDIS_URL or the local default; skip (fail in CI) when nothing answers there."""
    import redis

    url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        skip_or_fail(
            f"Redis is not reachable at {url} ({exc}): set REDIS_URL to a Redis server to run "
            "the multi-worker tests."
        )
    return url


def cache_prefix() -> str:
    """A Redis key prefix no other run uses."""
    return f"preflight-browser-{uuid.uuid4().hex[:12]}"


class Database:
    """The servers' database: a SQLite file in the run's folder, or a fresh PostgreSQL database
    created next to the one ``DATABASE_URL`` names and dropped afterwards."""

    def __init__(self, workdir: Path) -> None:
        self.admin_url: str | None = None
        self.name: str | None = None
        base = os.environ.get("DATABASE_URL", "")
        if base.startswith(("postgres://", "postgresql://")):
            self.admin_url = base
            self.name = f"preflight_browser_{uuid.uuid4().hex[:12]}"
            self.url = urlunsplit(urlsplit(base)._replace(path=f"/{self.name}"))
            self._execute(f'CREATE DATABASE "{self.name}"')
        else:
            self.url = f"sqlite:///{workdir / 'api.sqlite3'}"

    def _execute(self, statement: str) -> None:
        import psycopg

        assert self.admin_url is not None
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(statement)

    def drop(self) -> None:
        """Drop the PostgreSQL database; a SQLite file goes with the temporary folder."""
        if self.name is not None:
            self._execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
