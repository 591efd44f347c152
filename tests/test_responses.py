"""Responses copied from a template are the responses Django's constructor would have built."""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

import pytest
from django.http import BadHeaderError, HttpResponse
from django.http.response import ResponseHeaders

from django_preflight.engine.decision import ready_answer
from django_preflight.middleware import request_facts
from django_preflight.responses import Template, ready_response

ANSWER = ready_answer(
    (
        ("Access-Control-Allow-Origin", "https://app.example.com"),
        ("Access-Control-Allow-Methods", "GET, PUT"),
    )
)


def constructed(status: int) -> HttpResponse:
    """What the template stands for: Django's constructor, then exactly the answer's lines,
    without a length on a 204."""
    response = HttpResponse(status=status)
    response.headers._store.clear()
    response.headers._store.update(ANSWER.lines)
    if status != 204:
        response.headers["Content-Length"] = "0"
    return response


def test_a_204_has_no_length_and_a_refusal_has_an_empty_one() -> None:
    assert "Content-Length" not in ready_response(204, ANSWER).headers
    assert ready_response(403, ANSWER).headers["Content-Length"] == "0"


def comparable(response: HttpResponse) -> dict[str, Any]:
    state = dict(vars(response))
    state["headers"] = list(state["headers"]._store.items())
    return state


@pytest.mark.parametrize("status", [204, 403])
def test_a_copy_has_the_constructed_state(status: int) -> None:
    copy = ready_response(status, ANSWER)
    expected = comparable(constructed(status))
    if status >= 400:
        expected["_has_been_logged"] = True
    assert comparable(copy) == expected
    assert isinstance(copy.headers, ResponseHeaders)
    assert type(copy.cookies) is SimpleCookie
    assert (copy.status_code, copy.content, copy.charset) == (status, b"", "utf-8")
    assert list(copy.items()) == list(constructed(status).items())
    assert copy.serialize_headers() == constructed(status).serialize_headers()


def test_copies_share_nothing_mutable() -> None:
    first, second = ready_response(204, ANSWER), ready_response(204, ANSWER)
    first.headers["X-Extra"] = "1"
    first.cookies["session"] = "abc"
    first.write(b"body")
    first._resource_closers.append(print)
    assert "X-Extra" not in second.headers
    assert not second.cookies
    assert second.content == b""
    assert second._resource_closers == []
    assert "X-Extra" not in ready_response(204, ANSWER).headers


def test_headers_of_a_copy_are_still_checked_when_set() -> None:
    response = ready_response(204, ANSWER)
    with pytest.raises(BadHeaderError):
        response.headers["X-Split"] = "a\r\nb"
    response["Vary"] = "Origin"
    assert response.headers["vary"] == "Origin"
    del response["Vary"]
    assert ("Vary", "Origin") not in response.items()


def test_the_template_is_kept_on_the_answer() -> None:
    ready_response(204, ANSWER)
    template = ANSWER.prepared[204]
    ready_response(204, ANSWER)
    assert ANSWER.prepared[204] is template


def test_state_the_template_cannot_copy_falls_back_to_the_constructor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = HttpResponse.__init__

    def with_a_mutable_attribute(self: HttpResponse, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.extra = []  # type: ignore[attr-defined]

    monkeypatch.setattr(HttpResponse, "__init__", with_a_mutable_attribute)
    template = Template(403, ANSWER.lines)
    first, second = template.response(), template.response()
    assert first.extra is not second.extra  # type: ignore[attr-defined]
    assert list(first.items()) == list(constructed(403).items())


def test_request_facts_fill_every_field_by_name(rf: Any) -> None:
    request = rf.options(
        "/api/x",
        HTTP_ORIGIN="https://app.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="PUT",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
        HTTP_ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK="TRUE",
    )
    assert request_facts(request)._asdict() == {
        "method": "OPTIONS",
        "path": "/api/x",
        "origin": "https://app.example.com",
        "request_method": "PUT",
        "request_headers": "content-type",
        "request_private_network": True,
    }
