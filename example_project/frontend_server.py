"""Serves ``frontend/`` on its own port, so the page runs on an origin other than the API's."""

from __future__ import annotations

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FRONTEND_DIR = Path(__file__).resolve().parent / "frontend"


class _QuietHandler(SimpleHTTPRequestHandler):
    """Static files without a log line per request, for test runs."""

    def log_message(self, format: str, *args: Any) -> None:
        """Say nothing."""


class FrontendServer:
    """A threaded static file server in a daemon thread; ``stop()`` frees the port."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8001, *, quiet: bool = False) -> None:
        handler = _QuietHandler if quiet else SimpleHTTPRequestHandler
        self.httpd = ThreadingHTTPServer(
            (host, port), partial(handler, directory=str(FRONTEND_DIR))
        )
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, name="frontend-server", daemon=True
        )

    @property
    def origin(self) -> str:
        """The page's origin as the browser sends it; port 0 resolves to the bound port."""
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FrontendServer:
        """Serve in the background."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread.is_alive():
            self.httpd.shutdown()
            self._thread.join()
        self.httpd.server_close()
