"""Fixtures for tests against real services: databases, Redis, gunicorn servers.

Tests marked ``services`` start real processes. Without the service they need they skip,
naming the variable to set; under ``CI=true`` they fail instead, since CI provides them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .databases import ServerDatabase, run_django, vendor_of
from .processes import (
    PrivatePostgres,
    PrivateRedis,
    listening,
    postgres_bindir,
    postgres_user_exists,
    require,
)
from .servers import ServerStarter, base_env


@pytest.fixture
def report(capsys: pytest.CaptureFixture[str]) -> Callable[[str], None]:
    """Print a measured figure even under -q and output capture: the run's record of it."""

    def show(line: str) -> None:
        with capsys.disabled():
            print(f"\n    {line}", end="")

    return show


@pytest.fixture(scope="module")
def pool() -> Iterator[ThreadPoolExecutor]:
    """Client threads: enough concurrent requests to keep every worker busy."""
    with ThreadPoolExecutor(max_workers=16, thread_name_prefix="client") as executor:
        yield executor


@pytest.fixture(scope="module")
def redis_url() -> str:
    """The shared Redis from REDIS_URL, checked reachable."""
    url = os.environ.get("REDIS_URL", "")
    require(bool(url), "needs REDIS_URL (a Redis that several processes share), which is unset")
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    require(listening(host, port), f"needs REDIS_URL reachable; nothing answers at {host}:{port}")
    return url


@pytest.fixture(scope="module")
def server_database() -> Iterator[ServerDatabase]:
    """A database created for this module on DATABASE_URL's server, migrated, then dropped.

    Without DATABASE_URL, an SQLite file that the served processes share, as with the settings
    startproject writes.
    """
    url = os.environ.get("DATABASE_URL", "")
    vendor = vendor_of(url)
    require(
        vendor in ("postgresql", "mysql", "sqlite"),
        f"needs DATABASE_URL pointing at PostgreSQL, MySQL, MariaDB or SQLite; it selects {vendor}",
    )
    database = ServerDatabase(url)
    try:
        database.create()
    except Exception as exc:
        require(False, f"needs DATABASE_URL reachable to create a database: {exc}")
    try:
        run_django(["migrate", "--noinput", "-v", "0"], base_env(DATABASE_URL=database.url))
        yield database
    finally:
        database.drop()


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[ServerStarter]:
    """Start gunicorn servers for one test; all are stopped when it ends."""
    starter = ServerStarter(tmp_path)
    yield starter
    starter.stop_all()


@pytest.fixture(scope="module")
def start_module_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerStarter]:
    """Start gunicorn servers shared by a module's tests; all are stopped when it ends."""
    starter = ServerStarter(tmp_path_factory.mktemp("servers"))
    yield starter
    starter.stop_all()


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """A PostgreSQL server the test owns, so stopping it leaves the machine's server alone."""
    bindir = postgres_bindir()
    require(
        bindir is not None,
        "needs the PostgreSQL server programs (initdb, postgres): set PG_BIN_DIR or put "
        "pg_config on PATH",
    )
    assert bindir is not None
    require(
        os.geteuid() != 0 or postgres_user_exists(),
        "needs a 'postgres' user to run the PostgreSQL server as, since the tests run as root",
    )
    root = Path(tempfile.mkdtemp(prefix="preflight-pg-"))
    server = PrivatePostgres(bindir, root)
    try:
        server.initdb()
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    """A redis-server the test owns, on its own port, to stop and restart at will."""
    binary = os.environ.get("REDIS_SERVER_BIN") or shutil.which("redis-server")
    require(
        bool(binary),
        "needs the redis-server program: set REDIS_SERVER_BIN or put it on PATH",
    )
    assert binary is not None
    root = Path(tempfile.mkdtemp(prefix="preflight-redis-"))
    server = PrivateRedis(binary, root)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
