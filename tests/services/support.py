"""Processes, databases and HTTP polling for the service tests.

Everything here listens on and talks to loopback only, every loop has a deadline, and every
process is started with ``subprocess.Popen`` so it is stopped by its own PID.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
import pytest

ROOT = Path(__file__).resolve().parents[2]
CI = os.environ.get("CI") == "true"
SITE_SETTINGS = "tests.services.site.settings"
APP = "https://app.example.com"


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


# Databases


def vendor_of(url: str) -> str:
    """'postgresql', 'mysql' or 'sqlite', from a DATABASE_URL."""
    if not url:
        return "sqlite"
    engine = str(dj_database_url.parse(url)["ENGINE"])
    for vendor in ("postgresql", "mysql", "sqlite"):
        if vendor in engine:
            return vendor
    return engine


def with_database_name(url: str, name: str) -> str:
    """The same server and credentials, another database."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


@dataclass
class ServerDatabase:
    """A database of the test's own on a shared server, created here and dropped here."""

    admin_url: str
    name: str = field(default_factory=lambda: f"preflight_services_{uuid.uuid4().hex[:10]}")

    @property
    def vendor(self) -> str:
        return vendor_of(self.admin_url)

    @property
    def url(self) -> str:
        return with_database_name(self.admin_url, self.name)

    def _connect(self, database: str | None) -> Any:
        params = dj_database_url.parse(self.admin_url)
        host, port = str(params["HOST"] or "127.0.0.1"), params["PORT"]
        user, password = str(params["USER"] or ""), str(params["PASSWORD"] or "")
        if self.vendor == "postgresql":
            import psycopg

            return psycopg.connect(
                host=host,
                port=int(port or 5432),
                user=user or None,
                password=password or None,
                dbname=database or str(params["NAME"] or "postgres"),
                autocommit=True,
                connect_timeout=5,
            )
        import MySQLdb  # type: ignore[import-untyped]

        kwargs: dict[str, Any] = {
            "host": host,
            "port": int(port or 3306),
            "user": user,
            "password": password,
            "charset": "utf8mb4",
            "connect_timeout": 5,
            "autocommit": True,
        }
        if database:
            kwargs["database"] = database
        return MySQLdb.connect(**kwargs)

    def create(self) -> None:
        """Create the database; the name is made of letters, digits and underscores only."""
        with contextlib.closing(self._connect(None)) as connection:
            cursor = connection.cursor()
            if self.vendor == "postgresql":
                cursor.execute(f'CREATE DATABASE "{self.name}"')
            else:
                cursor.execute(f"CREATE DATABASE `{self.name}` CHARACTER SET utf8mb4")

    def drop(self) -> None:
        """Drop it, closing whatever a killed server may have left connected."""
        with contextlib.closing(self._connect(None)) as connection:
            cursor = connection.cursor()
            if self.vendor == "postgresql":
                cursor.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            else:
                cursor.execute(f"DROP DATABASE IF EXISTS `{self.name}`")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of one statement, read outside Django: the test process has its own database."""
        with contextlib.closing(self._connect(self.name)) as connection:
            cursor = connection.cursor()
            cursor.execute(sql, tuple(params))
            return list(cursor.fetchall())

    def audit_rows(self, origin_like: str) -> list[tuple[str, int, bool]]:
        """(origin, count, is_overflow) of the audit rows whose origin matches, overflow too."""
        rows = self.query(
            "SELECT origin, count, is_overflow FROM django_preflight_rejectedpreflight "
            "WHERE origin LIKE %s OR is_overflow = %s",
            (origin_like, True),
        )
        return [(str(origin), int(count), bool(overflow)) for origin, count, overflow in rows]


def run_django(command: Sequence[str], env: dict[str, str], timeout: float = 180) -> None:
    """A management command against the served project's settings, in its own process."""
    result = subprocess.run(
        [sys.executable, "-m", "django", *command],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": SITE_SETTINGS},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode:
        pytest.fail(f"manage.py {' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")


# Servers


def base_env(**overrides: str) -> dict[str, str]:
    """The environment of a served process: this one's, plus the given variables."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    env.update({"PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": SITE_SETTINGS})
    env.update(overrides)
    return env


class Gunicorn:
    """One gunicorn server of the served project: a machine, for the tests."""

    def __init__(self, name: str, env: dict[str, str], workers: int, log_dir: Path) -> None:
        self.name = name
        self.workers = workers
        self.env = {**env, "SERVICES_SERVER_NAME": name}
        self.log_path = log_dir / f"{name}.log"
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> Gunicorn:
        """Start it and wait until it answers HTTP."""
        self.port = free_port()
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--no-control-socket",
                    "--workers",
                    str(self.workers),
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--graceful-timeout",
                    "15",
                    "--preload",
                    "--error-logfile",
                    "-",
                    "tests.services.site.wsgi:application",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        proc = self.proc

        def ready() -> bool:
            if proc.poll() is not None:
                return True
            return send(self.port, "GET", "/_services/none/", timeout=2).status != 0

        wait_until(ready, timeout, interval=0.1)
        if proc.poll() is not None or send(self.port, "GET", "/_services/none/").status == 0:
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
        self, name: str, *, database_url: str, redis_url: str, workers: int = 4, **env: str
    ) -> Gunicorn:
        settings = {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SERVICES_CACHE_PREFIX": env.pop("SERVICES_CACHE_PREFIX", uuid.uuid4().hex[:12]),
            **env,
        }
        server = Gunicorn(name, base_env(**settings), workers, self.log_dir)
        self.started.append(server)
        return server.start()

    def stop_all(self) -> None:
        stop_servers(self.started)


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


# HTTP


@dataclass(frozen=True)
class Reply:
    """One HTTP exchange: status 0 when no HTTP answer came back."""

    status: int
    worker: str
    sent: float
    received: float
    error: str = ""
    body: bytes = b""

    @property
    def seconds(self) -> float:
        return self.received - self.sent


def send(
    port: int,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 10.0,
) -> Reply:
    """One request on its own connection, as gunicorn's sync workers serve them."""
    sent = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        body = response.read()
        worker = response.getheader("X-Served-By", "")
        return Reply(response.status, worker, sent, time.monotonic(), body=body)
    except (OSError, http.client.HTTPException) as exc:
        return Reply(0, "", sent, time.monotonic(), repr(exc))
    finally:
        connection.close()


def preflight(port: int, origin: str, path: str = "/api/items/1/", method: str = "PUT") -> Reply:
    return send(port, "OPTIONS", path, {"Origin": origin, "Access-Control-Request-Method": method})


def burst(pool: ThreadPoolExecutor, jobs: Iterable[Callable[[], Reply]]) -> list[Reply]:
    """Run the requests concurrently and return every reply."""
    return list(pool.map(lambda job: job(), list(jobs)))


def create_policy(server: Gunicorn, path_prefix: str, *origins: str) -> str:
    """A policy made through a server, as staff would in the admin; returns its name."""
    name = f"policy-{uuid.uuid4().hex[:8]}"
    body = {"name": name, "path_prefix": path_prefix, "origins": ",".join(origins)}
    reply = server.post("/_services/policy/", json.dumps(body))
    assert reply.status == 201, reply
    return name


def add_origin(server: Gunicorn, policy: str, origin: str) -> Reply:
    """One more origin on a policy, saved through a server."""
    return server.post("/_services/origin/", json.dumps({"policy": policy, "origin": origin}))


def discover_workers(
    pool: ThreadPoolExecutor, servers: Sequence[Gunicorn], origin: str, timeout: float = 30
) -> set[str]:
    """Hit every server until each of its workers has answered; fails if one never does."""
    seen: set[str] = set()
    deadline = time.monotonic() + timeout
    expected = sum(server.workers for server in servers)
    while len(seen) < expected and time.monotonic() < deadline:
        replies = burst(
            pool,
            (partial(preflight, s.port, origin) for s in servers for _ in range(16)),
        )
        seen.update(reply.worker for reply in replies if reply.worker)
    if len(seen) < expected:
        pytest.fail(f"only {len(seen)} of {expected} workers answered: {sorted(seen)}")
    return seen


def settle(
    pool: ThreadPoolExecutor,
    servers: Sequence[Gunicorn],
    origin: str,
    status: int,
    timeout: float = 30,
) -> set[str]:
    """Poll until every worker of every server answers ``origin`` with ``status``."""
    expected = sum(server.workers for server in servers)
    agreed: set[str] = set()
    deadline = time.monotonic() + timeout
    while len(agreed) < expected and time.monotonic() < deadline:
        replies = burst(
            pool,
            (partial(preflight, s.port, origin) for s in servers for _ in range(16)),
        )
        agreed |= {reply.worker for reply in replies if reply.status == status}
        agreed -= {reply.worker for reply in replies if reply.status != status}
    if len(agreed) < expected:
        pytest.fail(f"only {len(agreed)} of {expected} workers answer {origin} with {status}")
    return agreed


@dataclass
class Convergence:
    """How long the workers took to serve a change, measured from the change request."""

    converged: dict[str, float]
    last_stale: float
    requests: int
    stale: int
    unexpected: list[Reply]

    @property
    def delay(self) -> float:
        """The largest delay: when the slowest worker answered the new way for good."""
        return max(self.converged.values(), default=float("inf"))


def watch_change(
    pool: ThreadPoolExecutor,
    servers: Sequence[Gunicorn],
    workers: set[str],
    origin: str,
    change: Callable[[], float],
    *,
    old: int,
    new: int,
    lead_in: float,
    watch_for: float,
    deadline: float,
) -> Convergence:
    """Keep every worker busy, make the change, and poll until all serve ``new`` for ``origin``.

    The load starts ``lead_in`` seconds before the change, so each worker's version checks
    are spread as under real traffic (an idle worker would check on its first request and
    show no delay at all), and goes on while the change is made. ``change`` returns when the
    change took effect (a commit, a service back) on the machine's monotonic clock, which all
    processes here share; delays count from then. A worker counts as converged at the first new
    answer received after its last old one, so the delay is an upper bound. Polling goes on
    ``watch_for`` seconds after the change so that a late stale answer would be seen.
    """

    def poll() -> list[Reply]:
        return burst(
            pool,
            (partial(preflight, s.port, origin) for s in servers for _ in range(12)),
        )

    warm_until = time.monotonic() + lead_in
    while time.monotonic() < warm_until:
        poll()
    started = time.monotonic()
    changing = pool.submit(change)
    replies: list[Reply] = []
    while True:
        replies += poll()
        now = time.monotonic()
        if not changing.done():
            if now - started > deadline:
                pytest.fail("the change was not made in time")
            continue
        since = changing.result()
        result = _summarise(replies, workers, old, new, since)
        if len(result.converged) == len(workers) and now - since >= watch_for:
            return result
        if now - since > deadline:
            return result


def committed_at(reply: Reply) -> float:
    """When a policy edit made through a server was committed, from the server's answer."""
    assert reply.status == 201, reply
    return float(json.loads(reply.body)["committed_at"])


def _summarise(
    replies: list[Reply], workers: set[str], old: int, new: int, since: float
) -> Convergence:
    last_old: dict[str, float] = {}
    unexpected = [r for r in replies if r.status not in (old, new) or r.worker not in workers]
    for reply in replies:
        if reply.status == old and reply.received > since:
            last_old[reply.worker] = max(last_old.get(reply.worker, 0.0), reply.received)
    converged: dict[str, float] = {}
    for reply in sorted(replies, key=lambda r: r.received):
        if reply.status != new or reply.worker in converged:
            continue
        if reply.received > last_old.get(reply.worker, 0.0):
            converged[reply.worker] = max(0.0, reply.received - since)
    stale = [r for r in replies if r.status == old and r.received > since]
    return Convergence(
        converged=converged,
        last_stale=max((r.received - since for r in stale), default=0.0),
        requests=len(replies),
        stale=len(stale),
        unexpected=unexpected,
    )


def log_lines(text: str, pattern: str) -> list[str]:
    """Lines of a server log matching a regular expression."""
    return [line for line in text.splitlines() if re.search(pattern, line)]
