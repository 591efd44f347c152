"""The agreement table beyond the scripted server: nginx in front of it (forwarding, and doing
CORS itself the usual wrong ways) and a Django + DRF API behind django-cors-headers.

Each case is a call from the page and what Chromium and the probe must say about it; the
servers are real (nginx, gunicorn) and configured as their users write them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django_preflight.engine.advice import Cause
from tests.browser.servers import NGINX_HTTP_HEAD
from tests.cors_server import (
    BY_NAME,
    HEADER_NOT_ALLOWED,
    JSON,
    METHOD_NOT_ALLOWED,
    MULTIPLE,
    NO_ACAO,
    PREFLIGHT,
    REDIRECT_PREFLIGHT,
    WILDCARD,
    Behaviour,
    Headers,
)


@dataclass(frozen=True)
class Case:
    """One call and the verdict (start of the text after 'blocked by CORS policy: ') and cause
    expected; no verdict means the page reads the response."""

    name: str
    path: str
    method: str = "GET"
    headers: Headers = ()
    credentials: bool = False
    verdict: str | None = None
    cause: Cause | None = None
    page_space: str | None = None
    explained: str | None = None

    def url(self, base: str) -> str:
        """The case's own URL: a query names it, so no two cases share a URL (nor a cached
        preflight, nor a console line)."""
        return f"{base}{self.path}{'&' if '?' in self.path else '?'}case={self.name}"


def scripted(behaviour: Behaviour) -> Case:
    """A row of the scripted server as a case at its own path."""
    return Case(
        behaviour.name,
        f"/{behaviour.name}/",
        behaviour.method,
        behaviour.request_headers,
        behaviour.credentials,
        behaviour.verdict,
        behaviour.cause,
        behaviour.page_space,
    )


# nginx forwarding to the scripted server, and nginx doing CORS itself.
NGINX_TABLE_CONF = (
    NGINX_HTTP_HEAD
    + """\
    server {{
        listen 127.0.0.1:{forward_port};
        location / {{
            proxy_pass http://127.0.0.1:{upstream_port};
        }}
        # CORS in nginx, real requests forwarded to an upstream answering 401 without CORS.
        location /nginx-cors/ {{
            if ($request_method = OPTIONS) {{
                add_header Access-Control-Allow-Origin $http_origin;
                add_header Access-Control-Allow-Methods "GET, PUT";
                add_header Access-Control-Allow-Headers "content-type";
                add_header Access-Control-Max-Age 600;
                return 204;
            }}
            add_header Access-Control-Allow-Origin $http_origin;
            proxy_pass http://127.0.0.1:{upstream_port}/actual-401-without-acao/;
        }}
        location /nginx-cors-always/ {{
            if ($request_method = OPTIONS) {{
                add_header Access-Control-Allow-Origin $http_origin always;
                add_header Access-Control-Allow-Methods "GET, PUT" always;
                add_header Access-Control-Allow-Headers "content-type" always;
                add_header Access-Control-Max-Age 600 always;
                return 204;
            }}
            add_header Access-Control-Allow-Origin $http_origin always;
            proxy_pass http://127.0.0.1:{upstream_port}/actual-401-without-acao/;
        }}
        # The proxy adds Allow-Origin on top of the application's.
        location /nginx-double/ {{
            add_header Access-Control-Allow-Origin $http_origin always;
            proxy_pass http://127.0.0.1:{upstream_port}/correct/;
        }}
        location /nginx-https/ {{
            return 301 https://$host$request_uri;
        }}
        location /nginx-star/ {{
            add_header Access-Control-Allow-Origin * always;
            add_header Access-Control-Allow-Credentials true always;
            proxy_pass http://127.0.0.1:{upstream_port}/simple-get-blocked/;
        }}
        location /nginx-static/ {{
            alias {prefix}/static/;
        }}
        location /nginx-gone/ {{
            return 404;
        }}
    }}
}}
"""
)
FORWARDED = (
    "correct",
    "auth-401",
    "cors-but-401",
    "method-lowercase",
    "actual-401-without-acao",
    "simple-get-blocked",
    "safe-range",
    "safe-accept-language-underscore",
    "redirect-target-without-cors",
    "redirect-cross-origin-null-refused",
    "redirect-307-put-cross-origin-method-refused",
)
NGINX_CASES: tuple[Case, ...] = (
    *(scripted(BY_NAME[name]) for name in FORWARDED),
    Case(
        "nginx-cors-add-header-skips-401",
        "/nginx-cors/",
        "PUT",
        JSON,
        verdict=NO_ACAO,
        cause=Cause.ERROR_WITHOUT_CORS,
    ),
    Case("nginx-cors-add-header-always", "/nginx-cors-always/", "PUT", JSON),
    Case(
        "nginx-double-allow-origin",
        "/nginx-double/",
        "PUT",
        JSON,
        verdict=PREFLIGHT + MULTIPLE,
        cause=Cause.ORIGIN_TWICE,
    ),
    Case(
        "nginx-https-redirect-preflight",
        "/nginx-https/",
        "PUT",
        JSON,
        verdict=REDIRECT_PREFLIGHT,
        cause=Cause.PREFLIGHT_REDIRECTED,
    ),
    Case(
        "nginx-https-redirect-simple",
        "/nginx-https/x",
        verdict=NO_ACAO,
        cause=Cause.REDIRECT_RESPONSE,
    ),
    Case(
        "nginx-star-with-credentials",
        "/nginx-star/",
        credentials=True,
        verdict=WILDCARD,
        cause=Cause.WILDCARD_WITH_CREDENTIALS,
    ),
    Case(
        "nginx-static-options-405",
        "/nginx-static/notes.json",
        "PUT",
        JSON,
        verdict=PREFLIGHT + NO_ACAO,
        cause=Cause.PREFLIGHT_NO_ROUTE,
    ),
    Case("nginx-error-page", "/nginx-gone/", verdict=NO_ACAO, cause=Cause.HTML_PAGE),
)

DRF_CASES: tuple[Case, ...] = (
    Case("drf-put", "/api/notes/1/", "PUT", JSON),
    Case("drf-get-credentialed", "/api/notes/", credentials=True),
    Case("drf-delete-credentialed", "/api/notes/1/", "DELETE", credentials=True),
    Case(
        "drf-refused-origin-put",
        "/refuse/notes/1/",
        "PUT",
        JSON,
        verdict=PREFLIGHT + NO_ACAO,
        cause=Cause.CORS_LAYER_REFUSED,
    ),
    Case(
        "drf-refused-origin-get",
        "/refuse/notes/",
        verdict=NO_ACAO,
        cause=Cause.CORS_LAYER_REFUSED,
    ),
    Case(
        "drf-no-cors-path-put",
        "/plain/notes/1/",
        "PUT",
        JSON,
        verdict=PREFLIGHT + NO_ACAO,
        cause=Cause.NO_CORS_LAYER,
    ),
    Case(
        "drf-no-cors-path-get",
        "/plain/notes/",
        verdict=NO_ACAO,
        cause=Cause.SIMPLE_WITHOUT_CORS,
    ),
    Case(
        "drf-header-not-listed",
        "/api/notes/1/",
        "PUT",
        (*JSON, ("X-Api-Key", "k")),
        verdict=HEADER_NOT_ALLOWED.format("x-api-key"),
        cause=Cause.HEADER_NOT_LISTED,
    ),
    Case(
        "drf-accept-language-underscore",
        "/api/notes/",
        headers=(("Accept-Language", "en_US"),),
        verdict=HEADER_NOT_ALLOWED.format("accept-language"),
        cause=Cause.HEADER_NOT_LISTED,
    ),
    Case("drf-accept-language", "/api/notes/", headers=(("Accept-Language", "en-US"),)),
    Case("drf-range", "/api/notes/", headers=(("Range", "bytes=0-99"),)),
    Case(
        "drf-lowercase-patch",
        "/api/notes/1/",
        "patch",
        JSON,
        verdict=METHOD_NOT_ALLOWED.format("patch"),
        cause=Cause.METHOD_CASE,
    ),
    Case("drf-401-with-cors", "/api/private/", headers=(("Authorization", "Token t"),)),
    Case("drf-500-with-cors", "/api/boom/"),
    Case("drf-append-slash-get", "/api/notes"),
    Case("drf-append-slash-put", "/api/notes", "PUT", JSON),
    Case(
        "drf-login-redirect",
        "/api/account/",
        verdict=NO_ACAO,
        cause=Cause.REDIRECT_TARGET_WITHOUT_CORS,
    ),
)


# django-preflight itself (the example project under gunicorn), where `explain` must agree too:
# ``explained`` is the advice code `explain` gives, from the engine's reason.
PREFLIGHT_POLICY = {
    "path_prefix": "/api/",
    "allow_credentials": True,
    "allowed_methods": ["GET", "HEAD", "POST", "PUT", "PATCH"],
    "allowed_headers": ["authorization", "content-type"],
    "max_age": 600,
}
PREFLIGHT_REFUSED = PREFLIGHT + NO_ACAO
PREFLIGHT_CASES: tuple[Case, ...] = (
    Case("pf-put", "/api/notes/1/", "PUT", JSON),
    Case("pf-get-credentialed", "/api/notes/", credentials=True),
    Case("pf-token", "/api/notes/", headers=(("Authorization", "Token t"),)),
    Case("pf-range", "/api/notes/", headers=(("Range", "bytes=0-99"),)),
    Case(
        "pf-method-refused",
        "/api/notes/1/",
        "DELETE",
        verdict=PREFLIGHT_REFUSED,
        cause=Cause.CORS_LAYER_REFUSED,
        explained="method_not_allowed",
    ),
    Case(
        "pf-lowercase-patch",
        "/api/notes/1/",
        "patch",
        JSON,
        verdict=PREFLIGHT_REFUSED,
        cause=Cause.CORS_LAYER_REFUSED,
        explained=Cause.METHOD_CASE.value,
    ),
    Case(
        "pf-header-refused",
        "/api/notes/",
        headers=(("X-Api-Key", "k"),),
        verdict=PREFLIGHT_REFUSED,
        cause=Cause.CORS_LAYER_REFUSED,
        explained="header_not_allowed",
    ),
    Case(
        "pf-accept-language-underscore",
        "/api/notes/",
        headers=(("Accept-Language", "en_US"),),
        verdict=PREFLIGHT_REFUSED,
        cause=Cause.CORS_LAYER_REFUSED,
        explained="header_not_allowed",
    ),
    Case(
        "pf-uncovered-path-put",
        "/admin/login/",
        "PUT",
        JSON,
        verdict=PREFLIGHT_REFUSED,
        cause=Cause.CORS_LAYER_REFUSED,
        explained="no_policy_for_path",
    ),
    Case(
        "pf-uncovered-path-get",
        "/admin/login/",
        verdict=NO_ACAO,
        cause=Cause.HTML_PAGE,
        explained="no_policy_for_path",
    ),
)
