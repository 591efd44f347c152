"""A plain-HTTP forward proxy on loopback that sends every host name to 127.0.0.1.

Chromium maps example.test and its subdomains to loopback with its host-resolver rules and
Firefox with a pref; WebKitGTK has neither, but takes a proxy. Pointed at this one, it serves
pages from ``http://app.example.test:<port>`` with that origin while the request goes to
``127.0.0.1:<port>``: nothing leaves the machine. Each request is sent with ``Connection: close``
(one request per connection), so responses need no parsing: bytes are piped both ways until
either side closes. Every wait is bounded; the threads are daemons, joined on ``close``.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
from urllib.parse import urlsplit

LOOPBACK = "127.0.0.1"
HEAD_LIMIT = 65536
IDLE_SECONDS = 30.0  # a connection quiet this long is closed
ACCEPT_SECONDS = 0.2  # how often the accepting thread looks whether it must stop
JOIN_SECONDS = 5.0
REFUSED = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class LoopbackProxy:
    """The proxy, listening on a free loopback port from construction until ``close``."""

    def __init__(self) -> None:
        self._listener = socket.create_server((LOOPBACK, 0))
        self._listener.settimeout(ACCEPT_SECONDS)
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._workers: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    @property
    def url(self) -> str:
        """The proxy's address as a browser takes it."""
        return f"http://{LOOPBACK}:{self._listener.getsockname()[1]}"

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed
            worker = threading.Thread(target=self._serve, args=(client,), daemon=True)
            with self._lock:
                self._workers = [w for w in self._workers if w.is_alive()]
                self._workers.append(worker)
            worker.start()

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.add(sock)
        if self._stopping.is_set():
            sock.close()

    def _serve(self, client: socket.socket) -> None:
        """One request: read its head, forward it in origin form, pipe the rest."""
        self._track(client)
        upstream: socket.socket | None = None
        try:
            client.settimeout(IDLE_SECONDS)
            head, rest = _read_head(client)
            forwarded = _origin_form(head)
            if forwarded is None:
                client.sendall(REFUSED)
                return
            port, request = forwarded
            upstream = socket.create_connection((LOOPBACK, port), timeout=IDLE_SECONDS)
            self._track(upstream)
            upstream.sendall(request + rest)
            _pipe(client, upstream)
        except OSError:
            pass  # either side gone, or quiet too long: the connection just ends
        finally:
            for sock in (client, upstream):
                if sock is not None:
                    sock.close()
                    with self._lock:
                        self._open.discard(sock)

    def close(self) -> None:
        """Stop accepting, end the connections still open, join every thread."""
        self._stopping.set()
        self._listener.close()
        self._acceptor.join(JOIN_SECONDS)
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            workers = list(self._workers)
        for worker in workers:
            worker.join(JOIN_SECONDS)


def _read_head(client: socket.socket) -> tuple[bytes, bytes]:
    """The request line and headers, and whatever of the body came with them."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = client.recv(4096)
        if not chunk or len(data) > HEAD_LIMIT:
            raise ConnectionError("no complete request head")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _origin_form(head: bytes) -> tuple[int, bytes] | None:
    """The port and the request head to send to loopback, or None when it is no plain-HTTP
    absolute-form request (CONNECT, https, a bare path): those are refused."""
    request_line, *fields = head.decode("latin-1").split("\r\n")
    parts = request_line.split(" ")
    if len(parts) != 3 or not parts[1].startswith("http://"):
        return None
    method, target, version = parts
    url = urlsplit(target)
    try:
        port = url.port or 80
    except ValueError:
        return None
    path = (url.path or "/") + (f"?{url.query}" if url.query else "")
    kept = [
        field
        for field in fields
        if not field.lower().startswith(("connection:", "proxy-connection:", "keep-alive:"))
    ]
    lines = [f"{method} {path} {version}", *kept, "Connection: close", "", ""]
    return port, "\r\n".join(lines).encode("latin-1")


def _pipe(client: socket.socket, upstream: socket.socket) -> None:
    """Copy bytes both ways until either side closes or both stay quiet for IDLE_SECONDS."""
    other = {client: upstream, upstream: client}
    with selectors.DefaultSelector() as selector:
        for sock in other:
            selector.register(sock, selectors.EVENT_READ)
        while ready := selector.select(IDLE_SECONDS):
            for key, _ in ready:
                source: socket.socket = key.fileobj  # type: ignore[assignment]
                chunk = source.recv(65536)
                if not chunk:
                    return
                other[source].sendall(chunk)
