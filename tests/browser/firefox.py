"""Firefox ESR driven over WebDriver BiDi: a fresh profile per browser, console errors collected.

Debian ships no geckodriver and Playwright cannot launch Debian's Firefox, so this speaks BiDi
itself: launch with ``--remote-debugging-port``, open ``/session``, subscribe to
``log.entryAdded``. CORS refusals arrive there as ``javascript`` entries at level ``error``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import shutil
import subprocess
import tempfile
import time
from typing import Any

from websockets.sync.client import ClientConnection, connect

from tests.browser_support import require_executable

LISTENING = re.compile(r"WebDriver BiDi listening on (ws://\S+)")
START_SECONDS = 30.0
REMOTE_PORT = "--remote-debugging-port=0"  # Firefox picks a free port and prints it.
EXECUTABLE = "firefox-esr"
INSTALL_HINT = "install it with `apt-get install -y --no-install-recommends firefox-esr`."


def require() -> str:
    """The browser's executable; without it, skip locally (fail in CI)."""
    return require_executable(EXECUTABLE, INSTALL_HINT)


class Firefox:
    """One headless Firefox with its own throw-away profile."""

    def __init__(self, binary: str) -> None:
        self._profile = tempfile.mkdtemp(prefix="preflight-firefox-")
        # Quiet start: no first-run pages, no update or telemetry traffic off loopback.
        prefs = {
            "browser.shell.checkDefaultBrowser": False,
            "datareporting.policy.dataSubmissionEnabled": False,
            "toolkit.telemetry.reportingpolicy.firstRun": False,
            "app.update.enabled": False,
            "network.proxy.type": 0,
            # Every host name is loopback, as example.test and its subdomains are in Chromium
            # (support.HOST_RULES): pages on subdomain and regex origins, nothing off the machine.
            "network.dns.forceResolve": "127.0.0.1",
        }
        with open(f"{self._profile}/user.js", "w") as handle:
            for name, value in prefs.items():
                handle.write(f"user_pref({json.dumps(name)}, {json.dumps(value)});\n")
        self._process = subprocess.Popen(
            [binary, "--headless", "--no-remote", "--profile", self._profile, REMOTE_PORT],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []
        self._stack = contextlib.ExitStack()
        self._socket: ClientConnection = self._stack.enter_context(
            connect(self._address() + "/session", max_size=None)
        )
        self.command("session.new", capabilities={})
        self.command("session.subscribe", events=["log.entryAdded"])

    def _address(self) -> str:
        assert self._process.stderr is not None
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            line = self._process.stderr.readline()
            if not line and self._process.poll() is not None:
                break
            found = LISTENING.search(line)
            if found:
                return found.group(1)
        self.close()
        raise RuntimeError("Firefox did not start its WebDriver BiDi server")

    def command(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command, keep events that arrive meanwhile, return its result."""
        number = next(self._ids)
        self._socket.send(json.dumps({"id": number, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.recv())
            if message.get("type") == "event":
                self.events.append(message)
            elif message.get("id") == number:
                if message.get("type") == "error":
                    raise RuntimeError(f"{method}: {message.get('message')}")
                result: dict[str, Any] = message["result"]
                return result

    def drain(self, seconds: float) -> None:
        """Collect events for a while (console lines arrive after the fetch settles)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = json.loads(self._socket.recv(timeout=left))
            except TimeoutError:
                return
            if message.get("type") == "event":
                self.events.append(message)

    def errors(self) -> list[str]:
        """The text of every console error so far."""
        return [
            event["params"]["text"]
            for event in self.events
            if event.get("method") == "log.entryAdded" and event["params"].get("level") == "error"
        ]

    def run(self, page: str, function: str, argument: Any) -> Any:
        """Open ``page`` in a new tab, await ``function(argument)``, return its JSON value."""
        context = self.command("browsingContext.create", type="tab")["context"]
        self.command("browsingContext.navigate", context=context, url=page, wait="complete")
        result = self.command(
            "script.callFunction",
            functionDeclaration=(
                f"async (arg) => JSON.stringify(await ({function})(JSON.parse(arg)))"
            ),
            arguments=[{"type": "string", "value": json.dumps(argument)}],
            awaitPromise=True,
            target={"context": context},
        )
        if result.get("type") == "exception":
            raise RuntimeError(result["exceptionDetails"]["text"])
        return json.loads(result["result"]["value"])

    def close(self) -> None:
        """Stop Firefox and remove its profile."""
        try:
            if hasattr(self, "_stack"):
                self._stack.close()
        finally:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            shutil.rmtree(self._profile, ignore_errors=True)
