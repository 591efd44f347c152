"""Huge inputs are refused cheaply: a 64 KB origin, 10,000 header names, 64 KB header lists.

Real servers usually cap a header line near 8 KB; Django's test client does not, so these reach
the middleware whole. "Cheaply" is counted in function calls, against a normal refused request:
a count is the same on a busy machine, and a loop that calls anything per character or per
name of a huge value would add thousands. Times belong in the benchmarks.
"""

from __future__ import annotations

import itertools
import logging
import sys
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from django_preflight.audit import buffer
from django_preflight.engine import OriginKind, OriginSpec, PolicySpec, build_policy_set
from django_preflight.engine.decision import Reason, RequestFacts, decide
from django_preflight.models import CorsPolicy

from .support import grant_headers, preflight

APP = "https://app.example.com"
ORIGIN_64K = "https://" + "a" * (64 * 1024) + ".example.com"
MANY_NAMES = ",".join(f"x-h{n}" for n in range(10_000))
HEADERS_64K = ("content-type," * 6000)[: 64 * 1024]
POLICIES = build_policy_set(
    [
        PolicySpec(
            1,
            "api",
            "/api/",
            allowed_methods=("GET", "PUT"),
            allowed_headers=("content-type",),
            origins=(
                OriginSpec(OriginKind.EXACT, APP),
                OriginSpec(OriginKind.SUBDOMAIN, "https://*.example.com"),
                OriginSpec(OriginKind.REGEX, r"https://[a-z0-9-]+\.example\.com"),
            ),
        )
    ]
)
HUGE = [
    pytest.param(
        RequestFacts("OPTIONS", "/api/x", ORIGIN_64K, "PUT"),
        Reason.ORIGIN_NOT_ALLOWED,
        id="64KB-origin",
    ),
    pytest.param(
        RequestFacts("OPTIONS", "/api/x", APP, "PUT", MANY_NAMES),
        Reason.MALFORMED_REQUEST,
        id="10000-header-names",
    ),
    pytest.param(
        RequestFacts("OPTIONS", "/api/x", APP, "PUT", HEADERS_64K),
        Reason.MALFORMED_REQUEST,
        id="64KB-header-list",
    ),
    pytest.param(
        RequestFacts("OPTIONS", "/api/x", APP, "P" * (64 * 1024)),
        Reason.MALFORMED_REQUEST,
        id="64KB-method",
    ),
    pytest.param(
        RequestFacts("OPTIONS", "/api/" + "x/" * 32 * 1024, ORIGIN_64K, "PUT", MANY_NAMES),
        Reason.ORIGIN_NOT_ALLOWED,
        id="everything-huge",
    ),
]
NORMAL = RequestFacts("OPTIONS", "/api/x", "https://evil.example.net", "PUT", "content-type")


def python_calls(function: Callable[[Any], Any], argument: Any) -> int:
    """The Python and builtin function calls made by ``function(argument)``.

    A count, not a time: it is the same on a busy machine, and a loop over the characters or
    the names of a huge value shows in it as thousands of calls.
    """
    calls = 0

    def count(frame: Any, event: str, arg: Any) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(count)
    try:
        function(argument)
    finally:
        sys.setprofile(None)
    return calls


_SERIALS = itertools.count()


def fresh(facts: RequestFacts) -> RequestFacts:
    """``facts`` with its long values ending in a number never used before, so that no memoised
    decision or cached string hash makes it cheaper than a new request."""

    def vary(value: str | None) -> str | None:
        return None if value is None else f"{value[:-4]}{next(_SERIALS) % 10_000:04d}"

    return RequestFacts(
        facts.method,
        facts.path,
        vary(facts.origin),
        vary(facts.request_method)
        if len(facts.request_method or "") > 64
        else facts.request_method,
        vary(facts.request_headers),
    )


@pytest.mark.parametrize(("facts", "reason"), HUGE)
def test_the_engine_refuses_huge_input_cheaply(facts: RequestFacts, reason: Reason) -> None:
    decision = decide(POLICIES, facts)
    assert decision.refused
    assert decision.reason is reason
    assert decision.headers == ()
    normal = python_calls(lambda f: decide(POLICIES, f), fresh(NORMAL))
    huge = python_calls(lambda f: decide(POLICIES, f), fresh(facts))
    assert huge <= normal, f"{huge} calls for the huge request, {normal} for a normal one"


@pytest.mark.django_db
@pytest.mark.parametrize(("facts", "reason"), HUGE)
def test_the_middleware_refuses_huge_input_cheaply(
    facts: RequestFacts,
    reason: Reason,
    make_policy: Callable[..., CorsPolicy],
    client: Client,
    settings: Any,
) -> None:
    settings.PREFLIGHT_REASON_HEADER = "X-Refused"
    make_policy(origins=(APP,), name="api", path_prefix="/api/", allowed_headers=["content-type"])

    def send(request: RequestFacts) -> Any:
        return preflight(
            client,
            request.path,
            request.origin or "",
            request.request_method or "",
            request.request_headers,
        )

    response = send(facts)
    assert response.status_code == 403
    assert response.headers["X-Refused"] == reason.value
    assert grant_headers(response.items()) == {}
    normal = python_calls(send, fresh(NORMAL))
    huge = python_calls(send, fresh(facts))
    # Clipping the huge values for the audit and the log adds a few calls, whatever their size.
    assert huge < 2 * normal, f"{huge} calls for the huge request, {normal} for a normal one"
    for key in buffer.entries():
        assert max(len(key.origin), len(key.path), len(key.method), len(key.headers)) <= 500


@pytest.mark.django_db
def test_the_refusal_log_line_is_bounded(
    make_policy: Callable[..., CorsPolicy], client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    """The audit clips stored values; the log line written for the same refusal should too."""
    make_policy(origins=(APP,), name="api", path_prefix="/api/")
    with caplog.at_level(logging.WARNING, logger="django_preflight"):
        preflight(client, "/api/x", ORIGIN_64K, "PUT", MANY_NAMES)
    [record] = [r for r in caplog.records if "preflight refused" in r.getMessage()]
    assert len(record.getMessage()) < 4096
