"""What a worker process measures: a Django stack through its WSGI handler, or the engine alone.

Each subject checks its answers once before it is timed, so a stack that is misconfigured (and
would be fast for the wrong reason) makes the run fail instead of winning.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Protocol

from benchmarks import stacks, workload


class CheckError(RuntimeError):
    """A stack answered a request kind differently from what the comparison assumes."""


class Subject(Protocol):
    """A set of operations by request kind, checked before timing."""

    def operation(self, kind: str) -> Callable[[], object]: ...

    def check(self) -> dict[str, Any]: ...


_EXPECTED_STATUS = {
    stacks.OURS: {
        workload.ALLOWED_PREFLIGHT: 204,
        workload.REFUSED_PREFLIGHT: 403,
        workload.ALLOWED_GET: 200,
        workload.NO_ORIGIN: 200,
    },
    stacks.CORS_HEADERS: dict.fromkeys(workload.KINDS, 200),
    stacks.FLOOR: dict.fromkeys(workload.KINDS, 204),
}


class DjangoSubject:
    """One stack's full Django handler, the same middleware below the CORS layer."""

    def __init__(self, stack: str, size: workload.Size) -> None:
        os.environ["DJANGO_SETTINGS_MODULE"] = stacks.SETTINGS_MODULES[stack]
        os.environ.update(size.env())
        import django

        django.setup()
        from django.core.handlers.wsgi import WSGIHandler

        from benchmarks import wsgi_driver
        from benchmarks.project.database import prepare

        prepare(size)
        self.stack = stack
        self.size = size
        self.handler = WSGIHandler()
        self.environs = {
            kind: wsgi_driver.environ_for(probe) for kind, probe in workload.probes(size).items()
        }

    def operation(self, kind: str) -> Callable[[], object]:
        """A full request of ``kind`` through the handler."""
        from benchmarks import wsgi_driver

        return wsgi_driver.request_callable(self.handler, self.environs[kind])

    def check(self) -> dict[str, Any]:
        """Status and grant headers of every kind, compared with what each stack should send."""
        from benchmarks import wsgi_driver

        seen: dict[str, Any] = {}
        for kind, environ in self.environs.items():
            got = wsgi_driver.answer(self.handler, environ)
            allow_origin = got.headers.get("access-control-allow-origin")
            seen[kind] = {"status": got.status, "allow_origin": allow_origin}
            expected_status = _EXPECTED_STATUS[self.stack][kind]
            if got.status != expected_status:
                raise CheckError(f"{self.stack} {kind}: status {got.status}, not {expected_status}")
            if self.stack == stacks.FLOOR:
                continue
            expected_origin = environ.get("HTTP_ORIGIN") if kind in workload.ALLOWED_KINDS else None
            if allow_origin != expected_origin:
                raise CheckError(
                    f"{self.stack} {kind}: Access-Control-Allow-Origin {allow_origin!r}, "
                    f"not {expected_origin!r}"
                )
            if kind == workload.ALLOWED_PREFLIGHT:
                _check_preflight_grant(self.stack, got.headers)
        return seen


def _check_preflight_grant(stack: str, headers: dict[str, str]) -> None:
    methods = headers.get("access-control-allow-methods", "")
    allowed_headers = headers.get("access-control-allow-headers", "").lower()
    if workload.REQUESTED_METHOD not in methods.replace(" ", "").split(","):
        raise CheckError(f"{stack}: the allowed preflight does not grant {methods!r}")
    for name in workload.REQUESTED_HEADERS.split(", "):
        if name not in allowed_headers:
            raise CheckError(f"{stack}: the allowed preflight does not grant header {name!r}")
    if headers.get("access-control-allow-credentials") != "true":
        raise CheckError(f"{stack}: the allowed preflight does not allow credentials")


class EngineSubject:
    """The pure decision engine on a snapshot compiled from plain values, no Django at all."""

    def __init__(self, size: workload.Size) -> None:
        from django_preflight.engine import RequestFacts, build_policy_set

        self.policies = build_policy_set([workload.policy_spec(size)])
        self.facts = {
            kind: RequestFacts(
                method=probe.method,
                path=workload.PATH,
                origin=probe.origin,
                request_method=probe.request_method,
                request_headers=probe.request_headers,
            )
            for kind, probe in workload.probes(size).items()
        }

    def operation(self, kind: str) -> Callable[[], object]:
        """One decision for ``kind``."""
        from django_preflight.engine import decide

        policies, facts = self.policies, self.facts[kind]
        return lambda: decide(policies, facts)

    def check(self) -> dict[str, Any]:
        """The outcome of every kind, which must be the one the middleware relies on."""
        from django_preflight.engine import Outcome, decide

        expected = {
            workload.ALLOWED_PREFLIGHT: Outcome.PREFLIGHT_ALLOWED,
            workload.REFUSED_PREFLIGHT: Outcome.PREFLIGHT_REFUSED,
            workload.ALLOWED_GET: Outcome.ACTUAL_ALLOWED,
            workload.NO_ORIGIN: Outcome.NOT_CORS,
        }
        seen = {}
        for kind, facts in self.facts.items():
            outcome = decide(self.policies, facts).outcome
            if outcome is not expected[kind]:
                raise CheckError(f"engine {kind}: {outcome.value}, not {expected[kind].value}")
            seen[kind] = outcome.value
        return seen


def make_subject(config: dict[str, Any]) -> DjangoSubject | EngineSubject:
    """Build the subject a worker was started for."""
    size = workload.Size(**config["size"])
    if config["subject"] == "engine":
        return EngineSubject(size)
    return DjangoSubject(config["stack"], size)
