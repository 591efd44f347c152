"""Another engine than Chromium driving a page: one fetch() at a time, with its console lines.

The drivers (``firefox.Firefox``, and any other with the same interface) open the page in a new
tab per call and collect console errors as they arrive; this wraps them in the shape the
Chromium tests use (``support.Outcome``), so one test body can judge every engine.
"""

from __future__ import annotations

import importlib
import time
from typing import Any, Protocol

from tests.cors_server import serve_pair

from .support import FETCH_JS, Outcome, fetch_argument

SETTLE_STEP = 0.2  # a refused call's lines arrive just after the promise settles
SETTLE_LIMIT = 5.0
# Calls made in turn from one document. Firefox files a preflight answer in its cache a moment
# after the call that asked for it goes on, so the calls are spaced.
IN_TURN_JS = (
    """
async ({calls, pause}) => {
  const one = """
    + FETCH_JS.strip()
    + """;
  const results = [];
  for (const call of calls) {
    results.push(await one(call));
    await new Promise((done) => setTimeout(done, pause));
  }
  return results;
}
"""
)
IN_TURN_PAUSE_MS = 200
WARM_UP_CALLS = 20


class Driver(Protocol):
    """What a driver offers: run a function in a freshly loaded page, and its console errors."""

    def run(self, page: str, function: str, argument: Any) -> Any:
        """Load ``page``, await ``function(argument)``, return its JSON value."""

    def drain(self, seconds: float) -> None:
        """Collect console events for ``seconds``."""

    def errors(self) -> list[str]:
        """Every console error line so far."""

    def close(self) -> None:
        """Stop the browser."""


def start(driver: type[Driver]) -> Driver:
    """Start ``driver`` with what its module's ``require()`` found; a missing engine (or what
    it needs) skips locally, and fails in CI."""
    module = importlib.import_module(driver.__module__)
    return driver(module.require())  # type: ignore[call-arg]


def warm_up(driver: Driver, page: str) -> None:
    """Call the scripted server from one document until a call is served from the preflight
    cache.

    Firefox, just started, preflights again calls whose answer it has just cached, for about
    its first second of calls; the cases are about the steady state.
    """
    with serve_pair() as server:
        url = f"{server.base}/correct/?case=warm-up"
        call = fetch_argument(url, headers={"Content-Type": "application/json"})
        for made in range(1, WARM_UP_CALLS + 1):
            driver.run(page, IN_TURN_JS, {"calls": [call], "pause": IN_TURN_PAUSE_MS})
            preflights = sum(1 for method, _ in server.seen if method == "OPTIONS")
            if preflights < made:
                return
    raise RuntimeError(f"no call was served from the preflight cache in {WARM_UP_CALLS} calls")


class EnginePage:
    """A page of the frontend in one engine; each fetch() (or run of calls) loads it afresh."""

    def __init__(self, driver: Driver, url: str) -> None:
        self.driver, self.url = driver, url

    def in_turn(self, urls: list[str], headers: dict[str, str]) -> list[Outcome]:
        """GET each URL in turn from one document (a preflight cache may be per document);
        the console lines of the whole run go with every outcome."""
        start = len(self.driver.errors())
        calls = [fetch_argument(url, headers=headers) for url in urls]
        raw: list[dict[str, Any]] = self.driver.run(
            self.url, IN_TURN_JS, {"calls": calls, "pause": IN_TURN_PAUSE_MS}
        )
        if any("error" in result for result in raw):
            self.settle(start)
        return [self._outcome(url, result, start) for url, result in zip(urls, raw, strict=True)]

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
        """One fetch() from the page; a refused one waits until the engine's lines are in."""
        start = len(self.driver.errors())
        raw: dict[str, Any] = self.driver.run(
            self.url, FETCH_JS, fetch_argument(url, method, headers, body, credentials, read)
        )
        if "error" in raw:
            self.settle(start)
        return self._outcome(url, raw, start)

    def _outcome(self, url: str, raw: dict[str, Any], start: int) -> Outcome:
        return Outcome(
            url=url,
            status=raw.get("status"),
            body=raw.get("body", ""),
            headers=raw.get("headers", {}),
            redirected=raw.get("redirected", False),
            error=raw.get("error"),
            messages=self.driver.errors()[start:],
        )

    def settle(self, start: int) -> None:
        """Wait for the first line, then until a step brings no more."""
        deadline = time.monotonic() + SETTLE_LIMIT
        seen = len(self.driver.errors())
        while time.monotonic() < deadline:
            self.driver.drain(SETTLE_STEP)
            now = len(self.driver.errors())
            if now == seen and now > start:
                return
            seen = now
