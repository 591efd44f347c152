"""A "third-party" API on loopback with no CORS support at all, recording what reaches it.

It answers OPTIONS with 405 and never sends Access-Control-* headers of its own accord, like the
APIs the relay exists for. Paths under /v1/:

- ``echo``: JSON with the method, path, body and the ``X-Custom`` header it received
  (never the injected key: a test checks the key reached it through ``received``).
- ``bytes?n=N[&chunked=1]``: N bytes, with Content-Length or chunked.
- ``fail``: a 500 with a JSON body.
- ``redirect?to=URL``: a 302 to URL.
- ``silent``: accepts and never answers (until the server stops).
- ``drip?n=N&every=S``: headers at once, then one byte every S seconds.
- ``slow-headers?every=S``: the status line, then one byte of a header every S seconds.
- ``cookies``: sets a cookie and CORS headers the relay must drop.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

CHUNK = 64 * 1024


@dataclass
class Received:
    """One request as the upstream saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Upstream:
    """The running server; ``received`` lists every request, oldest first."""

    host: str = "127.0.0.1"
    received: list[Received] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        """The port it listens on."""
        assert self.server is not None
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        """Its base URL, as an upstream registration writes it."""
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> Upstream:
        """Listen on a free port of ``host`` in a daemon thread."""
        upstream = self

        class Handler(_Handler):
            owner = upstream

        self.server = ThreadingHTTPServer((self.host, 0), Handler)
        self.server.daemon_threads = True
        # A short poll: stopping the server after each test costs milliseconds, not half a second.
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        """Stop listening and release the requests left hanging."""
        self.stopping.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    owner: Upstream
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without this, Nagle's algorithm and delayed
    # ACKs add 40 ms to every answer.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test output is not the place for an access log."""

    def _record(self) -> Received:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        entry = Received(self.command, self.path, headers, body)
        self.owner.received.append(entry)
        return entry

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {"Content-Type": "application/json"}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_OPTIONS(self) -> None:
        """No CORS here: a preflight sent straight to this API fails."""
        self._record()
        self._send(405, b"", {"Allow": "GET, POST"})

    def do_GET(self) -> None:
        self._serve(self._record())

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET  # noqa: N815

    def _serve(self, entry: Received) -> None:
        parts = urlsplit(entry.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        route = parts.path.removeprefix("/v1/")
        if route == "bytes":
            self._bytes(int(query.get("n", "0")), chunked=query.get("chunked") == "1")
        elif route == "fail":
            self._send(500, json.dumps({"failed": "on purpose"}).encode())
        elif route == "redirect":
            self._send(302, b"", {"Location": query["to"]})
        elif route == "silent":
            self.owner.stopping.wait()
        elif route == "drip":
            self._drip(int(query.get("n", "10")), float(query.get("every", "0.2")))
        elif route == "slow-headers":
            self._slow_headers(float(query.get("every", "0.2")))
        elif route == "cookies":
            self._send(
                200,
                b"{}",
                {
                    "Content-Type": "application/json",
                    "Set-Cookie": "session=upstream-secret; Path=/",
                    "Access-Control-Allow-Origin": "*",
                    "X-Rate-Remaining": "41",
                    "X-Internal": "hidden",
                },
            )
        else:
            echo = {
                "method": entry.method,
                "path": entry.path,
                "body": entry.body.decode("utf-8", "replace"),
                "x-custom": entry.headers.get("x-custom"),
                "host": entry.headers.get("host"),
            }
            self._send(200, json.dumps(echo).encode(), {"Content-Type": "application/json"})

    def _bytes(self, n: int, *, chunked: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(n))
        self.end_headers()
        block = b"x" * CHUNK
        left = n
        try:
            while left > 0:
                part = block[: min(CHUNK, left)]
                if chunked:
                    self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                else:
                    self.wfile.write(part)
                left -= len(part)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass  # the relay cut the body: that is the point of some tests

    def _slow_headers(self, every: float) -> None:
        try:
            self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Padding: ")
            self.wfile.flush()
            for _ in range(1000):
                if self.owner.stopping.wait(every):
                    return
                self.wfile.write(b"a")
                self.wfile.flush()
        except OSError:
            pass

    def _drip(self, n: int, every: float) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(n))
        self.end_headers()
        try:
            for _ in range(n):
                self.wfile.write(b".")
                self.wfile.flush()
                if self.owner.stopping.wait(every):
                    return
        except OSError:
            pass


if __name__ == "__main__":
    # `python -m tests.relay.upstream`: serve in a process of its own (benchmarks), print the
    # port, stop on stdin's end.
    import sys

    served = Upstream().start()
    print(served.port, flush=True)
    sys.stdin.read()
    served.stop()
