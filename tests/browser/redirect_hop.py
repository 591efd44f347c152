"""A hop on an origin of its own that redirects a page's call to where ``?to=`` says.

It grants the calling origin on its redirect, so the browser follows it; the hop is
cross-origin to both the page and the API, so the browser then sends ``Origin: null``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, quote, urlsplit

from tests.cors_server import serve


class _Hop(BaseHTTPRequestHandler):
    """302 to ``?to=``, with the caller's origin granted on the redirect itself."""

    def do_GET(self) -> None:
        """Simple GETs only: a preflighted call is not what the hop is for."""
        target = parse_qs(urlsplit(self.path).query)["to"][0]
        self.send_response(302)
        self.send_header("Location", target)
        self.send_header("Access-Control-Allow-Origin", self.headers.get("Origin", ""))
        self.send_header("Vary", "Origin")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@contextmanager
def redirect_hop() -> Iterator[str]:
    """Serve the hop on a free port; yields its base URL."""
    with serve(handler=_Hop) as (base, _):
        yield base


def via(hop: str, target: str) -> str:
    """The hop's URL that redirects to ``target``."""
    return f"{hop}/?to={quote(target, safe='')}"
