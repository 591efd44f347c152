"""Small servers on loopback, each answering CORS with one classic misconfiguration.

The site is meant to allow ``https://app.example.com`` with credentials; every behaviour below
decides the Origin in its own (mostly wrong) way, as code found in the wild does. ``/<name>/``
selects the behaviour.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

from tests import cors_server

TRUSTED = "https://app.example.com"
Headers = list[tuple[str, str]]


@dataclass(frozen=True)
class Misconfiguration:
    """How one server decides: which origins it grants and which headers it adds."""

    name: str
    allows: Callable[[str], bool]
    credentials: bool = True
    vary: bool = True
    wildcard: bool = False
    preflight_status: int | None = None
    """Answer preflights with this status and no CORS header (authentication, redirect)."""


MISCONFIGURATIONS = {
    m.name: m
    for m in (
        Misconfiguration("correct", lambda o: o == TRUSTED),
        Misconfiguration("reflect-anything", lambda o: True),
        Misconfiguration("null-trusting", lambda o: o in (TRUSTED, "null")),
        Misconfiguration(
            "suffix-regex", lambda o: re.fullmatch(r"https://.*example\.com", o) is not None
        ),
        Misconfiguration(
            "unescaped-dot-regex", lambda o: re.fullmatch(r"https://app.example.com", o) is not None
        ),
        Misconfiguration("http-trusting", lambda o: o in (TRUSTED, "http://app.example.com")),
        Misconfiguration("wildcard-credentials", lambda o: True, wildcard=True),
        Misconfiguration("no-vary", lambda o: o == TRUSTED, vary=False),
        Misconfiguration("prefix-matching", lambda o: o.startswith(TRUSTED)),
        Misconfiguration(
            "hosting-regex",
            lambda o: o == TRUSTED or re.fullmatch(r"https://[\w-]+\.github\.io", o) is not None,
        ),
        Misconfiguration(
            "port-and-subdomain",
            lambda o: o in (TRUSTED, f"{TRUSTED}:8443", "https://preflight-scan.app.example.com"),
        ),
        Misconfiguration("public-reflect", lambda o: True, credentials=False),
        Misconfiguration("preflight-401", lambda o: o == TRUSTED, preflight_status=401),
        Misconfiguration("preflight-301", lambda o: o == TRUSTED, preflight_status=301),
    )
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        name = self.path.strip("/").split("/")[0]
        self.server.seen.append(  # type: ignore[attr-defined]
            (self.command, self.path, dict(self.headers.items()))
        )
        behaviour = MISCONFIGURATIONS.get(name)
        origin = self.headers.get("Origin", "")
        preflight = self.command == "OPTIONS" and "Access-Control-Request-Method" in self.headers
        status, headers = 200, self._cors(behaviour, origin) if behaviour else []
        if behaviour is None:
            status = 404
        elif preflight and behaviour.preflight_status is not None:
            status = behaviour.preflight_status
            headers = [("Location", f"/{name}/elsewhere/")] if status == 301 else []
        elif preflight:
            status = 204
            headers += [("Access-Control-Allow-Methods", "GET, POST")]
            headers += [("Access-Control-Allow-Headers", "content-type")]
        body = b"" if preflight else b'{"secret": "the user\'s data"}'
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    @staticmethod
    def _cors(behaviour: Misconfiguration, origin: str) -> Headers:
        headers: Headers = [("Vary", "Origin")] if behaviour.vary else []
        if not origin or not behaviour.allows(origin):
            return headers
        headers.append(("Access-Control-Allow-Origin", "*" if behaviour.wildcard else origin))
        if behaviour.credentials:
            headers.append(("Access-Control-Allow-Credentials", "true"))
        return headers

    do_GET = do_OPTIONS = do_POST = _answer  # noqa: N815

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: tests read ``seen``."""


def serve(
    tls: ssl.SSLContext | None = None,
) -> AbstractContextManager[tuple[str, list[tuple[str, str, dict[str, str]]]]]:
    """Run every behaviour on one free loopback port; yields the base URL and what it saw."""
    return cors_server.serve(handler=_Handler, tls=tls)
