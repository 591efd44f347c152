"""The floor's middleware: the cheapest answer a middleware at the top can give."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse, HttpResponseBase


class ConstantResponseMiddleware:
    """Answers 204 without looking at the request or calling anything below it.

    Sync and async capable, as django-preflight's middleware is: under ASGI a sync-only floor
    would pay Django's thread hop and look slower than it is.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.is_async:
            return self._answer_async()
        return HttpResponse(status=204)

    async def _answer_async(self) -> HttpResponseBase:
        return HttpResponse(status=204)
