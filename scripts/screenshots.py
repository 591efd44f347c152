"""Screenshots of the real admin for the documentation, taken in headless Chromium.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--chromium /usr/bin/chromium]

The example project runs on a temporary SQLite database: migrated, seeded with ``seed_demo`` and
two more policies, then served by ``runserver``. A few refused preflights are sent through the
running server so the audit has rows. Playwright drives Debian's Chromium (never a downloaded
browser), logs in as the demo superuser and saves one PNG per admin page the guide shows.
"""

from __future__ import annotations

import argparse
import http.client
import io
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FRONTEND = "http://127.0.0.1:8001"
LOCAL_DEV = "http://localhost:5173"
SETTINGS = """\
from example_project.settings import *  # noqa: F403

DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": {db!r}}}}}
PREFLIGHT_AUDIT_FLUSH_INTERVAL = 0.2
"""

REFUSALS: tuple[tuple[str, str, str, str, int], ...] = (
    # origin, path, requested method, requested headers, times sent
    (LOCAL_DEV, "/api/notes/", "POST", "authorization,content-type", 7),
    (LOCAL_DEV, "/api/notes/3/", "PATCH", "authorization,content-type", 2),
    (FRONTEND, "/api/notes/", "GET", "authorization,x-request-id", 3),
    (FRONTEND, "/api/notes/3/", "PURGE", "", 1),
    (FRONTEND, "/internal/metrics/", "GET", "authorization", 1),
)


@dataclass(frozen=True)
class Site:
    """What the browser needs to know about the running example project."""

    base: str
    policy_pk: int
    refused_origin_pk: int
    header_pk: int
    test_request_path: str


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare_database(folder: Path) -> None:
    """Point Django at a fresh SQLite file in ``folder``, migrate it and seed the demo data."""
    (folder / "screenshot_settings.py").write_text(SETTINGS.format(db=str(folder / "db.sqlite3")))
    sys.path[:0] = [str(folder), str(REPO)]
    os.environ["DJANGO_SETTINGS_MODULE"] = "screenshot_settings"
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(folder), str(REPO), os.environ.get("PYTHONPATH")])
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("seed_demo", frontend_origin=FRONTEND, verbosity=0, stdout=io.StringIO())
    add_example_policies()


def add_example_policies() -> None:
    """Two more policies, so the list and the origin kinds look like a real project's."""
    from django_preflight.models import AllowedOrigin, CorsPolicy

    partners = CorsPolicy(
        name="partner-apps",
        description="Partner dashboards read the notes API with a token, never cookies.",
        path_prefix="/api/",
        allow_credentials=False,
        allowed_methods=["GET", "HEAD", "POST"],
        allowed_headers=["accept", "authorization", "content-type"],
        exposed_headers=["Location", "X-Total-Count"],
        max_age=7200,
    )
    partners.full_clean()
    partners.save()
    for kind, value, note in (
        (AllowedOrigin.Kind.EXACT, "https://dashboard.partner.example", "main dashboard"),
        (AllowedOrigin.Kind.SUBDOMAIN, "https://*.apps.partner.example", "per-customer apps"),
        (
            AllowedOrigin.Kind.REGEX,
            r"https://pr-[0-9]+\.preview\.partner\.example",
            "pull request previews",
        ),
    ):
        origin = AllowedOrigin(policy=partners, kind=kind, value=value, note=note)
        origin.full_clean()
        origin.save()
    legacy = CorsPolicy(
        name="legacy-widgets",
        description="Embeddable widgets, switched off until they move to the API.",
        enabled=False,
        path_prefix="/widgets/",
        allowed_methods=["GET"],
        allowed_headers=[],
        max_age=600,
    )
    legacy.full_clean()
    legacy.save()
    origin = AllowedOrigin(policy=legacy, kind=AllowedOrigin.Kind.ANY, value="")
    origin.full_clean()
    origin.save()


@contextmanager
def running_server(port: int) -> Iterator[str]:
    """``manage.py runserver`` on ``port`` until the block ends; yields its base URL."""
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_listening(server, port, log)
            yield f"http://127.0.0.1:{port}"
        finally:
            server.terminate()
            server.wait(timeout=10)


def wait_until_listening(server: subprocess.Popen[bytes], port: int, log: IO[bytes]) -> None:
    """Return once ``port`` accepts connections; stop with the server's output if it died."""
    deadline = time.monotonic() + 30
    while True:
        if server.poll() is not None:
            log.seek(0)
            raise SystemExit(f"runserver exited:\n{log.read().decode(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit("runserver did not start within 30 seconds") from None
            time.sleep(0.2)


def send_refused_preflights(port: int) -> None:
    """Preflights the demo policies refuse, sent as a browser would, so the audit fills up."""
    for origin, path, method, headers, times in REFUSALS:
        for _ in range(times):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            request_headers = {"Origin": origin, "Access-Control-Request-Method": method}
            if headers:
                request_headers["Access-Control-Request-Headers"] = headers
            connection.request("OPTIONS", path, headers=request_headers)
            status = connection.getresponse().status
            connection.close()
            if status < 400:
                raise SystemExit(f"expected a refusal for {method} {path} from {origin}: {status}")


def wait_for_audit(rows: int) -> None:
    """The server writes the audit in the background: wait until every refusal is stored."""
    from django_preflight.models import RejectedPreflight

    deadline = time.monotonic() + 20
    while RejectedPreflight.objects.count() < rows:
        if time.monotonic() > deadline:
            raise SystemExit("the audit rows did not appear within 20 seconds")
        time.sleep(0.2)


def describe_site(base: str) -> Site:
    """Primary keys and URLs the pages need, read before the browser starts."""
    from django.urls import reverse

    from django_preflight.models import CorsPolicy, RejectedPreflight

    return Site(
        base=base,
        policy_pk=CorsPolicy.objects.get(name="partner-apps").pk,
        refused_origin_pk=RejectedPreflight.objects.get(origin=LOCAL_DEV, request_method="POST").pk,
        header_pk=RejectedPreflight.objects.get(reason="header_not_allowed").pk,
        test_request_path=reverse("admin:django_preflight_corspolicy_test_request"),
    )


def take_screenshots(site: Site, out: Path, chromium: str) -> list[Path]:
    """Log in and save one PNG per page; returns the files written."""
    from playwright.sync_api import sync_playwright

    from example_project.notes.management.commands.seed_demo import DEMO_PASSWORD, DEMO_USERNAME

    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    admin = f"{site.base}/admin/django_preflight"

    def shot(page: Page, name: str) -> None:
        path = out / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        written.append(path)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=CHROMIUM_ARGS, headless=True
        )
        context = browser.new_context(
            viewport={"width": 1280, "height": 800}, color_scheme="light", locale="en-US"
        )
        # The admin's navigation sidebar takes width the list columns need: start it closed.
        context.add_init_script("localStorage.setItem('django.admin.navSidebarIsOpen', 'false')")
        page = context.new_page()
        page.goto(f"{site.base}/admin/login/?next=/admin/")
        page.fill("#id_username", DEMO_USERNAME)
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(f"{site.base}/admin/")

        page.goto(f"{admin}/corspolicy/")
        shot(page, "policy-list")

        page.goto(f"{admin}/corspolicy/{site.policy_pk}/change/")
        shot(page, "policy-change")

        page.goto(f"{admin}/corspolicy/add/")
        page.fill("#id_name", "everyone-with-cookies")
        page.fill("#id_path_prefix", "/api/")
        page.check("#id_allow_credentials")
        page.select_option("#id_origins-0-kind", "any")
        page.click("input[name=_save]")
        page.wait_for_selector(".errornote")
        shot(page, "policy-validation-error")

        page.goto(f"{admin}/rejectedpreflight/")
        shot(page, "audit-list")

        page.goto(f"{admin}/rejectedpreflight/{site.refused_origin_pk}/change/")
        shot(page, "audit-detail")

        page.goto(f"{admin}/rejectedpreflight/")
        for pk in (site.refused_origin_pk, site.header_pk):
            page.check(f"input[name=_selected_action][value='{pk}']")
        page.select_option("select[name=action]", "allow_refused")
        page.click("button[name=index]")
        page.wait_for_selector("#remedies")
        shot(page, "audit-allow-confirmation")

        page.goto(f"{site.base}{site.test_request_path}")
        page.fill("#id_url", "/api/notes/3/")
        page.fill("#id_origin", LOCAL_DEV)
        page.fill("#id_method", "PATCH")
        page.fill("#id_headers", "Authorization: Token 0123\nContent-Type: application/json")
        page.click("input[type=submit]")
        page.wait_for_selector("#diagnosis")
        shot(page, "test-request")

        browser.close()
    return written


def main() -> None:
    """Parse the options, run the example project, take the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=REPO / "docs" / "screenshots", help="Folder for the PNGs."
    )
    parser.add_argument(
        "--chromium", default=os.environ.get("CHROMIUM", CHROMIUM), help="Chromium executable."
    )
    args = parser.parse_args()
    if not Path(args.chromium).exists():
        raise SystemExit(f"{args.chromium} not found: apt-get install chromium")
    with tempfile.TemporaryDirectory(prefix="preflight-screenshots-") as folder:
        prepare_database(Path(folder))
        port = free_port()
        with running_server(port) as base:
            send_refused_preflights(port)
            wait_for_audit(len(REFUSALS))
            site = describe_site(base)
            for path in take_screenshots(site, args.out, args.chromium):
                print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)


if __name__ == "__main__":
    main()
