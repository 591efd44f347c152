"""Launching Debian's Chromium for the browser tests, and the URLs they use."""

from __future__ import annotations

import os
import shutil
from typing import NoReturn
from urllib.parse import urlsplit, urlunsplit

import pytest

CHROMIUM_PATH = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium keeps calling home, which slows runs on machines without internet.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
CORS_BLOCKED = "has been blocked by CORS policy"
FETCH_FAILED = "TypeError: Failed to fetch"


def require_chromium() -> str:
    """The browser's path; skip without it locally, but fail in CI where it must be installed."""
    return require_executable(
        CHROMIUM_PATH,
        "install it with `apt-get install chromium` (Playwright's own browser download is not "
        "used).",
    )


def require_executable(path: str, hint: str) -> str:
    """A browser's executable; a missing one skips locally with ``hint``, and fails in CI."""
    if shutil.which(path):
        return path
    missing(f"{path} not found: {hint}")


def missing(message: str) -> NoReturn:
    """Skip locally for want of something a browser needs, but fail in CI."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def on_loopback_ip(url: str) -> str:
    """The same server addressed as 127.0.0.1 instead of localhost.

    Two ports of 127.0.0.1 are one site, so the browser treats the call as a real frontend
    would treat its API; localhost against 127.0.0.1 would be cross-site.
    """
    parts = urlsplit(url)
    if parts.hostname != "localhost":
        return url
    netloc = "127.0.0.1" if parts.port is None else f"127.0.0.1:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))
