"""The WebKit driver's loopback proxy: what it forwards, what it refuses, that it stops."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from .loopback_proxy import LoopbackProxy

pytestmark = pytest.mark.browser

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


@pytest.fixture
def proxy() -> Iterator[LoopbackProxy]:
    running = LoopbackProxy()
    yield running
    running.close()


def exchange(address: tuple[str, int], request: bytes) -> bytes:
    """Send ``request`` and read until the other side closes."""
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    return answer


def proxy_address(proxy: LoopbackProxy) -> tuple[str, int]:
    host, port = proxy.url.removeprefix("http://").split(":")
    return host, int(port)


def test_a_host_name_reaches_loopback_in_origin_form_with_its_host_kept(
    proxy: LoopbackProxy,
) -> None:
    received: list[bytes] = []
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]

        def answer_once() -> None:
            connection, _ = server.accept()
            with connection:
                connection.settimeout(5)
                data = b""
                while not data.endswith(b"\r\n\r\nhi"):
                    data += connection.recv(4096)
                received.append(data)
                connection.sendall(ANSWER)

        serving = threading.Thread(target=answer_once, daemon=True)
        serving.start()
        answer = exchange(
            proxy_address(proxy),
            f"POST http://app.example.test:{port}/api/?a=1 HTTP/1.1\r\n"
            f"Host: app.example.test:{port}\r\nProxy-Connection: keep-alive\r\n"
            "Content-Length: 2\r\n\r\nhi".encode(),
        )
        serving.join(5)

    assert answer == ANSWER
    assert received == [
        f"POST /api/?a=1 HTTP/1.1\r\nHost: app.example.test:{port}\r\nContent-Length: 2\r\n"
        "Connection: close\r\n\r\nhi".encode()
    ]


@pytest.mark.parametrize(
    "request_line",
    ["CONNECT app.example.test:443 HTTP/1.1", "GET /api/ HTTP/1.1", "GET https://a.test/ HTTP/1.1"],
)
def test_anything_but_plain_http_in_absolute_form_is_refused(
    proxy: LoopbackProxy, request_line: str
) -> None:
    answer = exchange(proxy_address(proxy), f"{request_line}\r\nHost: a.test\r\n\r\n".encode())

    assert answer.startswith(b"HTTP/1.1 400 ")


def test_close_ends_open_connections_and_its_threads() -> None:
    before = threading.active_count()
    proxy = LoopbackProxy()
    with socket.create_connection(proxy_address(proxy), timeout=5) as idle:
        idle.sendall(b"GET http://a.test:1/ HTTP/1.1\r\n")  # an unfinished head
        proxy.close()
        try:
            ended = idle.recv(1) == b""
        except ConnectionResetError:  # closed before the proxy took it in
            ended = True
    assert ended
    assert threading.active_count() == before
