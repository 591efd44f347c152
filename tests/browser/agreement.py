"""Many cross-origin calls from one page at once, each with the console line Chromium printed.

The agreement table runs every row in real Chromium and through the probe; this is the browser
half: all calls of a page start together, and each console line is matched to its call by the
URL it names (the called URL, or the one it was redirected from).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from playwright.sync_api import Browser, ConsoleMessage

from django_preflight.engine.browser import CHROMIUM, Check
from tests.browser_support import CORS_BLOCKED

from .support import Outcome

CALL_ALL_JS = """
async (calls) => Promise.all(calls.map(async ({url, method, headers, body, credentials}) => {
  const init = {method, headers, credentials};
  if (body !== null) init.body = body;
  try {
    const response = await fetch(url, init);
    await response.text();
    return {status: response.status};
  } catch (error) {
    return {error: String(error)};
  }
}))
"""
WAIT_SECONDS = 10.0
TOO_MANY_REDIRECTS = CHROMIUM[Check.TOO_MANY_REDIRECTS]


@dataclass(frozen=True)
class Call:
    """One fetch() a page makes."""

    url: str
    method: str
    headers: tuple[tuple[str, str], ...]
    credentials: bool

    def as_argument(self) -> dict[str, object]:
        """The call as CALL_ALL_JS takes it."""
        return {
            "url": self.url,
            "method": self.method,
            "headers": dict(self.headers),
            "body": _body(self.method),
            "credentials": "include" if self.credentials else "omit",
        }


def _body(method: str) -> str | None:
    return None if method.upper() in ("GET", "HEAD") else "{}"


def _names(line: str, url: str) -> bool:
    return line.startswith((f"Access to fetch at '{url}' from", f"{url} ")) or (
        f" (redirected from '{url}') from" in line
    )


def _text(line: str, url: str) -> str:
    """The console text, without the URL a network error's line was tagged with."""
    return line.removeprefix(f"{url} ")


def run_calls(browser: Browser, page_url: str, calls: list[Call]) -> list[Outcome]:
    """Open the page in a fresh context, make every call at once, collect the console."""
    context = browser.new_context()
    lines: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        if CORS_BLOCKED in message.text:
            lines.append(message.text)
        elif message.text == TOO_MANY_REDIRECTS:
            # A network error names no URL in its text; its location does.
            lines.append(f"{message.location.get('url')} {message.text}")

    try:
        page = context.new_page()
        page.on("console", on_console)
        page.goto(page_url)
        results = page.evaluate(
            CALL_ALL_JS,
            [call.as_argument() for call in calls],
        )
        failed = sum(1 for result in results if "error" in result)
        deadline = time.monotonic() + WAIT_SECONDS
        while len(lines) < failed and time.monotonic() < deadline:
            page.wait_for_timeout(50)
    finally:
        context.close()
    return [
        Outcome(
            call.url,
            status=result.get("status"),
            error=result.get("error"),
            messages=[_text(line, call.url) for line in lines if _names(line, call.url)],
        )
        for call, result in zip(calls, results, strict=True)
    ]
