"""Politeness and bounds: the deadline, the delay, and unreachable URLs."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import trustme

from django_preflight.scan.runner import Limits, scan_url

from .servers import TRUSTED, serve


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, list[Any]]]:
    with serve() as running:
        yield running


class FakeClock:
    """Advances one second per reading, and by whatever the scanner sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        self.now += 1.0
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_no_request_starts_after_the_deadline(server: tuple[str, list[Any]]) -> None:
    base, seen = server
    seen.clear()
    clock = FakeClock()
    result = scan_url(
        f"{base}/reflect-anything/",
        [TRUSTED],
        credentials=True,
        limits=Limits(deadline=5.5),
        clock=clock,
        sleep=clock.sleep,
    )
    assert len(seen) == len(result.observations) == 5
    assert not result.complete
    assert any("time limit" in note for note in result.notes)
    # What was received is still judged: the fifth request was the arbitrary origin's GET.
    assert [f.id for f in result.findings] == ["reflects-any-origin"]


def test_the_delay_is_kept_between_requests(server: tuple[str, list[Any]]) -> None:
    base, _ = server
    clock = FakeClock()
    result = scan_url(
        f"{base}/correct/",
        [TRUSTED],
        credentials=True,
        limits=Limits(delay=0.25),
        clock=clock,
        sleep=clock.sleep,
    )
    assert clock.slept == [0.25] * (len(result.observations) - 1)


def test_an_unreachable_url_is_an_error_not_an_exception() -> None:
    with serve() as (closed, _):
        pass
    result = scan_url(f"{closed}/correct/", [TRUSTED], credentials=False, limits=Limits(timeout=2))
    assert result.error is not None
    assert result.error.startswith(f"Could not scan {closed}/correct/")
    assert result.findings == []


def test_a_server_speaking_garbage_is_an_error() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        def answer() -> None:
            connection, _ = listener.accept()
            with connection:
                connection.recv(4096)
                connection.sendall(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")

        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        result = scan_url(f"http://127.0.0.1:{port}/", [TRUSTED], credentials=False)
        thread.join(5)
    assert result.error is not None
    assert result.error.startswith(f"Could not scan http://127.0.0.1:{port}/: ")
    assert "SSH-2.0" in result.error


def test_requests_go_to_the_pinned_address_whatever_the_host_resolves_to(
    server: tuple[str, list[Any]],
) -> None:
    """The admin checks an address once and connects only there: no second DNS answer."""
    base, seen = server
    seen.clear()
    port = base.rsplit(":", 1)[1]
    url = f"http://scan-target.invalid:{port}/null-trusting/"
    result = scan_url(url, [TRUSTED], credentials=True, limits=Limits(address="127.0.0.1"))
    assert result.error is None
    assert [f.id for f in result.findings] == ["trusts-null-origin"]
    assert {headers["Host"] for _, _, headers in seen} == {f"scan-target.invalid:{port}"}


@pytest.fixture
def tls_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, list[Any]]]:
    """The scan servers behind TLS with a certificate for scan-target.test only.

    The client side trusts the test CA besides the system's: the pinned connection still
    builds its context with ``ssl.create_default_context``, so hostname checks stay on.
    """
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("scan-target.test").configure_cert(server_context)
    real_default_context = ssl.create_default_context

    def trusting_test_ca(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        context = real_default_context(*args, **kwargs)
        authority.configure_trust(context)
        return context

    monkeypatch.setattr(ssl, "create_default_context", trusting_test_ca)
    with serve(tls=server_context) as (base, seen):
        yield int(base.rsplit(":", 1)[1]), seen


def test_pinned_https_checks_the_certificate_against_the_host_name(
    tls_server: tuple[int, list[Any]],
) -> None:
    port, seen = tls_server
    seen.clear()
    pinned = Limits(address="127.0.0.1", timeout=5)
    good = scan_url(
        f"https://scan-target.test:{port}/null-trusting/",
        [TRUSTED],
        credentials=True,
        limits=pinned,
    )
    assert good.error is None
    assert [f.id for f in good.findings] == ["trusts-null-origin"]
    assert {headers["Host"] for _, _, headers in seen} == {f"scan-target.test:{port}"}
    seen.clear()
    wrong = scan_url(
        f"https://other-name.test:{port}/null-trusting/", [TRUSTED], credentials=True, limits=pinned
    )
    assert wrong.error is not None
    assert "CERTIFICATE_VERIFY_FAILED" in wrong.error
    assert "other-name.test" in wrong.error
    assert seen == []


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers: every request waits for its timeout."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/"


def test_a_wait_cut_short_by_the_deadline_is_the_time_limit(silent_server: str) -> None:
    clock = FakeClock()
    result = scan_url(
        silent_server,
        [TRUSTED],
        credentials=False,
        limits=Limits(deadline=1.5, timeout=5),
        clock=clock,
        sleep=clock.sleep,
    )
    assert result.error is None
    assert not result.complete
    assert any("time limit" in note for note in result.notes)


def test_a_timeout_before_the_deadline_is_an_error(silent_server: str) -> None:
    result = scan_url(silent_server, [TRUSTED], credentials=False, limits=Limits(timeout=0.2))
    assert result.error is not None
    assert result.error.startswith(f"Could not scan {silent_server}")
