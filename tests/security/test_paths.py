"""Per-path policies against path tricks: the policy is always the one of the routed view.

The middleware matches ``request.path_info``: the path Django's URL resolver routes, already
percent-decoded and without ``SCRIPT_NAME``. Each row pins, for one trick, the ``path_info``
Django derives, the view it routes to (None for a 404), and the policy tier that covers it;
the invariant is that a routed view is always covered by the tier of the prefix it lives
under, so no trick reaches a view under a policy less restrictive than its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes

import pytest
from django.test import Client
from django.urls import Resolver404, resolve

from django_preflight.engine import OriginKind, OriginSpec, PolicySpec, build_policy_set
from django_preflight.engine.browser import CorsRequest
from django_preflight.engine.diagnose import diagnose
from fuzz.invariants import header_problems

from .support import call_wsgi, grant_headers, preflight, saved_for_module

URLCONF = "tests.security.urls"
ROOT = "https://root.example"
APP = "https://app.example"
TRUSTED = "https://trusted.example"
EVIL = "https://evil.example"
PROBES = (ROOT, APP, TRUSTED, EVIL)
METHODS = ("GET", "PUT")

SPECS = [
    PolicySpec(
        201, "root", "/", allowed_methods=METHODS, origins=(OriginSpec(OriginKind.EXACT, ROOT),)
    ),
    PolicySpec(
        202, "api", "/api/", allowed_methods=METHODS, origins=(OriginSpec(OriginKind.EXACT, APP),)
    ),
    PolicySpec(
        203,
        "private",
        "/api/private/",
        allow_credentials=True,
        allowed_methods=METHODS,
        origins=(OriginSpec(OriginKind.EXACT, TRUSTED),),
    ),
    PolicySpec(
        204,
        "public",
        "/api/public/",
        allowed_methods=METHODS,
        origins=(OriginSpec(OriginKind.ANY),),
    ),
]
SNAPSHOT = build_policy_set(SPECS)
ALLOWED = {
    "": {ROOT},
    "/api": {APP},
    "/api/private": {TRUSTED},
    "/api/public": set(PROBES),
}
VIEW_TIER = {"private": "/api/private", "public": "/api/public", "api": "/api"}


@dataclass(frozen=True)
class PathTrick:
    """One trick: what the client sends and what it must come to."""

    raw: str
    path_info: str
    view: str | None
    tier: str
    why: str
    script_name: str = ""
    client: bool = True


TRICKS = (
    PathTrick("/api/private/", "/api/private/", "private", "/api/private", "the plain path"),
    PathTrick("/api/private/x/y", "/api/private/x/y", "private", "/api/private", "below it"),
    PathTrick("/api/private", "/api/private", None, "/api/private", "no trailing slash"),
    PathTrick("/api/privatex/", "/api/privatex/", None, "/api", "longer segment"),
    PathTrick("/api/Private/", "/api/Private/", None, "/api", "case of a segment"),
    PathTrick("/API/private/", "/API/private/", None, "", "case of the first segment"),
    PathTrick("/api/PUBLIC/", "/api/PUBLIC/", None, "/api", "case of the open segment"),
    PathTrick("/api//private/", "/api//private/", None, "/api", "double slash inside"),
    PathTrick(
        "/api/private//x", "/api/private//x", "private", "/api/private", "double slash below"
    ),
    PathTrick("//api/private/", "//api/private/", None, "", "leading double slash", client=False),
    PathTrick("/api%2Fprivate/", "/api/private/", "private", "/api/private", "encoded slash"),
    PathTrick("/api%2fprivate%2fx", "/api/private/x", "private", "/api/private", "lower-case %2f"),
    PathTrick("/api/%70rivate/", "/api/private/", "private", "/api/private", "encoded letter"),
    PathTrick("/%61pi/private/", "/api/private/", "private", "/api/private", "encoded first"),
    PathTrick("/api/%2e%2e/private/", "/api/../private/", None, "/api", "encoded dot-dot"),
    PathTrick("/api/./private/", "/api/./private/", None, "/api", "dot segment"),
    PathTrick("/api/%2e/private/", "/api/./private/", None, "/api", "encoded dot segment"),
    PathTrick(
        "/api/public/../private/",
        "/api/public/../private/",
        "public",
        "/api/public",
        "dot-dot out of the open prefix: Django does not resolve it, the open view answers",
    ),
    PathTrick(
        "/api/public/%2e%2e/private/",
        "/api/public/../private/",
        "public",
        "/api/public",
        "encoded dot-dot out of the open prefix",
    ),
    PathTrick(
        "/api/public/..%2fprivate/",
        "/api/public/../private/",
        "public",
        "/api/public",
        "dot-dot with an encoded slash, which browsers do not normalise",
    ),
    PathTrick(
        "/api/private/../public/",
        "/api/private/../public/",
        "private",
        "/api/private",
        "dot-dot out of the restricted prefix",
    ),
    PathTrick("/api/private;x/", "/api/private;x/", None, "/api", "path parameter"),
    PathTrick("/api/private%00/", "/api/private\x00/", None, "/api", "encoded NUL"),
    PathTrick("/api/private%20/", "/api/private /", None, "/api", "encoded space"),
    PathTrick("/api/private%09/", "/api/private\t/", None, "/api", "encoded tab"),
    PathTrick("/api/priv%C3%A4te/", "/api/priv\u00e4te/", None, "/api", "encoded UTF-8"),
    PathTrick("/api/private%C0%AE/", "/api/private%C0%AE/", None, "/api", "overlong UTF-8"),
    PathTrick("/api/private%252F/", "/api/private%2F/", None, "/api", "double-encoded slash"),
    PathTrick("/api\\private/", "/api\\private/", None, "", "backslash"),
    PathTrick(
        "/api/private/?next=/api/public/", "/api/private/", "private", "/api/private", "query"
    ),
    PathTrick("/api", "/api", None, "/api", "the prefix without its slash"),
    PathTrick("/api/", "/api/", "api", "/api", "the broad prefix"),
    PathTrick("/api/items/1/", "/api/items/1/", "api", "/api", "a broad view"),
    PathTrick("/apix/private/", "/apix/private/", None, "", "prefix glued to a segment"),
    PathTrick("/api/public", "/api/public", None, "/api/public", "open prefix, no slash"),
    PathTrick(
        "/api/private/",
        "/api/private/",
        "private",
        "/api/private",
        "mounted under SCRIPT_NAME: prefixes exclude the mount point",
        script_name="/mount",
        client=False,
    ),
    PathTrick(
        "/mount/api/private/",
        "/mount/api/private/",
        None,
        "",
        "mount point repeated in PATH_INFO",
        script_name="/mount",
        client=False,
    ),
    PathTrick(
        "/api/private/",
        "/api/private/",
        "private",
        "/api/private",
        "SCRIPT_NAME that looks like the open prefix",
        script_name="/api/public",
        client=False,
    ),
    PathTrick(
        "/private/",
        "/private/",
        None,
        "",
        "SCRIPT_NAME that swallows the broad prefix",
        script_name="/api",
        client=False,
    ),
)


def trick_id(trick: PathTrick) -> str:
    return f"{TRICKS.index(trick):02d}-{trick.script_name}{ascii(trick.raw)[1:-1]}"


@pytest.fixture(scope="module")
def path_policies(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    with saved_for_module(django_db_blocker, SPECS):
        yield


def routed_view(path_info: str) -> str | None:
    try:
        return resolve(path_info, urlconf=URLCONF).func.__name__
    except Resolver404:
        return None


@pytest.mark.parametrize("trick", TRICKS, ids=trick_id)
def test_each_trick_is_pinned(trick: PathTrick) -> None:
    """What Django routes, and which tier covers it: never a tier other than the view's own."""
    tier = SNAPSHOT.tier_for(trick.path_info)
    assert tier is not None
    assert (routed_view(trick.path_info), tier.base) == (trick.view, trick.tier)
    if trick.view is not None:
        assert VIEW_TIER[trick.view] == tier.base


def allowed_origins(send: Any) -> set[str]:
    """The probe origins whose preflight the middleware grants on one path."""
    allowed = set()
    for origin in PROBES:
        response = send(origin)
        grants = grant_headers(response.items())
        if response.status_code == 204:
            assert grants["access-control-allow-origin"] in (origin, "*")
            allowed.add(origin)
        else:
            assert grants == {}
    return allowed


@pytest.mark.django_db
@pytest.mark.urls(URLCONF)
@pytest.mark.parametrize("trick", [t for t in TRICKS if t.client], ids=trick_id)
def test_through_the_test_client(trick: PathTrick, path_policies: None, client: Client) -> None:
    assert (
        allowed_origins(lambda origin: preflight(client, trick.raw, origin)) == ALLOWED[trick.tier]
    )
    response = client.get(trick.raw, HTTP_ORIGIN=TRUSTED)
    assert response.wsgi_request.path_info == trick.path_info
    if trick.view is not None:
        assert response.content.decode() == trick.view
    granted = TRUSTED in ALLOWED[trick.tier]
    assert header_problems(response.items(), TRUSTED, granted=granted) == []


def server_path_info(raw: str) -> tuple[str, str]:
    """PATH_INFO and QUERY_STRING as a WSGI server derives them from the request target."""
    target, _, query = raw.partition("?")
    return unquote_to_bytes(target).decode("latin-1"), query


@pytest.mark.django_db
@pytest.mark.urls(URLCONF)
@pytest.mark.parametrize("trick", TRICKS, ids=trick_id)
def test_through_a_wsgi_environ(trick: PathTrick, path_policies: None) -> None:
    path_info, query = server_path_info(trick.raw)

    def send(origin: str) -> Any:
        return call_wsgi(
            "OPTIONS",
            path_info,
            trick.script_name,
            query,
            HTTP_ORIGIN=origin,
            HTTP_ACCESS_CONTROL_REQUEST_METHOD="PUT",
        )

    assert allowed_origins(send) == ALLOWED[trick.tier]
    response = call_wsgi("GET", path_info, trick.script_name, query, HTTP_ORIGIN=TRUSTED)
    names = [name.lower() for name, _ in response.header_lines]
    assert len(names) == len(set(names)), "no header line is sent twice"
    if trick.view is not None:
        assert response.content.decode() == trick.view


def test_the_admin_diagnosis_covers_the_path_the_middleware_covers() -> None:
    """'Test a request' must name the tier the middleware will use for the same URL."""
    diagnosis = diagnose(SNAPSHOT, CorsRequest("/api%2Fprivate/", TRUSTED, "PUT"))
    assert "'/api/private'" in diagnosis.covered_by
