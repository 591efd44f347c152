"""Our own refusals in the browser's words: what the console shows for a refused preflight."""

from __future__ import annotations

from .browser import Check, Failure, Stage, sentence
from .decision import Reason


def console_message(reason: Reason | str) -> str:
    """The text Chromium prints after 'has been blocked by CORS policy: ' for this refusal.

    A refused preflight carries no grant header at all, so whatever the reason, the browser
    reports the missing Allow-Origin; the reason itself is only known on the server.
    """
    del reason
    return sentence(Failure(Check.ALLOW_ORIGIN_MISSING, Stage.PREFLIGHT))
