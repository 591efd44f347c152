"""Server-side enforcement: unsafe cross-origin requests from unlisted origins never run a view.

Browsers enforce CORS; a policy with ``enforce_on_server`` also refuses, with 403 and before
the view, a real request with an unsafe method whose ``Origin`` the path's policies do not
allow, unless it is the site's own origin. These tests attack that boundary with the hostile
origin corpus, the path tricks and report-only policies, and show the view never ran by
routing to a view that would fail with 500 or answer its own name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client

from django_preflight.engine import OriginKind, OriginSpec, PolicySpec
from django_preflight.models import AllowedOrigin, CorsPolicy

from .hostile_origins import EXACT_ORIGIN, HOSTILE_ORIGINS, Verdict, wire
from .support import grant_headers, save_specs
from .test_paths import TRICKS, URLCONF, PathTrick, server_path_info, trick_id

CRASH = "/api/crash/"
EVIL = "https://evil.example"
UNSAFE = ("POST", "PUT", "PATCH", "DELETE", "PROPFIND", "QUERY")
SAFE = ("GET", "HEAD", "OPTIONS")


def send(client: Client, method: str, path: str, origin: str | None, **extra: Any) -> Any:
    if origin is not None:
        extra["HTTP_ORIGIN"] = origin
    return client.generic(method, path, **extra)


def assert_refused_before_the_view(response: Any) -> None:
    assert response.status_code == 403, "the view ran (the crash view answers 500)"
    assert grant_headers(response.items()) == {}
    assert "Origin" in response.headers["Vary"]


@pytest.fixture
def crash_client() -> Client:
    return Client(raise_request_exception=False)


@pytest.fixture
def enforced(make_policy: Callable[..., CorsPolicy]) -> CorsPolicy:
    return make_policy(
        origins=(EXACT_ORIGIN,), name="enforced", path_prefix="/api/", enforce_on_server=True
    )


@pytest.mark.django_db
@pytest.mark.parametrize("method", UNSAFE)
def test_unsafe_methods_from_unlisted_origins_never_reach_the_view(
    crash_client: Client, enforced: CorsPolicy, method: str
) -> None:
    assert_refused_before_the_view(send(crash_client, method, CRASH, EVIL))


@pytest.mark.django_db
@pytest.mark.parametrize("method", SAFE)
def test_safe_methods_reach_the_view(
    crash_client: Client, enforced: CorsPolicy, method: str
) -> None:
    assert send(crash_client, method, CRASH, EVIL).status_code == 500


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("origin", "extra"),
    [
        pytest.param(EXACT_ORIGIN, {}, id="listed-origin"),
        pytest.param(None, {}, id="no-origin"),
        pytest.param("http://testserver", {}, id="same-origin"),
        pytest.param(
            "https://api.example.com",
            {"HTTP_HOST": "api.example.com", "wsgi.url_scheme": "https"},
            id="same-origin-behind-https",
        ),
    ],
)
def test_listed_and_same_origin_writes_reach_the_view(
    crash_client: Client, enforced: CorsPolicy, origin: str | None, extra: dict[str, str]
) -> None:
    assert send(crash_client, "POST", CRASH, origin, **extra).status_code == 500


@pytest.mark.django_db
def test_every_hostile_origin_is_refused_before_the_view(
    crash_client: Client, enforced: CorsPolicy
) -> None:
    """One test over the whole corpus (each row has its own test in test_hostile_origins)."""
    reached = []
    for case in HOSTILE_ORIGINS:
        if case.exact is Verdict.ACCEPT:
            continue
        response = send(crash_client, "POST", CRASH, wire(case.value))
        if response.status_code != 403 or grant_headers(response.items()):
            reached.append((case.value[:60], response.status_code))
    assert reached == []


@pytest.mark.django_db
def test_a_host_header_that_matches_the_hostile_origin_does_not_make_it_same_origin(
    crash_client: Client, enforced: CorsPolicy, settings: Any
) -> None:
    """Only a request to a host Django accepts can count as same-origin."""
    settings.ALLOWED_HOSTS = ["api.example.com"]
    response = send(crash_client, "POST", CRASH, EVIL, HTTP_HOST="evil.example")
    assert response.status_code in (400, 403)
    assert grant_headers(response.items()) == {}


@pytest.mark.django_db
def test_a_removed_origin_is_refused_although_its_preflight_may_be_cached(
    crash_client: Client, enforced: CorsPolicy, django_capture_on_commit_callbacks: Any
) -> None:
    assert send(crash_client, "PUT", CRASH, EXACT_ORIGIN).status_code == 500
    with django_capture_on_commit_callbacks(execute=True):
        AllowedOrigin.objects.filter(policy=enforced).delete()
    assert_refused_before_the_view(send(crash_client, "PUT", CRASH, EXACT_ORIGIN))


@pytest.mark.django_db
def test_report_only_and_disabled_policies_never_enforce(
    crash_client: Client, make_policy: Callable[..., CorsPolicy]
) -> None:
    make_policy(origins=(EXACT_ORIGIN,), name="trial", report_only=True, enforce_on_server=True)
    make_policy(origins=(EXACT_ORIGIN,), name="off", enabled=False, enforce_on_server=True)
    assert send(crash_client, "POST", CRASH, EVIL).status_code == 500


@pytest.mark.django_db
def test_one_enforcing_policy_enforces_its_whole_prefix(
    crash_client: Client, make_policy: Callable[..., CorsPolicy]
) -> None:
    make_policy(origins=(EXACT_ORIGIN,), name="strict", path_prefix="/api/", enforce_on_server=True)
    make_policy(origins=("https://partner.example",), name="partner", path_prefix="/api/")
    assert send(crash_client, "POST", CRASH, "https://partner.example").status_code == 500
    assert_refused_before_the_view(send(crash_client, "POST", CRASH, EVIL))
    assert send(crash_client, "POST", "/other/plain/", EVIL).status_code == 200, "uncovered"


@pytest.mark.django_db
def test_enforcement_on_the_async_path_with_hostile_origins(enforced: CorsPolicy) -> None:
    async def post_all() -> list[int]:
        client = AsyncClient(raise_request_exception=False)
        statuses = []
        for case in HOSTILE_ORIGINS[10:40]:
            response = await client.post(CRASH, headers={"Origin": wire(case.value)})
            statuses.append(response.status_code)
        return statuses

    assert set(async_to_sync(post_all)()) == {403}


PRIVATE_TRUSTED = "https://trusted.example"
ENFORCE = {"enforce_on_server": True}
TRICK_SPECS = [
    PolicySpec(
        301,
        "enforced-private",
        "/api/private/",
        allowed_methods=("GET", "POST"),
        origins=(OriginSpec(OriginKind.EXACT, PRIVATE_TRUSTED),),
        **ENFORCE,  # type: ignore[arg-type]
    ),
    PolicySpec(302, "open-api", "/api/", origins=(OriginSpec(OriginKind.ANY),)),
]


@pytest.fixture
def trick_policies(db: None) -> None:
    save_specs(TRICK_SPECS)


@pytest.mark.django_db
@pytest.mark.urls(URLCONF)
@pytest.mark.parametrize(
    "trick", [t for t in TRICKS if t.view == "private" and t.client], ids=trick_id
)
def test_no_path_trick_reaches_an_enforced_view(
    trick: PathTrick, trick_policies: None, client: Client
) -> None:
    """A write routed to the enforced view is refused whatever spelling of the path it uses."""
    path_info, query = server_path_info(trick.raw)
    response = client.generic(
        "POST", "/", PATH_INFO=path_info, QUERY_STRING=query, HTTP_ORIGIN=EVIL
    )
    assert response.status_code == 403
    assert response.content != b"private"
    allowed = client.generic(
        "POST", "/", PATH_INFO=path_info, QUERY_STRING=query, HTTP_ORIGIN=PRIVATE_TRUSTED
    )
    assert allowed.content == b"private"
