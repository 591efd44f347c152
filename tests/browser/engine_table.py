"""The scripted server's rows as another engine sees them, and what the model predicts for it."""

from __future__ import annotations

from django_preflight.engine.browser import CorsRequest
from django_preflight.engine.engines import MODELS, Engine, trace_lines
from django_preflight.probe import probe
from tests.cors_server import BEHAVIOURS

from .deployments import Case, scripted

CASES: tuple[Case, ...] = tuple(scripted(b) for b in BEHAVIOURS)


def predicted(engine: Engine, case: Case, base: str, origin: str) -> tuple[bool, tuple[str, ...]]:
    """The probe's verdict and ``engine``'s console lines as the model words them."""
    call = CorsRequest(case.url(base), origin, case.method, case.headers, case.credentials)
    trace = probe(call, timeout=5, rules=MODELS[engine].rules).trace
    if trace.failure is None:
        return True, ()
    return False, trace_lines(engine, trace)


def same_words(refuses: frozenset[str], other_words: frozenset[str]) -> tuple[Case, ...]:
    """The refused rows whose lines the model words as the engine does."""
    return tuple(
        case
        for case in CASES
        if case.name not in refuses | other_words and case.verdict is not None
    )
