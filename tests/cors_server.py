"""A small configurable server answering CORS calls in many right and wrong ways.

Each behaviour is one row: what the page calls, what the server answers to the preflight and to
the real request, and the verdict a browser gives (None for a pass, else the start of the text
after 'has been blocked by CORS policy: '). The probe and real Chromium are both judged on it.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Headers = tuple[tuple[str, str], ...]
ORIGIN_SLOT = "{origin}"
JSON = (("Content-Type", "application/json"),)
PREFLIGHT = "Response to preflight request doesn't pass access control check: "
NO_ACAO = "No 'Access-Control-Allow-Origin' header is present on the requested resource."


@dataclass(frozen=True)
class Behaviour:
    """One server behaviour and the browser's verdict on it."""

    name: str
    method: str
    request_headers: Headers
    credentials: bool
    preflight_status: int
    preflight_headers: Headers
    actual_status: int
    actual_headers: Headers
    verdict: str | None


def grant(
    methods: str = "GET, POST, PUT, PATCH, DELETE",
    headers: str = "content-type, x-api-key",
    credentials: bool = False,
) -> Headers:
    """A correct preflight answer for the calling origin."""
    base: Headers = (
        ("Access-Control-Allow-Origin", ORIGIN_SLOT),
        ("Access-Control-Allow-Methods", methods),
        ("Access-Control-Allow-Headers", headers),
        ("Vary", "Origin"),
    )
    return (*base, ("Access-Control-Allow-Credentials", "true")) if credentials else base


OK: Headers = (("Access-Control-Allow-Origin", ORIGIN_SLOT), ("Vary", "Origin"))
OK_CREDENTIALED: Headers = (*OK, ("Access-Control-Allow-Credentials", "true"))
PUT_JSON = ("PUT", JSON)

BEHAVIOURS: tuple[Behaviour, ...] = (
    Behaviour("correct", *PUT_JSON, False, 204, grant(), 200, OK, None),
    Behaviour(
        "correct-credentialed",
        *PUT_JSON,
        True,
        204,
        grant(credentials=True),
        200,
        OK_CREDENTIALED,
        None,
    ),
    Behaviour("route-404", *PUT_JSON, False, 404, (), 404, (), PREFLIGHT + NO_ACAO),
    Behaviour(
        "method-405", *PUT_JSON, False, 405, (("Allow", "GET"),), 405, (), PREFLIGHT + NO_ACAO
    ),
    Behaviour(
        "auth-401",
        *PUT_JSON,
        False,
        401,
        (("WWW-Authenticate", "Token"),),
        401,
        (),
        PREFLIGHT + NO_ACAO,
    ),
    Behaviour("auth-403", *PUT_JSON, False, 403, (), 403, (), PREFLIGHT + NO_ACAO),
    Behaviour(
        "cors-layer-refusal",
        *PUT_JSON,
        False,
        403,
        (("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"),),
        200,
        OK,
        PREFLIGHT + NO_ACAO,
    ),
    Behaviour(
        "html-200",
        *PUT_JSON,
        False,
        200,
        (("Content-Type", "text/html"),),
        200,
        (),
        PREFLIGHT + NO_ACAO,
    ),
    Behaviour(
        "redirect-301",
        *PUT_JSON,
        False,
        301,
        (("Location", "/elsewhere/"), *grant()),
        200,
        OK,
        PREFLIGHT + "Redirect is not allowed for a preflight request.",
    ),
    Behaviour(
        "redirect-302",
        *PUT_JSON,
        False,
        302,
        (("Location", "/login/"),),
        200,
        OK,
        PREFLIGHT + "Redirect is not allowed for a preflight request.",
    ),
    Behaviour(
        "cors-but-500",
        *PUT_JSON,
        False,
        500,
        grant(),
        200,
        OK,
        PREFLIGHT + "It does not have HTTP ok status.",
    ),
    Behaviour(
        "cors-but-401",
        *PUT_JSON,
        False,
        401,
        grant(),
        200,
        OK,
        PREFLIGHT + "It does not have HTTP ok status.",
    ),
    Behaviour(
        "wildcard-credentialed",
        *PUT_JSON,
        True,
        204,
        (
            ("Access-Control-Allow-Origin", "*"),
            ("Access-Control-Allow-Methods", "PUT"),
            ("Access-Control-Allow-Headers", "content-type"),
            ("Access-Control-Allow-Credentials", "true"),
        ),
        200,
        OK,
        PREFLIGHT + "The value of the 'Access-Control-Allow-Origin' header in the response "
        "must not be the wildcard '*'",
    ),
    Behaviour(
        "wildcard-open",
        *PUT_JSON,
        False,
        204,
        (
            ("Access-Control-Allow-Origin", "*"),
            ("Access-Control-Allow-Methods", "*"),
            ("Access-Control-Allow-Headers", "*"),
        ),
        200,
        (("Access-Control-Allow-Origin", "*"),),
        None,
    ),
    Behaviour(
        "credentials-missing",
        *PUT_JSON,
        True,
        204,
        grant(),
        200,
        OK_CREDENTIALED,
        PREFLIGHT + "The value of the 'Access-Control-Allow-Credentials' header in the "
        "response is '' which must be 'true'",
    ),
    Behaviour(
        "credentials-false",
        *PUT_JSON,
        True,
        204,
        (*grant(), ("Access-Control-Allow-Credentials", "false")),
        200,
        OK_CREDENTIALED,
        PREFLIGHT + "The value of the 'Access-Control-Allow-Credentials' header in the "
        "response is 'false' which must be 'true'",
    ),
    Behaviour(
        "other-origin",
        *PUT_JSON,
        False,
        204,
        (("Access-Control-Allow-Origin", "https://someone-else.example"), *grant()[1:]),
        200,
        OK,
        PREFLIGHT + "The 'Access-Control-Allow-Origin' header has a value "
        "'https://someone-else.example' that is not equal to the supplied origin.",
    ),
    Behaviour(
        "origin-with-slash",
        *PUT_JSON,
        False,
        204,
        (("Access-Control-Allow-Origin", ORIGIN_SLOT + "/"), *grant()[1:]),
        200,
        OK,
        PREFLIGHT + "The 'Access-Control-Allow-Origin' header has a value",
    ),
    Behaviour(
        "origin-twice",
        *PUT_JSON,
        False,
        204,
        (*grant(), ("Access-Control-Allow-Origin", ORIGIN_SLOT)),
        200,
        OK,
        PREFLIGHT + "The 'Access-Control-Allow-Origin' header contains multiple values",
    ),
    Behaviour(
        "origin-list",
        *PUT_JSON,
        False,
        204,
        (("Access-Control-Allow-Origin", ORIGIN_SLOT + ", https://b.example"), *grant()[1:]),
        200,
        OK,
        PREFLIGHT + "The 'Access-Control-Allow-Origin' header contains multiple values",
    ),
    Behaviour(
        "method-missing",
        "PATCH",
        JSON,
        False,
        204,
        grant(methods="GET, POST, PUT"),
        200,
        OK,
        "Method PATCH is not allowed by Access-Control-Allow-Methods in preflight response.",
    ),
    Behaviour(
        "method-lowercase",
        "patch",
        JSON,
        False,
        204,
        grant(methods="PATCH"),
        200,
        OK,
        "Method patch is not allowed by Access-Control-Allow-Methods in preflight response.",
    ),
    Behaviour(
        "method-star-credentialed",
        "DELETE",
        (),
        True,
        204,
        (*grant(methods="*", credentials=True),),
        200,
        OK_CREDENTIALED,
        "Method DELETE is not allowed by Access-Control-Allow-Methods in preflight response.",
    ),
    Behaviour(
        "header-missing",
        "PUT",
        (*JSON, ("X-Api-Key", "k")),
        False,
        204,
        grant(headers="content-type"),
        200,
        OK,
        "Request header field x-api-key is not allowed by Access-Control-Allow-Headers in "
        "preflight response.",
    ),
    Behaviour(
        "header-case",
        "PUT",
        (*JSON, ("X-Api-Key", "k")),
        False,
        204,
        grant(headers="Content-Type, X-API-KEY"),
        200,
        OK,
        None,
    ),
    Behaviour(
        "header-star-credentialed",
        "PUT",
        (("X-Api-Key", "k"),),
        True,
        204,
        grant(headers="*", credentials=True),
        200,
        OK_CREDENTIALED,
        "Request header field x-api-key is not allowed by Access-Control-Allow-Headers in "
        "preflight response.",
    ),
    Behaviour(
        "authorization-star",
        "GET",
        (("Authorization", "Token t"),),
        False,
        204,
        grant(headers="*"),
        200,
        OK,
        "Request header field authorization is not allowed by Access-Control-Allow-Headers "
        "in preflight response.",
    ),
    Behaviour(
        "authorization-named",
        "GET",
        (("Authorization", "Token t"),),
        False,
        204,
        grant(headers="*, authorization"),
        200,
        OK,
        None,
    ),
    Behaviour("actual-without-acao", *PUT_JSON, False, 204, grant(), 200, (), NO_ACAO),
    Behaviour("actual-error-without-acao", *PUT_JSON, False, 204, grant(), 500, (), NO_ACAO),
    Behaviour("actual-error-with-acao", *PUT_JSON, False, 204, grant(), 500, OK, None),
    Behaviour(
        "actual-credentials-missing",
        *PUT_JSON,
        True,
        204,
        grant(credentials=True),
        200,
        OK,
        "The value of the 'Access-Control-Allow-Credentials' header in the response is "
        "'' which must be 'true'",
    ),
    Behaviour(
        "actual-origin-twice",
        *PUT_JSON,
        False,
        204,
        grant(),
        200,
        (*OK, ("Access-Control-Allow-Origin", ORIGIN_SLOT)),
        "The 'Access-Control-Allow-Origin' header contains multiple values",
    ),
    Behaviour("simple-get-allowed", "GET", (), False, 204, (), 200, OK, None),
    Behaviour("simple-get-blocked", "GET", (), False, 204, (), 200, (), NO_ACAO),
    Behaviour(
        "simple-post-form", "POST", (("Content-Type", "text/plain"),), False, 404, (), 200, OK, None
    ),
)

BY_NAME = {behaviour.name: behaviour for behaviour in BEHAVIOURS}


class _Handler(BaseHTTPRequestHandler):
    """Answers /<behaviour>/... as the behaviour says; counts what it received."""

    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        name = self.path.strip("/").split("/")[0].split("?")[0]
        behaviour = BY_NAME.get(name)
        self.server.seen.append((self.command, self.path))  # type: ignore[attr-defined]
        if behaviour is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        origin = self.headers.get("Origin", "")
        if self.command == "OPTIONS" and self.headers.get("Access-Control-Request-Method"):
            status, headers, body = behaviour.preflight_status, behaviour.preflight_headers, b""
        else:
            status, headers = behaviour.actual_status, behaviour.actual_headers
            body = b'{"behaviour": "%s"}' % name.encode()
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value.replace(ORIGIN_SLOT, origin))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _answer  # noqa: N815

    def do_patch(self) -> None:
        """Lower-case methods reach the server as sent."""
        self._answer()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: tests read ``seen`` instead."""


@contextmanager
def serve(
    host: str = "127.0.0.1",
    handler: type[BaseHTTPRequestHandler] = _Handler,
    tls: ssl.SSLContext | None = None,
) -> Iterator[tuple[str, list[Any]]]:
    """Run the server on a free port (behind TLS with ``tls``); yields its base URL and the
    requests it saw."""
    server = ThreadingHTTPServer((host, 0), handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    scheme = "http" if tls is None else "https"
    try:
        yield f"{scheme}://{host}:{server.server_address[1]}", server.seen  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
