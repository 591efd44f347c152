"""Our own refusals in the browser's words: what the console shows for a refused preflight, or
for a cross-origin write refused on the server."""

from __future__ import annotations

from .browser import Check, CorsRequest, Failure, Stage, sentence
from .decision import Reason
from .engines import ALL_ENGINES, Engine, lines


def console_message(reason: Reason | str) -> str:
    """The text Chromium prints after 'has been blocked by CORS policy: ' for this refusal.

    A refused preflight carries no grant header at all, so whatever the reason, the browser
    reports the missing Allow-Origin; the reason itself is only known on the server. A write
    refused on the server was not a preflight, so its sentence has no preflight prefix.
    """
    stage = Stage.ACTUAL if Reason(reason) is Reason.REFUSED_ON_SERVER else Stage.PREFLIGHT
    return sentence(Failure(Check.ALLOW_ORIGIN_MISSING, stage))


def console_lines(origin: str, url: str, method: str, status: int) -> dict[Engine, tuple[str, ...]]:
    """Each engine's console lines for a preflight we refused with ``status``."""
    failure = Failure(Check.ALLOW_ORIGIN_MISSING, Stage.PREFLIGHT, status=status)
    request = CorsRequest(url, origin, method)
    return {engine: lines(engine, request, url, failure) for engine in ALL_ENGINES}
