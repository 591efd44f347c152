"""Driving a page in Chromium: one fetch() at a time, with what the console said about it."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright

from example_project.frontend_server import FrontendServer
from tests.browser_support import CHROMIUM_ARGS, CORS_BLOCKED, FETCH_FAILED

# Chromium resolves example.test and its subdomains to loopback, so a page can be served from
# http://app.example.test:<port> and subdomain and regex origins are matched for real.
HOST_RULES = "--host-resolver-rules=MAP example.test 127.0.0.1, MAP *.example.test 127.0.0.1"
ALICE = "alice"
ADMIN = "admin"
PASSWORD = "browser-suite-password"

PREFLIGHT_FAILED = "Response to preflight request doesn't pass access control check: "
NO_ALLOW_ORIGIN = "No 'Access-Control-Allow-Origin' header is present on the requested resource."
MULTIPLE_VALUES = "The 'Access-Control-Allow-Origin' header contains multiple values"
WILDCARD_WITH_CREDENTIALS = (
    "The value of the 'Access-Control-Allow-Origin' header in the response must not be the "
    "wildcard '*' when the request's credentials mode is 'include'."
)
MESSAGE_WAIT = 5.0

FETCH_JS = """
async ({url, method, headers, body, credentials, read}) => {
  const init = {method, headers, credentials};
  if (body !== null) init.body = body;
  try {
    const response = await fetch(url, init);
    const text = await response.text();
    const values = {};
    for (const name of read) values[name] = response.headers.get(name);
    return {status: response.status, body: text, headers: values, redirected: response.redirected};
  } catch (error) {
    return {error: String(error)};
  }
}
"""


def fetch_argument(
    url: str,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: str | None = None,
    credentials: str = "omit",
    read: tuple[str, ...] = (),
) -> dict[str, Any]:
    """One call as FETCH_JS takes it."""
    return {
        "url": url,
        "method": method,
        "headers": headers or {},
        "body": body,
        "credentials": credentials,
        "read": list(read),
    }


def check_method_applied(
    outcome: Outcome, method: str, note: int, control: Callable[..., Any]
) -> None:
    """The REST call on a note did what its method says, as the servers' database shows."""
    if method == "POST":
        created = outcome.json()
        assert outcome.headers["Location"] == created["url"]
        assert control("note_title", pk=created["id"]) == "by POST"
    elif method == "DELETE":
        assert control("note_title", pk=note) is None
    elif method == "GET":
        assert outcome.json()["title"] == "before"
    else:
        assert control("note_title", pk=note) == f"by {method}"


def launch(driver: Playwright, executable: str, *extra: str) -> Browser:
    """Headless Debian Chromium with the suite's arguments."""
    return driver.chromium.launch(
        executable_path=executable, args=[*CHROMIUM_ARGS, HOST_RULES, *extra], headless=True
    )


def frontend_port(frontend: FrontendServer) -> int:
    """The port every page host shares."""
    return int(frontend.httpd.server_address[1])


def page_url(frontend: FrontendServer, host: str = "127.0.0.1", query: str = "") -> str:
    """The demo page as served from ``host`` on the frontend's port."""
    return f"http://{host}:{frontend_port(frontend)}/" + (f"?{query}" if query else "")


@dataclass
class Outcome:
    """What the page got from one fetch(), and Chromium's console line when it was blocked."""

    url: str
    status: int | None = None
    body: str = ""
    headers: dict[str, str | None] = field(default_factory=dict)
    redirected: bool = False
    error: str | None = None
    messages: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """The page could read the response: no rejection, no CORS line in the console."""
        return self.error is None and not self.messages

    @property
    def message(self) -> str:
        """The one CORS console line of a blocked call."""
        assert self.error == FETCH_FAILED, self
        assert len(self.messages) == 1, self.messages
        return self.messages[0]

    def verdict(self) -> str:
        """The console text after 'has been blocked by CORS policy: '."""
        return self.message.split(CORS_BLOCKED + ": ", 1)[1]

    def json(self) -> Any:
        """The response body, parsed."""
        return json.loads(self.body)


class PageSession:
    """A page in a fresh browser context: no cookies, no cached preflight answers."""

    def __init__(self, browser: Browser, url: str) -> None:
        self.context: BrowserContext = browser.new_context()
        self.context.set_default_timeout(15_000)
        self.page: Page = self.context.new_page()
        self.console: list[str] = []
        self.page.on("console", self._on_console)
        self.page.goto(url)

    @property
    def origin(self) -> str:
        """The page's origin, as Chromium sends it in ``Origin``."""
        return str(self.page.evaluate("location.origin"))

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console.append(message.text)

    def fetch(
        self,
        url: str,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        body: str | None = None,
        *,
        credentials: str = "omit",
        read: tuple[str, ...] = (),
    ) -> Outcome:
        """One fetch() from the page; waits for Chromium's console line if it was blocked."""
        start = len(self.console)
        raw: dict[str, Any] = self.page.evaluate(
            FETCH_JS, fetch_argument(url, method, headers, body, credentials, read)
        )
        if "error" in raw:
            self._wait_for_console(start)
        messages = [text for text in self.console[start:] if CORS_BLOCKED in text]
        return Outcome(
            url=url,
            status=raw.get("status"),
            body=raw.get("body", ""),
            headers=raw.get("headers", {}),
            redirected=raw.get("redirected", False),
            error=raw.get("error"),
            messages=messages,
        )

    def call_api(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        """The demo page's own ``window.callApi`` (credentials included)."""
        args = [method, path] if body is None else [method, path, body]
        start = len(self.console)
        result: dict[str, Any] = self.page.evaluate("(args) => window.callApi(...args)", args)
        if "error" in result:
            self._wait_for_console(start)
        result["messages"] = [text for text in self.console[start:] if CORS_BLOCKED in text]
        return result

    def _wait_for_console(self, start: int) -> None:
        """A rejected fetch's console line can arrive just after the promise settles."""
        deadline = time.monotonic() + MESSAGE_WAIT
        while time.monotonic() < deadline:
            if any(CORS_BLOCKED in text for text in self.console[start:]):
                return
            self.page.wait_for_timeout(25)

    def close(self) -> None:
        """Close the context and everything cached in it."""
        self.context.close()


def blocked_prefix(url: str, origin: str) -> str:
    """The start of every CORS console line for one call."""
    return f"Access to fetch at '{url}' from origin '{origin}' {CORS_BLOCKED}: "


def log_in_to_admin(session: PageSession, api_origin: str, username: str, password: str) -> None:
    """Log in on the API's own origin, as a person would; the session cookie stays in the
    context, where the frontend's credentialed calls pick it up."""
    page = session.page
    page.goto(f"{api_origin}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{api_origin}/admin/")


def plain_status(url: str, method: str, headers: dict[str, str] | None = None) -> int:
    """The status a request gets without the preflight's headers, no redirect followed: what
    the browser's preflight would have met if nothing answered it first."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, target, headers=headers or {})
        return connection.getresponse().status
    finally:
        connection.close()
