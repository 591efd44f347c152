"""The built documentation opened from the file system, in real Chromium: links lead to pages.

With directory URLs a link such as "Troubleshooting" points at ``troubleshooting/``, which a
browser shows as a directory listing without a server; the site is built with
``use_directory_urls: false`` so every link names its ``.html`` file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from .browser_support import CHROMIUM_ARGS, require_chromium

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.browser
def test_the_built_site_navigates_from_the_file_system(tmp_path: Path) -> None:
    executable = require_chromium()
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env={**os.environ, "OFFLINE": "true", "NO_MKDOCS_2_WARNING": "1"},
        check=True,
        capture_output=True,
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=list(CHROMIUM_ARGS), headless=True
        )
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto((site / "index.html").as_uri())
        for name in ("Troubleshooting", "Settings", "Migrating from django-cors-headers"):
            page.get_by_role("navigation").get_by_role("link", name=name, exact=True).first.click()
            page.wait_for_load_state()
            assert page.url.endswith(".html"), page.url
            assert page.title().startswith(name), page.title()
            page.go_back()
        browser.close()
