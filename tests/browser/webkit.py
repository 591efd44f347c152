"""WebKitGTK driven through a small host process: a web view under its own X server.

WebKitGTK has no headless mode and no WebDriver BiDi, and its WebDriver does not report console
messages, so ``webkit_host`` (run with the system Python, which has PyGObject) holds one web view
under a private Xvfb and takes JSON commands on stdin. Its answers come back on stdout; WebKit
writes every console message to stderr (``CONSOLE SECURITY ERROR <text>``), where CORS refusals
are read. Every wait has a deadline: a stuck engine fails the test, it does not hang it. Host
names reach loopback through a proxy of the driver's own (``loopback_proxy``), as example.test
and its subdomains do in Chromium and Firefox.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

from tests.browser_support import missing, require_executable

from .loopback_proxy import LoopbackProxy

# WebKitGTK's own web process: present exactly when the engine's library is installed.
EXECUTABLE = f"/usr/lib/{getattr(sys.implementation, '_multiarch', 'x86_64-linux-gnu')}"
EXECUTABLE += "/webkit2gtk-4.1/WebKitWebProcess"
INSTALL_HINT = (
    "install it with `apt-get install -y --no-install-recommends xvfb xauth python3-gi "
    "gir1.2-webkit2-4.1`."
)
XVFB = "Xvfb"
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's Python, with PyGObject; the project's has none.
HOST = Path(__file__).with_name("webkit_host.py")
BINDINGS = "import gi; gi.require_version('Gtk', '3.0'); gi.require_version('WebKit2', '4.1')"
ANSWER = "@webkit-host "
START_SECONDS = 30.0
COMMAND_SECONDS = 30.0
# '<source URL>:<line>:<column>: ' (when known), then 'CONSOLE [<source> ]<level> <text>'.
CONSOLE = re.compile(
    r"^(?:(?P<location>.*?): )?CONSOLE (?:(?P<source>[A-Z]+) )?"
    r"(?P<level>LOG|INFO|WARN|ERROR|DEBUG) (?P<text>.*)$"
)


def bindings_missing() -> str | None:
    """Why the system Python cannot load WebKitGTK's bindings, or None when it can."""
    try:
        found = subprocess.run(
            [SYSTEM_PYTHON, "-c", BINDINGS], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"{SYSTEM_PYTHON}: {error}"
    if found.returncode:
        return f"{SYSTEM_PYTHON} cannot load WebKit2 4.1: {found.stderr.strip().splitlines()[-1]}"
    return None


def require() -> str:
    """The engine's web process; without it, Xvfb or the bindings, skip locally (fail in CI)."""
    require_executable(XVFB, INSTALL_HINT)
    executable = require_executable(EXECUTABLE, INSTALL_HINT)
    problem = bindings_missing()
    if problem is not None:
        missing(f"{problem}: {INSTALL_HINT}")
    return executable


class WebKit:
    """One WebKitGTK web view under a private X server, with a throw-away home directory."""

    def __init__(self, web_process: str | None = None) -> None:
        """Start the proxy, Xvfb and the host; ``web_process`` is the engine's binary as the
        fixture found it (WebKitGTK starts it itself)."""
        if web_process is not None and not os.path.exists(web_process):
            raise RuntimeError(f"{web_process} not found: {INSTALL_HINT}")
        self.events: list[dict[str, Any]] = []
        self.noise: list[str] = []
        self._home = tempfile.mkdtemp(prefix="preflight-webkit-")
        self._lines: queue.Queue[tuple[str, str | None]] = queue.Queue()
        self._ids = 0
        self._xvfb: subprocess.Popen[bytes] | None = None
        self._host: subprocess.Popen[str] | None = None
        self._proxy: LoopbackProxy | None = None
        try:
            self._proxy = LoopbackProxy()
            display = self._start_xvfb()
            self._start_host(display)
        except BaseException:
            self.close()
            raise

    def _start_xvfb(self) -> str:
        """A private X server on a display it picks itself (no guessing of free numbers)."""
        reader, writer = os.pipe()
        try:
            self._xvfb = subprocess.Popen(
                [
                    XVFB,
                    "-displayfd",
                    str(writer),
                    "-nolisten",
                    "tcp",
                    "-terminate",
                    "-screen",
                    "0",
                    "1280x800x24",
                ],
                pass_fds=(writer,),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            os.close(writer)
            writer = -1
            number = _read_line(reader, time.monotonic() + START_SECONDS)
        finally:
            os.close(reader)
            if writer >= 0:
                os.close(writer)
        if not number.isdigit():
            raise RuntimeError(f"Xvfb did not start within {START_SECONDS:.0f} s")
        return f":{number}"

    def _start_host(self, display: str) -> None:
        assert self._proxy is not None
        home = self._home
        env = {
            **os.environ,
            "DISPLAY": display,
            "HOME": home,
            "XDG_CACHE_HOME": f"{home}/cache",
            "XDG_DATA_HOME": f"{home}/data",
            "XDG_CONFIG_HOME": f"{home}/config",
            "XDG_RUNTIME_DIR": home,
            "NO_AT_BRIDGE": "1",  # No accessibility bus to look for.
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("WAYLAND_DISPLAY", None)
        self._host = subprocess.Popen(
            [SYSTEM_PYTHON, str(HOST), self._proxy.url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            start_new_session=True,
        )
        assert self._host.stdout is not None
        assert self._host.stderr is not None
        for name, stream in (("answer", self._host.stdout), ("console", self._host.stderr)):
            threading.Thread(target=self._read, args=(name, stream), daemon=True).start()
        try:
            self._answer(None, START_SECONDS, "start")
        except RuntimeError as error:
            raise RuntimeError(f"{error}; {INSTALL_HINT}") from error

    def _read(self, name: str, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put((name, line.rstrip("\n")))
        self._lines.put((name, None))

    def _take(self, deadline: float) -> tuple[str, str | None] | None:
        """The next line from the host, or None at the deadline; console lines are kept."""
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        try:
            name, line = self._lines.get(timeout=left)
        except queue.Empty:
            return None
        if name == "console" and line is not None:
            found = CONSOLE.match(line)
            if found:
                self.events.append(found.groupdict())
            else:
                self.noise.append(line)
        return name, line

    def _answer(self, number: int | None, seconds: float, what: str) -> Any:
        """Wait for the host's answer to command ``number`` (None: its ready line)."""
        deadline = time.monotonic() + seconds
        while (item := self._take(deadline)) is not None:
            name, line = item
            if name != "answer":
                continue
            if line is None:
                raise RuntimeError(f"the WebKit host exited during {what}: {self._last_noise()}")
            if not line.startswith(ANSWER):
                self.noise.append(line)
                continue
            message = json.loads(line.removeprefix(ANSWER))
            if message.get("id") != number:
                continue
            if "error" in message:
                raise RuntimeError(f"WebKit {what}: {message['error']}")
            return message.get("value")
        raise RuntimeError(
            f"WebKit gave no answer to {what} within {seconds:.0f} s: {self._last_noise()}"
        )

    def _last_noise(self) -> str:
        return " | ".join(self.noise[-5:]) or "(nothing on stderr)"

    def command(self, op: str, seconds: float = COMMAND_SECONDS, **fields: Any) -> Any:
        """Send one command to the host and wait for its answer."""
        assert self._host is not None
        assert self._host.stdin is not None
        self._ids += 1
        try:
            self._host.stdin.write(json.dumps({"id": self._ids, "op": op, **fields}) + "\n")
            self._host.stdin.flush()
        except BrokenPipeError as error:
            raise RuntimeError(f"the WebKit host is gone: {self._last_noise()}") from error
        return self._answer(self._ids, seconds, op)

    def drain(self, seconds: float) -> None:
        """Collect console lines for a while (they may arrive after the fetch settles)."""
        deadline = time.monotonic() + seconds
        while self._take(deadline) is not None:
            pass

    def errors(self) -> list[str]:
        """The text of every console error so far."""
        return [event["text"] for event in self.events if event["level"] == "ERROR"]

    def run(self, page: str, function: str, argument: Any) -> Any:
        """Load ``page``, await ``function(argument)`` in it, return its JSON value."""
        self.command("load", url=page)
        text = self.command("call", function=function, argument=json.dumps(argument))
        return json.loads(text)

    def close(self) -> None:
        """Stop the host (and the engine's processes it started), Xvfb and the proxy, and
        remove the home."""
        try:
            if self._host is not None:
                _stop(self._host, closing=self._host.stdin)
        finally:
            if self._xvfb is not None:
                _stop(self._xvfb)
            if self._proxy is not None:
                self._proxy.close()
            shutil.rmtree(self._home, ignore_errors=True)


def _read_line(fd: int, deadline: float) -> str:
    """Read up to a newline before closing: Xvfb writes the number and the newline apart, and
    a newline written to a closed pipe kills it (SIGPIPE)."""
    text = b""
    while not text.endswith(b"\n") and (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], left)
        chunk = os.read(fd, 64) if ready else b""
        if not chunk:
            break
        text += chunk
    return text.decode().strip()


def _stop(process: subprocess.Popen[Any], closing: IO[str] | None = None) -> None:
    """End ``process`` and its session (it was started as a session leader): politely first."""
    if closing is not None:
        with contextlib.suppress(BrokenPipeError):
            closing.close()  # The host leaves its main loop when stdin closes.
    else:
        process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # WebKit's web and network processes, if left.
