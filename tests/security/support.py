"""Helpers shared by the security tests: requests as a browser sends them, grant headers."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from wsgiref.util import setup_testing_defaults

from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from django.urls import get_script_prefix, set_script_prefix

from django_preflight.engine import PolicySpec
from django_preflight.mapping import save_spec
from django_preflight.models import CorsPolicy
from fuzz.invariants import GRANT_HEADERS


def grant_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The CORS grant headers of an answer, names in lower case."""
    return {name.lower(): value for name, value in headers if name.lower() in GRANT_HEADERS}


def preflight(
    client: Client,
    path: str,
    origin: str,
    method: str = "PUT",
    headers: str | None = None,
    **extra: Any,
) -> Any:
    """An OPTIONS request carrying what a browser's preflight carries."""
    environ = {"HTTP_ORIGIN": origin, "HTTP_ACCESS_CONTROL_REQUEST_METHOD": method, **extra}
    if headers is not None:
        environ["HTTP_ACCESS_CONTROL_REQUEST_HEADERS"] = headers
    return client.options(path, **environ)


def save_specs(specs: Iterable[PolicySpec]) -> None:
    """Save engine specs as validated rows, keeping their ids, so both sides share them."""
    for spec in specs:
        save_spec(spec)


@contextmanager
def saved_for_module(blocker: Any, specs: Sequence[PolicySpec]) -> Iterator[None]:
    """Save ``specs`` once for a whole module (outside each test's transaction), then delete."""
    with blocker.unblock():
        save_specs(specs)
    try:
        yield
    finally:
        with blocker.unblock():
            CorsPolicy.objects.filter(id__in=[spec.id for spec in specs]).delete()


@dataclass
class WsgiResponse:
    """What a WSGI server would write: status, every header line, the body."""

    status_code: int
    header_lines: list[tuple[str, str]]
    content: bytes

    def items(self) -> list[tuple[str, str]]:
        """Header lines, as ``HttpResponse.items()`` gives them."""
        return self.header_lines


def call_wsgi(
    method: str, path_info: str, script_name: str = "", query: str = "", **headers: str
) -> WsgiResponse:
    """Call Django's WSGI handler with an environ built as a server builds it.

    Database connections are kept open across the call as the test client does, so the
    test's transaction survives the request_finished signal, and the script prefix the handler
    sets from SCRIPT_NAME is restored, so later reverse() calls are not prefixed with it.
    """
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": script_name,
        "PATH_INFO": path_info,
        "QUERY_STRING": query,
        "wsgi.input": io.BytesIO(b""),
        **headers,
    }
    setup_testing_defaults(environ)
    captured: dict[str, Any] = {}

    def start_response(status: str, header_lines: list[tuple[str, str]], *exc: Any) -> None:
        captured["status"] = int(status.split()[0])
        captured["headers"] = header_lines

    prefix = get_script_prefix()
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        result = WSGIHandler()(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            result.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        set_script_prefix(prefix)
    return WsgiResponse(captured["status"], captured["headers"], body)
