"""A small configurable server answering CORS calls in many right and wrong ways.

Each behaviour is one row: what the page calls, what the server answers to the preflight and to
the real request (and at redirect targets), the verdict a browser gives (None for a pass, else
the start of the text after 'has been blocked by CORS policy: ', or the whole line of a network
error) and the cause the probe must name. The probe and real Chromium are both judged on it.

The server listens on two ports, two origins: ``{self}`` and ``{other}`` in a Location stand for
this port's and the other port's base URL, ``{origin}`` in a header for the request's Origin, and
``{listed}`` for the Origin unless it is ``null`` (an allow-list that refuses ``null``: the header
is then left out). ``/<name>/`` answers as the row says, ``/<name>/<target>/`` as its target.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django_preflight.engine.advice import Cause
from django_preflight.engine.browser import CHROMIUM, Check

Headers = tuple[tuple[str, str], ...]
ORIGIN_SLOT = "{origin}"
LISTED_SLOT = "{listed}"
JSON: Headers = (("Content-Type", "application/json"),)
PREFLIGHT = "Response to preflight request doesn't pass access control check: "
NO_ACAO = "No 'Access-Control-Allow-Origin' header is present on the requested resource."
PAGE_PATH = "/__page__/"


@dataclass(frozen=True)
class Answer:
    """One response: status, header lines (slots filled per request) and body."""

    status: int = 200
    headers: Headers = ()
    body: bytes = b""


@dataclass(frozen=True)
class Behaviour:
    """One server behaviour, the browser's verdict on it and the cause behind a block."""

    name: str
    method: str
    request_headers: Headers
    credentials: bool
    preflight: Answer
    actual: Answer
    verdict: str | None
    cause: Cause | None
    targets: dict[str, tuple[Answer, Answer]] = field(default_factory=dict)
    page_space: str | None = None


def grant(
    methods: str = "GET, POST, PUT, PATCH, DELETE",
    headers: str = "content-type, x-api-key",
    credentials: bool = False,
    origin: str = ORIGIN_SLOT,
) -> Headers:
    """A correct preflight answer for the calling origin."""
    base: Headers = (
        ("Access-Control-Allow-Origin", origin),
        ("Access-Control-Allow-Methods", methods),
        ("Access-Control-Allow-Headers", headers),
        ("Access-Control-Max-Age", "600"),
        ("Vary", "Origin"),
    )
    return (*base, ("Access-Control-Allow-Credentials", "true")) if credentials else base


OK: Headers = (("Access-Control-Allow-Origin", ORIGIN_SLOT), ("Vary", "Origin"))
OK_CREDENTIALED: Headers = (*OK, ("Access-Control-Allow-Credentials", "true"))
GRANTED = Answer(204, grant())
SERVED = Answer(200, OK)
NOTHING = Answer(204)
HTML = (("Content-Type", "text/html; charset=utf-8"),)
HTML_BODY = b"<!doctype html><html><body><div id=app></div></body></html>"


def row(
    name: str,
    verdict: str | None,
    cause: Cause | None = None,
    *,
    method: str = "PUT",
    headers: Headers = JSON,
    credentials: bool = False,
    preflight: Answer = GRANTED,
    actual: Answer = SERVED,
    targets: dict[str, tuple[Answer, Answer]] | None = None,
    page_space: str | None = None,
) -> Behaviour:
    """A behaviour with the common defaults: a JSON PUT, correctly granted and served."""
    return Behaviour(
        name,
        method,
        headers,
        credentials,
        preflight,
        actual,
        verdict,
        cause,
        targets or {},
        page_space,
    )


def redirect(status: int, location: str, *extra: tuple[str, str]) -> Answer:
    """A redirect carrying the calling origin's CORS headers unless ``extra`` says otherwise."""
    return Answer(status, (("Location", location), *(extra or OK)))


def safelist(name: str, headers: Headers, preflighted: bool, method: str = "GET") -> Behaviour:
    """The server answers preflights without CORS, so only a call needing one is blocked."""
    return row(
        name,
        PREFLIGHT + NO_ACAO if preflighted else None,
        Cause.NO_CORS_LAYER if preflighted else None,
        method=method,
        headers=headers,
        preflight=NOTHING,
    )


METHOD_NOT_ALLOWED = (
    "Method {} is not allowed by Access-Control-Allow-Methods in preflight response."
)
HEADER_NOT_ALLOWED = (
    "Request header field {} is not allowed by Access-Control-Allow-Headers in preflight response."
)
REDIRECT_PREFLIGHT = PREFLIGHT + "Redirect is not allowed for a preflight request."
MISMATCH = "The 'Access-Control-Allow-Origin' header has a value '{}' that is not equal"
MULTIPLE = "The 'Access-Control-Allow-Origin' header contains multiple values"
WILDCARD = "The value of the 'Access-Control-Allow-Origin' header in the response must not be"
CREDENTIALS = "The value of the 'Access-Control-Allow-Credentials' header in the response is '{}'"
LOOPBACK = "Permission was denied for this request to access the `loopback` address space."
WILDCARD_GRANT: Headers = (
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Methods", "*"),
    ("Access-Control-Allow-Headers", "*"),
)
TARGET = "/{name}/t/"

BASICS: tuple[Behaviour, ...] = (
    row("correct", None),
    row(
        "correct-credentialed",
        None,
        credentials=True,
        preflight=Answer(204, grant(credentials=True)),
        actual=Answer(200, OK_CREDENTIALED),
    ),
    row("route-404", PREFLIGHT + NO_ACAO, Cause.PREFLIGHT_NO_ROUTE, preflight=Answer(404)),
    row(
        "method-405",
        PREFLIGHT + NO_ACAO,
        Cause.PREFLIGHT_NO_ROUTE,
        preflight=Answer(405, (("Allow", "GET"),)),
    ),
    row(
        "auth-401",
        PREFLIGHT + NO_ACAO,
        Cause.PREFLIGHT_AUTH,
        preflight=Answer(401, (("WWW-Authenticate", "Token"),)),
    ),
    row("auth-403", PREFLIGHT + NO_ACAO, Cause.PREFLIGHT_AUTH, preflight=Answer(403)),
    row(
        "cors-layer-refusal",
        PREFLIGHT + NO_ACAO,
        Cause.CORS_LAYER_REFUSED,
        preflight=Answer(
            403,
            (("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"),),
        ),
    ),
    row(
        "corsheaders-style-refusal",
        PREFLIGHT + NO_ACAO,
        Cause.CORS_LAYER_REFUSED,
        preflight=Answer(200, (*HTML, ("Vary", "origin"))),
    ),
    row(
        "html-fallback",
        PREFLIGHT + NO_ACAO,
        Cause.HTML_PAGE,
        preflight=Answer(200, HTML, HTML_BODY),
    ),
    row(
        "grants-without-origin",
        PREFLIGHT + NO_ACAO,
        Cause.GRANTS_WITHOUT_ORIGIN,
        preflight=Answer(204, grant()[1:]),
    ),
    row(
        "preflight-server-error",
        PREFLIGHT + NO_ACAO,
        Cause.SERVER_ERROR,
        preflight=Answer(502, HTML, b"<h1>Bad Gateway</h1>"),
    ),
    row(
        "redirect-301",
        REDIRECT_PREFLIGHT,
        Cause.PREFLIGHT_REDIRECTED,
        preflight=Answer(301, (("Location", "/elsewhere/"), *grant())),
    ),
    row(
        "redirect-302",
        REDIRECT_PREFLIGHT,
        Cause.PREFLIGHT_REDIRECTED,
        preflight=Answer(302, (("Location", "/login/"),)),
    ),
    row(
        "cors-but-500",
        PREFLIGHT + "It does not have HTTP ok status.",
        Cause.PREFLIGHT_STATUS,
        preflight=Answer(500, grant()),
    ),
    row(
        "cors-but-401",
        PREFLIGHT + "It does not have HTTP ok status.",
        Cause.PREFLIGHT_STATUS,
        preflight=Answer(401, grant()),
    ),
    row(
        "wildcard-credentialed",
        PREFLIGHT + WILDCARD,
        Cause.WILDCARD_WITH_CREDENTIALS,
        credentials=True,
        preflight=Answer(204, grant(credentials=True, origin="*")),
    ),
    row(
        "wildcard-open",
        None,
        preflight=Answer(204, WILDCARD_GRANT),
        actual=Answer(200, (("Access-Control-Allow-Origin", "*"),)),
    ),
    row(
        "credentials-missing",
        PREFLIGHT + CREDENTIALS.format(""),
        Cause.CREDENTIALS_NOT_TRUE,
        credentials=True,
        actual=Answer(200, OK_CREDENTIALED),
    ),
    row(
        "credentials-false",
        PREFLIGHT + CREDENTIALS.format("false"),
        Cause.CREDENTIALS_NOT_TRUE,
        credentials=True,
        preflight=Answer(204, (*grant(), ("Access-Control-Allow-Credentials", "false"))),
    ),
    row(
        "other-origin",
        PREFLIGHT + MISMATCH.format("https://someone-else.example"),
        Cause.ORIGIN_MISMATCH,
        preflight=Answer(204, grant(origin="https://someone-else.example")),
    ),
    row(
        "origin-with-slash",
        PREFLIGHT + "The 'Access-Control-Allow-Origin' header has a value",
        Cause.ORIGIN_MISMATCH,
        preflight=Answer(204, grant(origin=ORIGIN_SLOT + "/")),
    ),
    row(
        "origin-twice",
        PREFLIGHT + MULTIPLE,
        Cause.ORIGIN_TWICE,
        preflight=Answer(204, (*grant(), ("Access-Control-Allow-Origin", ORIGIN_SLOT))),
    ),
    row(
        "origin-list",
        PREFLIGHT + MULTIPLE,
        Cause.ORIGIN_TWICE,
        preflight=Answer(204, grant(origin=ORIGIN_SLOT + ", https://b.example")),
    ),
    row(
        "method-missing",
        METHOD_NOT_ALLOWED.format("PATCH"),
        Cause.METHOD_NOT_LISTED,
        method="PATCH",
        preflight=Answer(204, grant(methods="GET, POST, PUT")),
    ),
    row(
        "method-lowercase",
        METHOD_NOT_ALLOWED.format("patch"),
        Cause.METHOD_CASE,
        method="patch",
        preflight=Answer(204, grant(methods="PATCH")),
    ),
    row(
        "method-star-credentialed",
        METHOD_NOT_ALLOWED.format("DELETE"),
        Cause.METHOD_WILDCARD_WITH_CREDENTIALS,
        method="DELETE",
        headers=(),
        credentials=True,
        preflight=Answer(204, grant(methods="*", credentials=True)),
        actual=Answer(200, OK_CREDENTIALED),
    ),
    row(
        "methods-unparseable",
        "Cannot parse Access-Control-Allow-Methods response header field",
        Cause.METHODS_UNPARSEABLE,
        preflight=Answer(204, grant(methods="GET; PUT")),
    ),
    row(
        "headers-unparseable",
        "Cannot parse Access-Control-Allow-Headers response header field",
        Cause.HEADERS_UNPARSEABLE,
        preflight=Answer(204, grant(headers="content-type; x-api-key")),
    ),
    row(
        "header-missing",
        HEADER_NOT_ALLOWED.format("x-api-key"),
        Cause.HEADER_NOT_LISTED,
        headers=(*JSON, ("X-Api-Key", "k")),
        preflight=Answer(204, grant(headers="content-type")),
    ),
    row(
        "header-case",
        None,
        headers=(*JSON, ("X-Api-Key", "k")),
        preflight=Answer(204, grant(headers="Content-Type, X-API-KEY")),
    ),
    row(
        "header-star-credentialed",
        HEADER_NOT_ALLOWED.format("x-api-key"),
        Cause.HEADER_WILDCARD_WITH_CREDENTIALS,
        headers=(("X-Api-Key", "k"),),
        credentials=True,
        preflight=Answer(204, grant(headers="*", credentials=True)),
        actual=Answer(200, OK_CREDENTIALED),
    ),
    # Chromium 156 lets '*' cover Authorization without credentials (the standard does not).
    row(
        "authorization-star",
        None,
        method="GET",
        headers=(("Authorization", "Token t"),),
        preflight=Answer(204, grant(headers="*")),
    ),
    row(
        "authorization-star-credentialed",
        HEADER_NOT_ALLOWED.format("authorization"),
        Cause.HEADER_WILDCARD_WITH_CREDENTIALS,
        method="GET",
        headers=(("Authorization", "Token t"),),
        credentials=True,
        preflight=Answer(204, grant(headers="*", credentials=True)),
        actual=Answer(200, OK_CREDENTIALED),
    ),
    row(
        "authorization-named",
        None,
        method="GET",
        headers=(("Authorization", "Token t"),),
        preflight=Answer(204, grant(headers="*, authorization")),
    ),
    row("actual-without-acao", NO_ACAO, Cause.REQUEST_WITHOUT_CORS, actual=Answer(200)),
    row("actual-error-without-acao", NO_ACAO, Cause.SERVER_ERROR, actual=Answer(500)),
    row(
        "actual-401-without-acao",
        NO_ACAO,
        Cause.ERROR_WITHOUT_CORS,
        actual=Answer(401, (("WWW-Authenticate", "Token"),)),
    ),
    row("actual-error-with-acao", None, actual=Answer(500, OK)),
    row(
        "actual-credentials-missing",
        CREDENTIALS.format(""),
        Cause.CREDENTIALS_NOT_TRUE,
        credentials=True,
        preflight=Answer(204, grant(credentials=True)),
    ),
    row(
        "actual-origin-twice",
        MULTIPLE,
        Cause.ORIGIN_TWICE,
        actual=Answer(200, (*OK, ("Access-Control-Allow-Origin", ORIGIN_SLOT))),
    ),
    row("simple-get-allowed", None, method="GET", headers=(), preflight=NOTHING),
    row(
        "simple-get-blocked",
        NO_ACAO,
        Cause.SIMPLE_WITHOUT_CORS,
        method="GET",
        headers=(),
        preflight=NOTHING,
        actual=Answer(200),
    ),
    row(
        "simple-get-refused-by-layer",
        NO_ACAO,
        Cause.CORS_LAYER_REFUSED,
        method="GET",
        headers=(),
        actual=Answer(200, (("Vary", "Origin"),)),
    ),
    row(
        "simple-post-form",
        None,
        method="POST",
        headers=(("Content-Type", "text/plain"),),
        preflight=Answer(404),
    ),
)

REDIRECTS: tuple[Behaviour, ...] = (
    row(
        "redirect-target-without-cors",
        NO_ACAO,
        Cause.REDIRECT_TARGET_WITHOUT_CORS,
        method="GET",
        headers=(),
        actual=redirect(302, "{self}" + TARGET),
        targets={"t": (NOTHING, Answer(200))},
    ),
    row(
        "redirect-same-origin-ok",
        None,
        method="GET",
        headers=(),
        actual=redirect(302, TARGET),
        targets={"t": (NOTHING, SERVED)},
    ),
    row(
        "redirect-without-cors",
        NO_ACAO,
        Cause.REDIRECT_RESPONSE,
        method="GET",
        headers=(),
        actual=redirect(302, TARGET, ("Vary", "Origin")),
        targets={"t": (NOTHING, SERVED)},
    ),
    row(
        "redirect-with-wrong-origin",
        MISMATCH.format("https://someone-else.example"),
        Cause.REDIRECT_RESPONSE,
        method="GET",
        headers=(),
        actual=redirect(
            302, TARGET, ("Access-Control-Allow-Origin", "https://someone-else.example")
        ),
        targets={"t": (NOTHING, SERVED)},
    ),
    row(
        "redirect-cross-origin-null-refused",
        NO_ACAO,
        Cause.NULL_ORIGIN_AFTER_REDIRECT,
        method="GET",
        headers=(),
        actual=redirect(302, "{other}" + TARGET),
        targets={"t": (NOTHING, Answer(200, (("Access-Control-Allow-Origin", LISTED_SLOT),)))},
    ),
    row(
        "redirect-cross-origin-null-echoed",
        None,
        method="GET",
        headers=(),
        actual=redirect(302, "{other}" + TARGET),
        targets={"t": (NOTHING, SERVED)},
    ),
    row(
        "redirect-cross-origin-star",
        None,
        method="GET",
        headers=(),
        actual=redirect(302, "{other}" + TARGET, ("Access-Control-Allow-Origin", "*")),
        targets={"t": (NOTHING, Answer(200, (("Access-Control-Allow-Origin", "*"),)))},
    ),
    row(
        "redirect-cross-origin-credentialed",
        None,
        method="GET",
        headers=(),
        credentials=True,
        actual=redirect(302, "{other}" + TARGET, *OK_CREDENTIALED),
        targets={"t": (NOTHING, Answer(200, OK_CREDENTIALED))},
    ),
    row(
        "redirect-307-put-cross-origin-method-refused",
        METHOD_NOT_ALLOWED.format("PUT"),
        Cause.METHOD_NOT_LISTED,
        actual=redirect(307, "{other}" + TARGET),
        targets={"t": (Answer(204, grant(methods="GET, POST")), SERVED)},
    ),
    row(
        "redirect-307-put-cross-origin-ok",
        None,
        actual=redirect(307, "{other}" + TARGET),
        targets={"t": (GRANTED, SERVED)},
    ),
    row(
        "redirect-308-put-same-origin-preflight-404",
        PREFLIGHT + NO_ACAO,
        Cause.PREFLIGHT_NO_ROUTE,
        actual=redirect(308, TARGET),
        targets={"t": (Answer(404), SERVED)},
    ),
    row(
        "redirect-303-put-becomes-get",
        None,
        actual=redirect(303, "{other}" + TARGET),
        targets={"t": (NOTHING, SERVED)},
    ),
    row(
        "redirect-301-post-json-becomes-get",
        None,
        method="POST",
        actual=redirect(301, TARGET),
        targets={"t": (NOTHING, SERVED)},
    ),
    row(
        "redirect-cross-and-back-null",
        MISMATCH.format("https://someone-else.example"),
        Cause.NULL_ORIGIN_AFTER_REDIRECT,
        method="GET",
        headers=(),
        actual=redirect(302, "{other}/redirect-cross-and-back-null/t/"),
        targets={
            "t": (NOTHING, redirect(302, "{other}/redirect-cross-and-back-null/u/")),
            "u": (
                NOTHING,
                Answer(200, (("Access-Control-Allow-Origin", "https://someone-else.example"),)),
            ),
        },
    ),
    row(
        "redirect-loop",
        CHROMIUM[Check.TOO_MANY_REDIRECTS],
        Cause.TOO_MANY_REDIRECTS,
        method="GET",
        headers=(),
        actual=redirect(302, "{self}/redirect-loop/?case=redirect-loop"),
    ),
    row(
        "redirect-two-hops-ok",
        None,
        method="GET",
        headers=(),
        actual=redirect(301, "/redirect-two-hops-ok/t/"),
        targets={"t": (NOTHING, redirect(302, "/redirect-two-hops-ok/u/")), "u": (NOTHING, SERVED)},
    ),
)

A129 = "a" * 129
SAFELIST: tuple[Behaviour, ...] = (
    safelist("safe-accept", (("Accept", "application/json, text/*;q=0.8"),), False),
    safelist("safe-accept-quoted", (("Accept", 'application/json; profile="x"'),), True),
    safelist("safe-accept-at", (("Accept", "application/json@v2"),), True),
    safelist("safe-accept-129-bytes", (("Accept", A129),), True),
    safelist("safe-accept-language", (("Accept-Language", "en-US,en;q=0.9"),), False),
    safelist("safe-accept-language-underscore", (("Accept-Language", "en_US"),), True),
    safelist("safe-content-language", (("Content-Language", "de-DE"),), False),
    safelist("safe-content-language-slash", (("Content-Language", "de/DE"),), True),
    safelist("safe-range", (("Range", "bytes=0-99"),), False),
    safelist("safe-range-open", (("Range", "bytes=100-"),), False),
    safelist("safe-range-suffix", (("Range", "bytes=-100"),), True),
    safelist("safe-range-two", (("Range", "bytes=0-9,20-29"),), True),
    safelist("safe-range-reversed", (("Range", "bytes=99-0"),), True),
    safelist("safe-user-agent-dropped", (("User-Agent", "probe/1"),), False),
    safelist(
        "safe-content-type-charset", (("Content-Type", "text/plain;charset=UTF-8"),), False, "POST"
    ),
    safelist(
        "safe-content-type-quoted", (("Content-Type", 'text/plain; charset="utf-8"'),), True, "POST"
    ),
    safelist(
        "safe-content-type-multipart",
        (("Content-Type", "multipart/form-data; boundary=x"),),
        False,
        "POST",
    ),
    safelist("safe-content-type-json", JSON, True, "POST"),
    safelist("safe-custom-header", (("X-Requested-With", "XMLHttpRequest"),), True),
)

ADDRESS_SPACE: tuple[Behaviour, ...] = (
    row(
        "public-page-get",
        LOOPBACK,
        Cause.ADDRESS_SPACE,
        method="GET",
        headers=(),
        page_space="public",
    ),
    row("public-page-put", LOOPBACK, Cause.ADDRESS_SPACE, page_space="public"),
)

BEHAVIOURS: tuple[Behaviour, ...] = BASICS + REDIRECTS + SAFELIST + ADDRESS_SPACE
BY_NAME = {behaviour.name: behaviour for behaviour in BEHAVIOURS}


def answer_for(behaviour: Behaviour, target: str | None, preflight: bool) -> Answer:
    """The answer to one request at the row's own path or at one of its targets."""
    preflight_answer, actual = (
        (behaviour.preflight, behaviour.actual) if target is None else behaviour.targets[target]
    )
    return preflight_answer if preflight else actual


PAGE = b"<!doctype html><title>page</title><p>A page served from a public address.</p>"


class _Handler(BaseHTTPRequestHandler):
    """Answers /<behaviour>/[<target>/] as the behaviour says; records what it received."""

    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        self.server.seen.append((self.command, self.path))  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        parts = [p for p in self.path.split("?")[0].split("/") if p]
        if self.path.startswith(PAGE_PATH):
            self._send(
                Answer(200, (*HTML, ("Content-Security-Policy", "treat-as-public-address")), PAGE)
            )
            return
        behaviour = BY_NAME.get(parts[0]) if parts else None
        target = parts[1] if len(parts) > 1 else None
        if behaviour is None or (target is not None and target not in behaviour.targets):
            self._send(Answer(404))
            return
        preflight = self.command == "OPTIONS" and bool(
            self.headers.get("Access-Control-Request-Method")
        )
        answer = answer_for(behaviour, target, preflight)
        body = answer.body or (b"" if preflight or answer.status in (204, 304) else b'{"ok": 1}')
        self._send(Answer(answer.status, answer.headers, body), behaviour.name)

    def _send(self, answer: Answer, name: str = "") -> None:
        origin = self.headers.get("Origin", "")
        bases = self.server.bases  # type: ignore[attr-defined]
        self.send_response(answer.status)
        for key, value in answer.headers:
            if value == LISTED_SLOT and origin == "null":
                continue
            for slot, text in (
                (ORIGIN_SLOT, origin),
                (LISTED_SLOT, origin),
                ("{self}", bases[0]),
                ("{other}", bases[1]),
                ("{name}", name),
            ):
                value = value.replace(slot, text)
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _answer  # noqa: N815

    def do_patch(self) -> None:
        """Lower-case methods reach the server as sent."""
        self._answer()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: tests read ``seen`` instead."""


@dataclass
class Running:
    """The server's two origins and every request either of them received."""

    base: str
    other: str
    seen: list[tuple[str, str]]


@contextmanager
def serve(
    host: str = "127.0.0.1",
    handler: type[BaseHTTPRequestHandler] = _Handler,
    tls: ssl.SSLContext | None = None,
) -> Iterator[tuple[str, list[Any]]]:
    """Run the server on a free port (behind TLS with ``tls``); yields its base URL and the
    requests it saw."""
    with _running(host, handler, tls, count=1) as (bases, seen):
        yield bases[0], seen


@contextmanager
def serve_pair(host: str = "127.0.0.1") -> Iterator[Running]:
    """Run the behaviours on two free ports (two origins), for redirects between them."""
    with _running(host, _Handler, None, count=2) as (bases, seen):
        yield Running(bases[0], bases[1], seen)


@contextmanager
def _running(
    host: str, handler: type[BaseHTTPRequestHandler], tls: ssl.SSLContext | None, count: int
) -> Iterator[tuple[list[str], list[Any]]]:
    servers = [ThreadingHTTPServer((host, 0), handler) for _ in range(count)]
    scheme = "http" if tls is None else "https"
    seen: list[Any] = []
    bases = [f"{scheme}://{host}:{server.server_address[1]}" for server in servers]
    for index, server in enumerate(servers):
        if tls is not None:
            server.socket = tls.wrap_socket(server.socket, server_side=True)
        server.seen = seen  # type: ignore[attr-defined]
        # Each port's own base URL first, the other port's (if any) second.
        server.bases = (bases[index], bases[(index + 1) % count])  # type: ignore[attr-defined]
        server.daemon_threads = True
        # A short poll: shutdown() waits for the loop to notice, once per test.
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
    try:
        yield bases, seen
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
