"""What reached the application, seen from the servers the browser suite starts.

The browser never says whether it sent a preflight; the server does. Each request is appended
to a log file before it is answered, and its answer's status to a second one (``.answers``
beside it) once the stack below has answered, so by the time the page sees a response both
lines are written, whichever worker served it. A page cannot read the status of a response its
browser blocked; the second log can. The worker's PID goes back in ``X-Served-By`` so a test
can tell the workers of one server apart.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import cast

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

SERVED_BY = "X-Served-By"
ANSWERS = ".answers"
"""Suffix of the answers' log beside the request log."""


def _log_line(request: HttpRequest, status: int | None = None) -> None:
    path = os.environ.get("PREFLIGHT_TEST_REQUEST_LOG")
    if not path:
        return
    query = request.META.get("QUERY_STRING", "")
    target = request.path + (f"?{query}" if query else "")
    line = f"{os.getpid()} {request.method} {target}\n".encode()
    if status is not None:
        path += ANSWERS
        line = f"{os.getpid()} {status} {request.method} {target}\n".encode()
    # One write() on an O_APPEND descriptor: lines from several processes never interleave.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


class RequestLogMiddleware:
    """Logs every request and names the worker; sync and async, so ASGI stays async."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], object]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.is_async:
            return self.__acall__(request)
        _log_line(request)
        response = cast(HttpResponseBase, self.get_response(request))
        response.headers[SERVED_BY] = str(os.getpid())
        _log_line(request, response.status_code)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        _log_line(request)
        response = await cast(Awaitable[HttpResponseBase], self.get_response(request))
        response.headers[SERVED_BY] = str(os.getpid())
        _log_line(request, response.status_code)
        return response
