"""Real servers and one headless Chromium for the whole browser suite.

The API runs under gunicorn (two workers) and, for some cases, uvicorn; the demo frontend runs
on another port, so every call crosses origins. All of them share one database and one cache
with a control process, through which tests change policies (see ``control``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from example_project.frontend_server import FrontendServer
from tests.browser_support import require_chromium
from tests.cors_server import Running, serve_pair

from .control import ROOT, Control
from .server_middleware import ANSWERS
from .servers import Database, ServerProcess, gunicorn, running, uvicorn
from .support import ADMIN, ALICE, PASSWORD, PageSession, launch


@pytest.fixture(scope="package", autouse=True)
def chromium_executable() -> str:
    """Skip (or fail, in CI) the whole suite before starting anything when Chromium is absent."""
    return require_chromium()


@pytest.fixture(scope="package")
def playwright_driver() -> Iterator[Playwright]:
    """One Playwright driver for the package; closed before any other module starts its own."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def chromium(playwright_driver: Playwright, chromium_executable: str) -> Iterator[Browser]:
    """One browser for the suite; every case opens its own context."""
    browser = launch(playwright_driver, chromium_executable)
    yield browser
    browser.close()


@pytest.fixture
def open_page(chromium: Browser) -> Iterator[Callable[[str], PageSession]]:
    """Open pages in fresh contexts, all closed after the test."""
    sessions: list[PageSession] = []

    def open_(url: str) -> PageSession:
        session = PageSession(chromium, url)
        sessions.append(session)
        return session

    yield open_
    for session in sessions:
        session.close()


@pytest.fixture(scope="package")
def frontend() -> Iterator[FrontendServer]:
    """The demo's page, served by the demo's own frontend server on a free port."""
    server = FrontendServer("127.0.0.1", 0, quiet=True).start()
    yield server
    server.stop()


@pytest.fixture(scope="package")
def cors_server() -> Iterator[Running]:
    """The scripted server on two ports of its own: other origins than the page's."""
    with serve_pair() as server:
        yield server


@pytest.fixture(scope="package")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Database file, cache, logs and proxy configuration of this run."""
    return tmp_path_factory.mktemp("browser-suite")


@pytest.fixture(scope="package")
def database(workdir: Path) -> Iterator[Database]:
    """SQLite in the run's folder, or a throw-away PostgreSQL database with DATABASE_URL."""
    created = Database(workdir)
    yield created
    created.drop()


@pytest.fixture(scope="package")
def server_env(workdir: Path, database: Database, frontend: FrontendServer) -> dict[str, str]:
    """The environment every server and the control process share; migrated once."""
    cache = workdir / "cache"
    cache.mkdir()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.browser.server_settings",
        "PREFLIGHT_TEST_DATABASE_URL": database.url,
        "PREFLIGHT_TEST_CACHE_DIR": str(cache),
        "PREFLIGHT_TEST_FRONTEND_ORIGIN": frontend.origin,
        "PREFLIGHT_TEST_REQUEST_LOG": str(workdir / "requests.log"),
        "PYTHONUNBUFFERED": "1",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    return env


@pytest.fixture(scope="package")
def control(server_env: dict[str, str]) -> Iterator[Control]:
    """The process through which tests change the servers' database."""
    process = Control(server_env)
    yield process
    process.close()


@pytest.fixture(scope="package")
def accounts(control: Control) -> dict[str, str]:
    """A user with an API token and a superuser for the admin; returns their tokens."""
    return {
        ALICE: control("user", username=ALICE, password=PASSWORD),
        ADMIN: control("user", username=ADMIN, password=PASSWORD, superuser=True),
    }


@pytest.fixture
def policies(control: Control) -> Callable[..., int]:
    """Start from no policy and no audit row; returns a function that adds a policy."""
    control("reset")

    def add(name: str, *origins: str | tuple[str, str], **fields: Any) -> int:
        pairs = [("exact", o) if isinstance(o, str) else o for o in origins]
        return int(control("policy", name=name, origins=pairs, **fields))

    return add


@pytest.fixture
def credentialed_frontend(policies: Callable[..., int], frontend: FrontendServer) -> int:
    """The demo page's origin allowed with credentials on /api/, CSRF header included."""
    return policies(
        "frontend",
        frontend.origin,
        path_prefix="/api/",
        allow_credentials=True,
        allowed_methods=["GET", "POST"],
        allowed_headers=["content-type", "x-csrftoken"],
    )


@pytest.fixture(scope="package")
def api(
    server_env: dict[str, str], workdir: Path, accounts: dict[str, str]
) -> Iterator[ServerProcess]:
    """The API under gunicorn, two workers."""
    yield from running(gunicorn("gunicorn", server_env, workdir))


@pytest.fixture(scope="package")
def asgi_api(
    server_env: dict[str, str], workdir: Path, accounts: dict[str, str]
) -> Iterator[ServerProcess]:
    """The same API under uvicorn, for the cases that must hold under ASGI too."""
    yield from running(uvicorn("uvicorn", server_env, workdir))


@pytest.fixture(params=["gunicorn", "uvicorn"])
def any_api(request: pytest.FixtureRequest) -> ServerProcess:
    """The API under each server, for cases that must not depend on WSGI or ASGI."""
    name = "api" if request.param == "gunicorn" else "asgi_api"
    server: ServerProcess = request.getfixturevalue(name)
    return server


@pytest.fixture
def answer_log(workdir: Path) -> Callable[[], list[tuple[int, str, str]]]:
    """Every answer the servers gave so far: (status, method, path with query)."""
    path = workdir / f"requests.log{ANSWERS}"

    def read() -> list[tuple[int, str, str]]:
        if not path.exists():
            return []
        entries = []
        for line in path.read_text().splitlines():
            _, status, method, target = line.split(" ", 3)
            entries.append((int(status), method, target))
        return entries

    return read


@pytest.fixture
def request_log(workdir: Path) -> Callable[[], list[tuple[int, str, str]]]:
    """Every request the servers received so far: (worker PID, method, path with query)."""
    path = workdir / "requests.log"

    def read() -> list[tuple[int, str, str]]:
        if not path.exists():
            return []
        entries = []
        for line in path.read_text().splitlines():
            pid, method, target = line.split(" ", 2)
            entries.append((int(pid), method, target))
        return entries

    return read
