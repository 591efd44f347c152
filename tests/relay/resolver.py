"""The test seam for name resolution (``PREFLIGHT_NETGUARD_RESOLVER``): answers set by tests.

A name without answers fails to resolve: no test ever asks the real DNS.
"""

from __future__ import annotations

import socket

# host -> the answer of each successive lookup; the last one repeats.
answers: dict[str, list[list[str]]] = {}
lookups: list[str] = []


def resolve(host: str, port: int) -> list[str]:
    """The next scripted answer for ``host``."""
    lookups.append(host)
    sequence = answers.get(host)
    if not sequence:
        raise socket.gaierror(socket.EAI_NONAME, f"{host} has no scripted answer")
    return sequence.pop(0) if len(sequence) > 1 else sequence[0]
