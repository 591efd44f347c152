"""The floor's middleware: the cheapest answer a middleware at the top can give."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBase


class ConstantResponseMiddleware:
    """Answers 204 without looking at the request or calling anything below it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return HttpResponse(status=204)
