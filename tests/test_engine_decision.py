"""The decision engine against the Fetch standard's rules, without Django."""

from __future__ import annotations

import pytest

from django_preflight.engine import (
    OriginKind,
    OriginSpec,
    PolicySet,
    PolicySpec,
    build_policy_set,
    explain,
)
from django_preflight.engine.advice import refusal
from django_preflight.engine.decision import (
    PREFLIGHT_VARY,
    Outcome,
    Reason,
    RequestFacts,
    decide,
)
from django_preflight.engine.tokens import parse_requested_headers

APP = "https://app.example.com"


def spec(
    *origins: tuple[OriginKind, str] | str, name: str = "p", prefix: str = "/api/", **fields: object
) -> PolicySpec:
    entries = tuple(
        OriginSpec(OriginKind.EXACT, o) if isinstance(o, str) else OriginSpec(*o) for o in origins
    )
    values: dict[str, object] = {
        "allowed_methods": ("GET", "POST", "PUT", "DELETE"),
        "allowed_headers": ("content-type", "authorization", "x-api-key"),
        **fields,
    }
    return PolicySpec(
        id=hash(name) % 1000, name=name, path_prefix=prefix, origins=entries, **values
    )  # type: ignore[arg-type]


def preflight(
    origin: str | None = APP, method: str = "PUT", headers: str | None = None, path: str = "/api/x"
) -> RequestFacts:
    return RequestFacts("OPTIONS", path, origin, method, headers)


def test_allowed_preflight_has_exact_headers() -> None:
    policies = build_policy_set(
        [spec(APP, allow_credentials=True, max_age=600, exposed_headers=("X-Total",))]
    )
    decision = decide(policies, preflight(headers="content-type,authorization"))
    assert decision.outcome is Outcome.PREFLIGHT_ALLOWED
    assert dict(decision.headers) == {
        "Access-Control-Allow-Origin": APP,
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE",
        "Access-Control-Allow-Headers": "content-type, authorization, x-api-key",
        "Access-Control-Max-Age": "600",
    }
    assert decision.vary == PREFLIGHT_VARY


def test_without_credentials_no_credentials_header_and_no_max_age_when_unset() -> None:
    decision = decide(build_policy_set([spec(APP)]), preflight())
    names = {name for name, _ in decision.headers}
    assert "Access-Control-Allow-Credentials" not in names
    assert "Access-Control-Max-Age" not in names


def test_any_origin_without_credentials_answers_star() -> None:
    policies = build_policy_set([spec((OriginKind.ANY, ""))])
    decision = decide(policies, preflight(origin="https://whoever.example.net"))
    assert dict(decision.headers)["Access-Control-Allow-Origin"] == "*"


def test_any_origin_with_credentials_is_never_compiled() -> None:
    policies = build_policy_set([spec((OriginKind.ANY, ""), allow_credentials=True)])
    assert policies.tiers == ()
    assert "cannot be combined with credentials" in policies.rejected[0].problem
    assert decide(policies, preflight()).outcome is Outcome.PREFLIGHT_REFUSED


@pytest.mark.parametrize(
    ("field", "value"), [("allowed_methods", ("*",)), ("allowed_headers", ("*",))]
)
def test_star_lists_with_credentials_are_never_compiled(field: str, value: tuple[str]) -> None:
    policies = build_policy_set([spec(APP, allow_credentials=True, **{field: value})])
    assert len(policies.rejected) == 1
    assert "literal" in policies.rejected[0].problem


def test_one_bad_policy_does_not_take_the_others_down() -> None:
    policies = build_policy_set(
        [spec("not an origin", name="bad"), spec(APP, name="good", prefix="/api/")]
    )
    assert [r.name for r in policies.rejected] == ["bad"]
    assert decide(policies, preflight()).outcome is Outcome.PREFLIGHT_ALLOWED


@pytest.mark.parametrize(
    ("method", "outcome"),
    [
        ("PUT", Outcome.PREFLIGHT_ALLOWED),
        ("put", Outcome.PREFLIGHT_REFUSED),
        ("PATCH", Outcome.PREFLIGHT_REFUSED),
        ("Put", Outcome.PREFLIGHT_REFUSED),
    ],
)
def test_methods_are_compared_byte_for_byte(method: str, outcome: Outcome) -> None:
    decision = decide(build_policy_set([spec(APP)]), preflight(method=method))
    assert decision.outcome is outcome
    if outcome is Outcome.PREFLIGHT_REFUSED:
        assert decision.reason is Reason.METHOD_NOT_ALLOWED
        assert decision.detail == method
        assert decision.headers == ()


@pytest.mark.parametrize(
    "headers",
    [
        "Content-Type",
        "content-type, AUTHORIZATION",
        "content-type,\tx-api-key",
        "content-type, , x-api-key",
        "  x-api-key  ",
        "",
    ],
)
def test_header_names_are_case_insensitive_and_whitespace_tolerant(headers: str) -> None:
    decision = decide(build_policy_set([spec(APP)]), preflight(headers=headers))
    assert decision.outcome is Outcome.PREFLIGHT_ALLOWED


def test_an_unlisted_header_refuses_and_is_named() -> None:
    decision = decide(build_policy_set([spec(APP)]), preflight(headers="content-type,x-secret"))
    assert (decision.reason, decision.detail) == (Reason.HEADER_NOT_ALLOWED, "x-secret")


@pytest.mark.parametrize(
    "headers", ["x-a x-b", "x-a;x-b", "x-(a)", "x-a,\r\nx-b", "é", ",".join(["x-a"] * 65)]
)
def test_malformed_request_headers_are_refused_not_raised(headers: str) -> None:
    decision = decide(
        build_policy_set([spec(APP, allowed_headers=("*",))]), preflight(headers=headers)
    )
    assert (decision.outcome, decision.reason) == (
        Outcome.PREFLIGHT_REFUSED,
        Reason.MALFORMED_REQUEST,
    )


@pytest.mark.parametrize("method", ["", "GET POST", "GET\r\n", "P(T"])
def test_malformed_request_method_is_refused(method: str) -> None:
    decision = decide(build_policy_set([spec(APP)]), preflight(method=method))
    assert decision.reason is Reason.MALFORMED_REQUEST


def test_star_headers_never_cover_authorization() -> None:
    star = build_policy_set([spec(APP, allowed_headers=("*",))])
    assert decide(star, preflight(headers="x-anything")).outcome is Outcome.PREFLIGHT_ALLOWED
    refused = decide(star, preflight(headers="x-anything, authorization"))
    assert (refused.reason, refused.detail) == (Reason.HEADER_NOT_ALLOWED, "authorization")
    named = build_policy_set([spec(APP, allowed_headers=("*", "Authorization"))])
    allowed = decide(named, preflight(headers="authorization"))
    assert dict(allowed.headers)["Access-Control-Allow-Headers"] == "*, authorization"


def test_star_methods_allow_any_token_without_credentials() -> None:
    policies = build_policy_set([spec(APP, allowed_methods=("*",))])
    decision = decide(policies, preflight(method="PROPFIND"))
    assert dict(decision.headers)["Access-Control-Allow-Methods"] == "*"


def test_subdomain_wildcard_any_depth_never_apex_same_scheme_and_port() -> None:
    policies = build_policy_set([spec((OriginKind.SUBDOMAIN, "https://*.example.com"))])

    def outcome(origin: str) -> Outcome:
        return decide(policies, preflight(origin=origin)).outcome

    assert outcome("https://a.example.com") is Outcome.PREFLIGHT_ALLOWED
    assert outcome("https://a.b.c.example.com") is Outcome.PREFLIGHT_ALLOWED
    for refused in [
        "https://example.com",
        "http://a.example.com",
        "https://a.example.com:8443",
        "https://evilexample.com",
        "https://a.example.com.evil.net",
        "https://A.example.com",
        "https://a_b.example.com",
    ]:
        assert outcome(refused) is Outcome.PREFLIGHT_REFUSED, refused


def test_regex_is_matched_whole_and_only_against_wellformed_origins() -> None:
    policies = build_policy_set([spec((OriginKind.REGEX, r"https://[a-z]+\.example\.com"))])
    assert decide(policies, preflight(origin="https://app.example.com")).outcome is (
        Outcome.PREFLIGHT_ALLOWED
    )
    for refused in ["https://app.example.com.evil.net", "xhttps://app.example.com"]:
        assert decide(policies, preflight(origin=refused)).outcome is Outcome.PREFLIGHT_REFUSED
    loose = build_policy_set([spec((OriginKind.REGEX, r"https://.*"))])
    assert decide(loose, preflight(origin="https://a.com\r\nX: y")).reason is (
        Reason.ORIGIN_NOT_ALLOWED
    )


def test_null_only_through_its_own_kind() -> None:
    exact = build_policy_set([spec(APP)])
    assert decide(exact, preflight(origin="null")).reason is Reason.ORIGIN_NOT_ALLOWED
    null = build_policy_set([spec((OriginKind.NULL, ""))])
    assert (
        dict(decide(null, preflight(origin="null")).headers)["Access-Control-Allow-Origin"]
        == "null"
    )


def test_most_specific_path_prefix_wins_and_never_falls_back() -> None:
    policies = build_policy_set(
        [
            spec(APP, "https://other.example.com", name="general", prefix="/"),
            spec(APP, name="admin-api", prefix="/api/admin"),
        ]
    )
    general = decide(policies, preflight(origin="https://other.example.com", path="/api/x"))
    assert general.policy is not None
    assert general.policy.name == "general"
    narrowed = decide(policies, preflight(origin="https://other.example.com", path="/api/admin/x"))
    assert narrowed.reason is Reason.ORIGIN_NOT_ALLOWED
    assert narrowed.policy is not None
    assert narrowed.policy.name == "admin-api"


@pytest.mark.parametrize(
    ("path", "covered"),
    [("/api", True), ("/api/", True), ("/api/x/y", True), ("/apix", False), ("/", False)],
)
def test_prefixes_match_whole_segments(path: str, covered: bool) -> None:
    policies = build_policy_set([spec(APP, prefix="/api/")])
    decision = decide(policies, preflight(path=path))
    assert (decision.reason is not Reason.NO_POLICY) is covered


def test_policies_sharing_a_prefix_share_it_by_origin() -> None:
    policies = build_policy_set(
        [
            spec("https://tenant-a.example", name="tenant-a", allowed_methods=("GET",)),
            spec("https://tenant-b.example", name="tenant-b", allowed_methods=("PUT",)),
        ]
    )
    a = decide(policies, preflight(origin="https://tenant-a.example", method="GET"))
    b = decide(policies, preflight(origin="https://tenant-b.example", method="PUT"))
    assert (a.outcome, b.outcome) == (Outcome.PREFLIGHT_ALLOWED, Outcome.PREFLIGHT_ALLOWED)
    assert decide(policies, preflight(origin="https://tenant-a.example", method="PUT")).reason is (
        Reason.METHOD_NOT_ALLOWED
    )


def test_exact_beats_wildcard_beats_regex_beats_any_and_name_breaks_ties() -> None:
    policies = build_policy_set(
        [
            spec((OriginKind.ANY, ""), name="d-any"),
            spec((OriginKind.REGEX, r"https://.*\.example\.com"), name="c-regex"),
            spec((OriginKind.SUBDOMAIN, "https://*.example.com"), name="b-wild"),
            spec(APP, name="a-exact"),
            spec(APP, name="z-exact-too"),
        ]
    )

    def winner(origin: str) -> str:
        policy = decide(policies, preflight(origin=origin)).policy
        assert policy is not None
        return policy.name

    assert winner(APP) == "a-exact"
    assert winner("https://other.example.com") == "b-wild"
    assert winner("https://elsewhere.net") == "d-any"


def test_private_network_access_is_opt_in() -> None:
    request = RequestFacts("OPTIONS", "/api/x", APP, "GET", None, request_private_network=True)
    refused = decide(build_policy_set([spec(APP)]), request)
    assert refused.reason is Reason.PRIVATE_NETWORK_NOT_ALLOWED
    allowed = decide(build_policy_set([spec(APP, allow_private_network=True)]), request)
    assert ("Access-Control-Allow-Private-Network", "true") in allowed.headers


def test_real_requests() -> None:
    policies = build_policy_set([spec(APP, allow_credentials=True, exposed_headers=("X-Total",))])
    allowed = decide(policies, RequestFacts("GET", "/api/x", APP))
    assert allowed.outcome is Outcome.ACTUAL_ALLOWED
    assert dict(allowed.headers) == {
        "Access-Control-Allow-Origin": APP,
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Expose-Headers": "x-total",
    }
    assert allowed.vary == ("Origin",)
    refused = decide(policies, RequestFacts("GET", "/api/x", "https://evil.example"))
    assert (refused.outcome, refused.headers, refused.vary) == (
        Outcome.ACTUAL_REFUSED,
        (),
        ("Origin",),
    )
    no_origin = decide(policies, RequestFacts("GET", "/api/x"))
    assert (no_origin.outcome, no_origin.vary) == (Outcome.NOT_CORS, ("Origin",))
    uncovered = decide(policies, RequestFacts("GET", "/elsewhere"))
    assert (uncovered.outcome, uncovered.vary) == (Outcome.NOT_CORS, ())


def test_options_without_request_method_is_not_a_preflight() -> None:
    decision = decide(build_policy_set([spec(APP)]), RequestFacts("OPTIONS", "/api/x", APP))
    assert decision.outcome is Outcome.ACTUAL_ALLOWED


def test_no_policy_at_all_refuses_preflights() -> None:
    decision = decide(PolicySet(), preflight())
    assert (decision.outcome, decision.reason, decision.policy) == (
        Outcome.PREFLIGHT_REFUSED,
        Reason.NO_POLICY,
        None,
    )


def test_header_list_parser_bounds() -> None:
    assert parse_requested_headers("A, b ,\tc", 3) == ("a", "b", "c")
    assert parse_requested_headers("a,b,c,d", 3) is None
    assert parse_requested_headers("x" * 10_000, 64) is None


@pytest.mark.parametrize(
    "reason", [r for r in Reason if r not in (Reason.ALLOWED, Reason.NO_ORIGIN)]
)
def test_every_refusal_reason_is_explained(reason: Reason) -> None:
    expected = "No" if reason is Reason.REFUSED_ON_SERVER else "Response to preflight request"
    assert explain.console_message(reason).startswith(expected)
    advice = refusal(reason, "X-Thing", "https://app.example", "frontend")
    assert advice.code == reason.value
    assert advice.cause.endswith(".")
    assert advice.fix.endswith(".")


def test_a_match_names_the_entry_kind_and_the_pattern_that_matched() -> None:
    policies = build_policy_set(
        [
            spec(
                "HTTPS://App.Example.com:443",
                (OriginKind.SUBDOMAIN, "https://*.Example.org"),
                (OriginKind.REGEX, r"https://[a-z]+\.example\.net"),
                (OriginKind.ANY, ""),
            )
        ]
    )
    tier = policies.tier_for("/api/x")
    assert tier is not None
    found = {
        origin: (match.kind, match.pattern, match.allow_origin)
        for origin in (APP, "https://a.b.example.org", "https://shop.example.net", "https://x.io")
        if (match := tier.origins.match(origin)) is not None
    }
    assert found == {
        APP: (OriginKind.EXACT, APP, APP),
        "https://a.b.example.org": (
            OriginKind.SUBDOMAIN,
            "https://*.example.org",
            "https://a.b.example.org",
        ),
        "https://shop.example.net": (
            OriginKind.REGEX,
            r"https://[a-z]+\.example\.net",
            "https://shop.example.net",
        ),
        "https://x.io": (OriginKind.ANY, "", "*"),
    }
