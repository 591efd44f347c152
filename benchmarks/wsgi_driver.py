"""Calls Django's WSGI handler in-process with a prepared environ, as a WSGI server would.

The environ is copied per request (middleware writes into ``request.META``) and the body is
iterated and closed, so ``request_finished`` runs like under a server. Every stack pays the same.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from benchmarks import workload

Environ = dict[str, Any]
WSGIApp = Callable[[Environ, Any], Iterable[bytes]]

_EMPTY_BODY = io.BytesIO(b"")


def environ_for(probe: workload.Probe) -> Environ:
    """A WSGI environ for one request kind, like the one a server builds from the wire."""
    environ: Environ = {
        "REQUEST_METHOD": probe.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": workload.PATH,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_ACCEPT": "*/*",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": _EMPTY_BODY,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in probe.headers.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


def _ignore_start_response(status: str, headers: list[tuple[str, str]]) -> object:
    return None


def request_callable(app: WSGIApp, environ: Environ) -> Callable[[], object]:
    """One full request per call, nothing recorded: the timed operation."""

    def run() -> object:
        response = app(dict(environ), _ignore_start_response)
        _drain(response)
        return response

    return run


@dataclass(slots=True)
class Answer:
    """Status and headers of one response, for checking a stack before timing it."""

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)


def answer(app: WSGIApp, environ: Environ) -> Answer:
    """Run one request and record what came back."""
    result = Answer()

    def start_response(status: str, headers: list[tuple[str, str]]) -> object:
        result.status = int(status.split(" ", 1)[0])
        result.headers = {name.lower(): value for name, value in headers}
        return None

    _drain(app(dict(environ), start_response))
    return result


def _drain(response: Iterable[bytes]) -> None:
    """Read the whole body and close the response, as a WSGI server must."""
    try:
        for _chunk in response:
            pass
    finally:
        close = getattr(response, "close", None)
        if close is not None:
            close()
