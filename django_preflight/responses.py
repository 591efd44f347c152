"""Preflight responses made from a template: built and checked once, copied on each request.

``HttpResponse(status=204)`` costs more than the whole decision: it checks and encodes its
Content-Type, resolves the charset from the settings, converts the empty body and builds a
cookie jar. A preflight's answer is the same for every request that asks the same question, so
the response is built once through Django's constructor, and each request gets a copy of its
state with fresh mutable parts. The copy is an ordinary ``HttpResponse``; its headers iterate
straight from their store, so the server's ``response.items()`` costs a loop in C rather than
a lookup per header.
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterator
from http.cookies import SimpleCookie
from typing import Any

from django.http import HttpResponse
from django.http.response import ResponseHeaders

from .engine.compiler import Header
from .engine.decision import ReadyAnswer

Lines = tuple[tuple[str, Header], ...]

_FRESH = {"headers", "cookies", "_resource_closers", "_container"}
"""The mutable parts of a response's state, made anew for each copy."""
_SHAREABLE = (type(None), bool, int, float, str, bytes, tuple)
_new_cookie_jar = SimpleCookie.__new__
"""An empty jar without the call to ``BaseCookie.__init__``, which only parses its argument."""


class _StoredItems(ItemsView[str, str]):
    """``(name, value)`` pairs straight from the header store, in the order they were set."""

    __slots__ = ()

    def __iter__(self) -> Iterator[tuple[str, str]]:
        headers: ReadyHeaders = self._mapping  # type: ignore[attr-defined]
        return iter(headers._store.values())


class ReadyHeaders(ResponseHeaders):
    """``ResponseHeaders`` whose ``items()`` iterates the store itself.

    Setting, reading and deleting a header behave as in ``ResponseHeaders``.
    """

    def items(self) -> _StoredItems:
        return _StoredItems(self)


class Template:
    """A response's state, built once by Django's constructor, copied per request."""

    __slots__ = ("_copyable", "_lines", "_logged", "_shared", "_status")

    def __init__(self, status: int, lines: Lines, *, logged: bool = False) -> None:
        response = _construct(status, lines, logged)
        state = vars(response)
        self._status, self._logged = status, logged
        self._lines = dict(response.headers._store)  # the lines as constructed, framed
        self._shared = {k: v for k, v in state.items() if k not in _FRESH}
        # Copying is only right while every other part of the state is immutable and the
        # mutable ones are the expected kinds; a Django that adds another mutable attribute
        # gets responses from the constructor, as before.
        self._copyable = (
            state.keys() >= _FRESH
            and type(state["headers"]) is ResponseHeaders
            and type(state["cookies"]) is SimpleCookie
            and not state["cookies"]
            and state["_resource_closers"] == []
            and state["_container"] == [b""]
            and all(type(v) in _SHAREABLE for v in self._shared.values())
        )

    def response(self) -> HttpResponse:
        """A new response equal to the template, sharing nothing mutable with it."""
        if not self._copyable:
            return _construct(self._status, tuple(self._lines.items()), self._logged)
        response = HttpResponse.__new__(HttpResponse)
        state = response.__dict__
        state.update(self._shared)
        headers = ResponseHeaders.__new__(ReadyHeaders)
        headers._store = self._lines.copy()
        state["headers"] = headers
        state["cookies"] = _new_cookie_jar(SimpleCookie)  # what SimpleCookie() makes
        state["_resource_closers"] = []
        state["_container"] = [b""]
        return response


_EMPTY_BODY = ("content-length", ("Content-Length", "0"))


def _construct(status: int, lines: Lines, logged: bool) -> HttpResponse:
    """The response through Django's constructor, its headers replaced by ``lines`` and, but on
    a ``204`` (HTTP forbids a length there, RFC 9110, 8.6), the empty body's length."""
    response = HttpResponse(status=status)
    store = response.headers._store
    store.clear()
    store.update(lines)
    if status != 204:
        store.update((_EMPTY_BODY,))
    if logged:
        response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def ready_response(status: int, answer: ReadyAnswer) -> HttpResponse:
    """An empty response with ``status`` whose headers are exactly the answer's lines, and the
    body's length unless it is a ``204``.

    The lines were checked once when the engine built the answer, so they are not checked
    again per request. A status of 400 or more is a refusal: it is marked as logged, since
    refusals are aggregated in the audit and logged rate-limited, and a ``django.request``
    warning for each would let a flood of them fill the logs.
    """
    template: Any = answer.prepared.get(status)
    if template is None:
        template = answer.prepared[status] = Template(status, answer.lines, logged=status >= 400)
    response: HttpResponse = template.response()
    return response
