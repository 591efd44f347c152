"""A WebKitGTK web view that takes commands on stdin: the WebKit half of ``webkit.WebKit``.

Run with the system Python (it has PyGObject; the project's environment does not) under an X
server, with the URL of the driver's loopback proxy as its argument. Each stdin line is a JSON
command: ``load`` a URL, or ``call`` an async function with an
argument (JSON text). Each answer is one stdout line starting with ANSWER, carrying the command's
id and a ``value`` or an ``error``. With the setting ``enable-write-console-messages-to-stdout``
the web process writes every console message to stderr (despite the name), one line each.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from typing import Any

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("WebKit2", "4.1")
from gi.repository import GLib, Gtk, WebKit2  # noqa: E402

ANSWER = "@webkit-host "
# Literal loopback addresses go straight to the server; every host name (example.test and its
# subdomains, localhost) goes through the driver's proxy, which connects to 127.0.0.1 only.
DIRECT = ["127.0.0.1"]
# Await the page's function in the page and hand back its value as JSON text.
CALL_BODY = (
    "const value = await ({function})(JSON.parse(argument));"
    "return value === undefined ? 'null' : JSON.stringify(value);"
)


def answer(**fields: Any) -> None:
    """One answer line; flushed at once, since the driver waits for it."""
    sys.stdout.write(ANSWER + json.dumps(fields) + "\n")
    sys.stdout.flush()


class Host:
    """One window with one web view that writes console messages to stderr."""

    def __init__(self, proxy: str) -> None:
        # The default context: in an ephemeral one console messages are not written at all.
        # The driver points HOME and the XDG folders at a throw-away directory instead.
        context = WebKit2.WebContext.get_default()
        context.set_cache_model(WebKit2.CacheModel.DOCUMENT_VIEWER)
        # WebKitGTK has no host-resolver switch: host names reach loopback through the proxy.
        context.get_website_data_manager().set_network_proxy_settings(
            WebKit2.NetworkProxyMode.CUSTOM, WebKit2.NetworkProxySettings.new(proxy, DIRECT)
        )
        # Given at construction: set on a view that exists, the web process never sees it.
        settings = WebKit2.Settings(enable_write_console_messages_to_stdout=True)
        self.view = WebKit2.WebView(settings=settings)
        self.window = Gtk.Window()
        self.window.add(self.view)
        self.window.show_all()
        self.loading: int | None = None
        self.pending = b""
        self.view.connect("load-changed", self.on_load_changed)
        self.view.connect("load-failed", self.on_load_failed)
        GLib.io_add_watch(sys.stdin.fileno(), GLib.IO_IN | GLib.IO_HUP, self.on_command)

    def on_command(self, fd: int, _condition: int) -> bool:
        """Run each complete line read from stdin; quit when it closes."""
        chunk = os.read(fd, 65536)
        if not chunk:
            Gtk.main_quit()
            return False
        self.pending += chunk
        *lines, self.pending = self.pending.split(b"\n")
        for line in lines:
            self.run(json.loads(line))
        return True

    def run(self, command: dict[str, Any]) -> None:
        number = command["id"]
        try:
            if command["op"] == "load":
                self.loading = number
                self.view.load_uri(command["url"])
            elif command["op"] == "call":
                self.call(number, command["function"], command["argument"])
            else:
                answer(id=number, error=f"unknown command {command['op']!r}")
        except Exception as error:  # Any failure is the driver's to report.
            answer(id=number, error=repr(error))

    def on_load_changed(self, _view: Any, event: Any) -> None:
        if event == WebKit2.LoadEvent.FINISHED and self.loading is not None:
            number, self.loading = self.loading, None
            answer(id=number, value=self.view.get_uri())

    def on_load_failed(self, _view: Any, _event: Any, uri: str, error: Any) -> bool:
        if self.loading is not None:
            number, self.loading = self.loading, None
            answer(id=number, error=f"loading {uri} failed: {error.message}")
        return False

    def call(self, number: int, function: str, argument: str) -> None:
        arguments = GLib.Variant("a{sv}", {"argument": GLib.Variant("s", argument)})

        def done(view: Any, result: Any) -> None:
            try:
                value = view.call_async_javascript_function_finish(result)
            except GLib.Error as error:
                answer(id=number, error=error.message)
                return
            answer(id=number, value=value.to_string())

        body = CALL_BODY.format(function=function)
        self.view.call_async_javascript_function(body, -1, arguments, None, None, None, done)


def end_children(seconds: float = 5.0) -> None:
    """Stop WebKit's web and network processes and reap them before leaving: left to exit
    after the host, they would wait as zombies on an init that may never reap them."""
    if os.getpgrp() != os.getpid():
        return  # Not started by the driver (which makes the host a group leader): leave be.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.killpg(0, signal.SIGTERM)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.05)


def main() -> None:
    """Serve commands until stdin closes; the proxy's URL is the only argument."""
    Host(sys.argv[1])
    answer(ready=WebKit2.get_minor_version())
    Gtk.main()
    end_children()


if __name__ == "__main__":
    main()
