"""Origin patterns that cannot be abused, each rule through the engine's compiler, the admin's
policy form (origins inline) and ``preflight import``.

The rules: regexes on RE2 (linear time); hosts normalised with UTS #46 as browsers do;
subdomain wildcards need a registrable domain (Public Suffix List); regexes matching look-alike
origins are refused with credentials and warned about without; path prefixes stored decoded;
token lists refuse entries that are not one token; explain and "Test a request" refuse
malformed calls.
"""

from __future__ import annotations

import html
import json
import re
from io import StringIO
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib import messages
from django.core import checks
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from django_preflight.engine import (
    Invalid,
    OriginKind,
    OriginSpec,
    PolicySpec,
    build_policy_set,
    compile_policy,
    origin_warning,
)
from django_preflight.engine.lookalikes import lookalike_origins
from django_preflight.engine.origins import normalise_origin, parse_request_origin
from django_preflight.models import AllowedOrigin, CorsPolicy, RejectedPreflight
from django_preflight.remedies import Remedy, apply
from django_preflight.store import load_policy_set
from tests.admin_forms import policy_form

POLICY_ADD = reverse("admin:django_preflight_corspolicy_add")
TEST_REQUEST = reverse("admin:django_preflight_corspolicy_test_request")


def admin_post(
    client: Client,
    origins: tuple[tuple[str, str, bool], ...] = (),
    **fields: Any,
) -> tuple[Any, str]:
    """Add a policy through the admin with its origins inline; the response and its text."""
    for index, (_kind, _value, opt_in) in enumerate(origins):
        if opt_in:
            fields[f"origins-{index}-allow_public_suffix"] = "on"
    data = policy_form(origins=tuple((kind, value) for kind, value, _ in origins), **fields)
    response = client.post(POLICY_ADD, data, follow=True)
    return response, html.unescape(response.content.decode())


def import_file(tmp_path: Path, policy: dict[str, Any]) -> str:
    """Run ``preflight import`` on a one-policy file; its output, or CommandError."""
    path = tmp_path / "policies.json"
    entry = {"name": "web", "path_prefix": "/api/", **policy}
    path.write_text(json.dumps({"format": "django-preflight/1", "policies": [entry]}))
    out = StringIO()
    call_command("preflight", "import", str(path), stdout=out)
    return out.getvalue()


def engine_problems(spec: PolicySpec) -> str:
    """Every problem the compiler finds in ``spec``, as one text; empty when it compiles."""
    result = compile_policy(spec)
    return " ".join(p.message for p in result.problems) if isinstance(result, Invalid) else ""


def entry_spec(
    kind: OriginKind, value: str, *, credentials: bool, opt_in: bool = False
) -> PolicySpec:
    return PolicySpec(
        1, "p", allow_credentials=credentials, origins=(OriginSpec(kind, value, opt_in),)
    )


def engine_error(kind: OriginKind, value: str, *, credentials: bool, opt_in: bool = False) -> str:
    message = engine_problems(entry_spec(kind, value, credentials=credentials, opt_in=opt_in))
    assert message, "the compiler refuses the entry"
    return message


# Regexes on a linear-time engine


LOOKAROUND = r"https://(?!evil)[a-z]+\.example\.com"


@pytest.mark.django_db
def test_a_regex_needing_backtracking_is_refused_by_admin_and_import(
    admin_client: Client, tmp_path: Path
) -> None:
    assert "cannot run in linear time" in engine_error(
        OriginKind.REGEX, LOOKAROUND, credentials=False
    )
    _, page = admin_post(admin_client, (("regex", LOOKAROUND, False),))
    assert "uses negative lookahead ('(?!'), which cannot run in linear time" in page
    with pytest.raises(CommandError, match="cannot run in linear time"):
        import_file(tmp_path, {"origins": [{"kind": "regex", "value": LOOKAROUND}]})
    assert not CorsPolicy.objects.exists()


@pytest.mark.django_db
def test_a_formerly_catastrophic_regex_is_saved_and_answers(
    admin_client: Client, tmp_path: Path
) -> None:
    """The guard used to refuse it; on RE2 it is harmless, so it is saved, with credentials."""
    pattern = r"https://([a-z]+)*\.example\.com"
    admin_post(admin_client, (("regex", pattern, False),), allow_credentials="on")
    import_file(
        tmp_path,
        {
            "name": "second",
            "allow_credentials": True,
            "origins": [{"kind": "regex", "value": pattern}],
        },
    )
    snapshot = load_policy_set()
    assert not snapshot.rejected
    tier = snapshot.tiers[0]
    assert tier.origins.match("https://app.example.com") is not None
    assert tier.origins.match("https://" + "a" * 280 + ".example.co") is None


# Hosts as browsers send them (UTS #46, non-transitional)


UNICODE = [
    ("https://Straße.example", "https://xn--strae-oqa.example"),
    ("https://ς.example", "https://xn--3xa.example"),
    ("https://\uff21\uff30\uff30\uff0eexample\uff0ecom", "https://app.example.com"),
    ("https://app。example.com", "https://app.example.com"),
    ("https://क्\u200dष.example", "https://xn--11b2ezcw70k.example"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("typed", "stored"), UNICODE)
def test_unicode_hosts_are_stored_as_browsers_send_them(
    admin_client: Client, tmp_path: Path, typed: str, stored: str
) -> None:
    assert normalise_origin(typed) == stored
    admin_post(admin_client, (("exact", typed, False),), name="admin")
    import_file(tmp_path, {"name": "imported", "origins": [{"kind": "exact", "value": typed}]})
    assert sorted(AllowedOrigin.objects.values_list("policy__name", "value")) == [
        ("admin", stored),
        ("imported", stored),
    ]


@pytest.mark.django_db
def test_rows_saved_with_idna_2003_hosts_are_skipped_and_named() -> None:
    """IDNA 2003 encoded symbols that IDNA 2008 disallows (xn--n3h is a snowman): an exact row
    in that form is what the browser sends and keeps working; a wildcard on it is skipped."""
    exact = CorsPolicy.objects.create(name="exact-2003", path_prefix="/a/")
    wildcard = CorsPolicy.objects.create(name="wildcard-2003", path_prefix="/b/")
    AllowedOrigin.objects.create(policy=exact, kind="exact", value="https://xn--n3h.example")
    AllowedOrigin.objects.create(
        policy=wildcard, kind="subdomain", value="https://*.xn--n3h.example"
    )
    snapshot = load_policy_set()
    assert [r.name for r in snapshot.rejected] == ["wildcard-2003"]
    assert snapshot.tier_for("/a/").origins.match("https://xn--n3h.example") is not None
    err = StringIO()
    call_command("preflight", "status", stdout=StringIO(), stderr=err)
    assert "skipped 'wildcard-2003'" in err.getvalue()
    found = [m.msg for m in checks.run_checks(include_deployment_checks=True)]
    assert any(m.startswith("CORS policy 'wildcard-2003' is skipped") for m in found), found


def test_a_zero_width_joiner_is_refused_not_dropped() -> None:
    assert "not allowed" in engine_error(
        OriginKind.EXACT, "https://a\u200db.example", credentials=False
    )


LABEL = st.text(
    alphabet=st.sampled_from("abcxyzßς\u03c3éü0129-\u200c\u200dÄΣ"), min_size=1, max_size=12
)


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(LABEL, min_size=1, max_size=3), st.sampled_from([".", "\u3002", "\uff0e"]))
def test_a_normalised_host_is_in_browser_form_and_stable(labels: list[str], dot: str) -> None:
    """Whatever is typed, what is stored is an origin a browser can send, and storing it again
    changes nothing."""
    typed = "https://" + dot.join([*labels, "example"])
    try:
        stored = normalise_origin(typed)
    except ValueError:
        return
    parsed = parse_request_origin(stored)
    assert parsed is not None
    assert parsed.serialise() == stored
    assert normalise_origin(stored) == stored
    if "ß" in typed:
        assert "xn--" in stored, "sharp s is kept (punycode), never turned into 'ss'"


# Subdomain wildcards need a registrable domain


PUBLIC_SUFFIX_WILDCARDS = ["https://*.github.io", "https://*.herokuapp.com", "https://*.co.uk"]


@pytest.mark.django_db
@pytest.mark.parametrize("wildcard", PUBLIC_SUFFIX_WILDCARDS)
def test_a_public_suffix_wildcard_is_refused_with_credentials_even_opted_in(
    admin_client: Client, tmp_path: Path, wildcard: str
) -> None:
    parent = wildcard.removeprefix("https://*.")
    message = engine_error(OriginKind.SUBDOMAIN, wildcard, credentials=True, opt_in=True)
    assert f"{parent} is a public suffix" in message
    _, page = admin_post(admin_client, (("subdomain", wildcard, True),), allow_credentials="on")
    assert f"{parent} is a public suffix" in page
    item = {"kind": "subdomain", "value": wildcard, "allow_public_suffix": True}
    with pytest.raises(CommandError, match=f"{re.escape(parent)} is a public suffix"):
        import_file(tmp_path, {"allow_credentials": True, "origins": [item]})
    assert not CorsPolicy.objects.exists()


@pytest.mark.django_db
def test_without_credentials_a_public_suffix_wildcard_needs_the_opt_in_and_is_warned(
    admin_client: Client, tmp_path: Path
) -> None:
    wildcard = "https://*.github.io"
    assert "tick 'allow a public suffix'" in engine_error(
        OriginKind.SUBDOMAIN, wildcard, credentials=False
    )
    _, page = admin_post(admin_client, (("subdomain", wildcard, False),))
    assert "tick 'allow a public suffix'" in page
    assert not CorsPolicy.objects.exists()

    response, _ = admin_post(admin_client, (("subdomain", wildcard, True),))
    warnings = [str(m) for m in response.context["messages"] if m.level == messages.WARNING]
    assert any("github.io is a public suffix" in w for w in warnings), warnings
    assert AllowedOrigin.objects.get().allow_public_suffix

    item = {"kind": "subdomain", "value": wildcard, "allow_public_suffix": True}
    out = import_file(tmp_path, {"name": "imported", "origins": [item]})
    assert "Warning: policy 'imported', origin https://*.github.io: github.io is a public" in out
    exported = StringIO()
    call_command("preflight", "export", stdout=exported)
    assert '"allow_public_suffix": true' in exported.getvalue()
    with pytest.raises(CommandError, match="tick 'allow a public suffix'"):
        import_file(
            tmp_path, {"name": "imported", "origins": [{**item, "allow_public_suffix": False}]}
        )
    other = {"kind": "subdomain", "value": "https://*.example.com", "allow_public_suffix": True}
    import_file(
        tmp_path, {"name": "imported", "origins": [item, {**other, "allow_public_suffix": False}]}
    )
    out = import_file(tmp_path, {"name": "imported", "origins": [item, other]})
    assert "fields: allow_public_suffix of https://*.example.com" in out


def test_the_opt_in_is_only_for_subdomain_wildcards() -> None:
    assert "Only a subdomain wildcard" in engine_error(
        OriginKind.EXACT, "https://github.io", credentials=False, opt_in=True
    )


def test_a_wildcard_on_a_registrable_domain_is_fine() -> None:
    for wildcard in ("https://*.example.co.uk", "https://*.me.github.io", "https://*.example.com"):
        assert not engine_problems(entry_spec(OriginKind.SUBDOMAIN, wildcard, credentials=True))
        assert origin_warning(OriginSpec(OriginKind.SUBDOMAIN, wildcard)) is None


@pytest.mark.django_db
def test_existing_public_suffix_wildcards_are_named_by_deploy_checks_and_status() -> None:
    """Rows saved before the rule: bypass validation as an old release did."""
    credentialed = CorsPolicy.objects.create(name="old-creds", allow_credentials=True)
    plain = CorsPolicy.objects.create(name="old-plain", path_prefix="/p/")
    AllowedOrigin.objects.create(policy=credentialed, kind="subdomain", value="https://*.github.io")
    AllowedOrigin.objects.create(policy=plain, kind="subdomain", value="https://*.co.uk")

    found = [m for m in checks.run_checks(include_deployment_checks=True) if m.id.endswith("W006")]
    assert sorted(m.msg.split(":")[0] for m in found) == [
        "CORS policy 'old-creds' allows https",
        "CORS policy 'old-plain' allows https",
    ]
    assert all("is a public suffix" in m.msg for m in found)

    skipped = [
        m for m in checks.run_checks(include_deployment_checks=True) if m.id.endswith("W007")
    ]
    assert sorted(m.msg.split(":")[0] for m in skipped) == [
        "CORS policy 'old-creds' is skipped and allows nothing",
        "CORS policy 'old-plain' is skipped and allows nothing",
    ]

    snapshot = load_policy_set()  # skips both rows' policies instead of crashing
    assert sorted(r.name for r in snapshot.rejected) == ["old-creds", "old-plain"]
    err = StringIO()
    call_command("preflight", "status", stdout=StringIO(), stderr=err)
    assert "skipped 'old-creds':\n    github.io is a public suffix" in err.getvalue()
    assert "skipped 'old-plain':\n    co.uk is a public suffix" in err.getvalue()


# The regex lint: look-alike origins


SLOPPY = [
    (r"https://.*example.com", "https://attackerexample.com"),
    (r"https://app.example.com", "https://appxexample.com"),
    (r"https://app\.example\.com.*", "https://app.example.com.attacker.net"),
    (r"https?://app\.example\.com", "http://app.example.com"),
    (r"https://app\.example\.com(:[0-9]+)?", "https://app.example.com:8443"),
    (r"https://[a-z0-9-]+\.vercel\.app", "https://attackera.vercel.app"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("pattern", "lookalike"), SLOPPY)
def test_a_sloppy_regex_is_refused_with_credentials_naming_the_lookalike(
    admin_client: Client, tmp_path: Path, pattern: str, lookalike: str
) -> None:
    assert f"also matches {lookalike} " in engine_error(OriginKind.REGEX, pattern, credentials=True)
    _, page = admin_post(admin_client, (("regex", pattern, False),), allow_credentials="on")
    assert f"also matches {lookalike} " in page
    with pytest.raises(CommandError, match=re.escape(f"also matches {lookalike} ")):
        import_file(
            tmp_path,
            {"allow_credentials": True, "origins": [{"kind": "regex", "value": pattern}]},
        )
    assert not CorsPolicy.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("pattern", "lookalike"), SLOPPY[:2])
def test_a_sloppy_regex_is_warned_about_without_credentials(
    admin_client: Client, tmp_path: Path, pattern: str, lookalike: str
) -> None:
    response, _ = admin_post(admin_client, (("regex", pattern, False),))
    warnings = [str(m) for m in response.context["messages"] if m.level == messages.WARNING]
    assert any(f"also matches {lookalike} " in w for w in warnings), warnings
    out = import_file(
        tmp_path, {"name": "imported", "origins": [{"kind": "regex", "value": pattern}]}
    )
    assert f"also matches {lookalike} " in out
    assert AllowedOrigin.objects.count() == 2


HOST_LABEL = st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True)


@settings(max_examples=150, deadline=None, database=None)
@given(st.lists(HOST_LABEL, min_size=2, max_size=4), st.sampled_from(["https", "http"]))
def test_an_escaped_origin_passes_the_lint_and_its_unescaped_dots_do_not(
    labels: list[str], scheme: str
) -> None:
    """No false alarm on the careful spelling of any host; the careless one is always caught."""
    origin = f"{scheme}://" + ".".join([*labels, "com"])
    careful = re.escape(origin)
    assert not engine_problems(entry_spec(OriginKind.REGEX, careful, credentials=True))
    careless = origin.replace("://", "://(?:)")  # same text, dots left unescaped
    assert "a dot replaced by a letter" in engine_error(
        OriginKind.REGEX, careless, credentials=True
    )


@settings(max_examples=100, deadline=None, database=None)
@given(st.lists(HOST_LABEL, min_size=2, max_size=4), st.one_of(st.none(), st.integers(1, 65535)))
def test_lookalikes_are_other_origins_in_browser_form(labels: list[str], port: int | None) -> None:
    host = ".".join([*labels, "com"])
    origin = f"https://{host}" + ("" if port in (None, 443) else f":{port}")
    found = lookalike_origins(origin)
    assert found, origin
    for lookalike in found:
        assert lookalike.origin != origin
        assert parse_request_origin(lookalike.origin) is not None, lookalike


# Path prefixes are stored as requests are matched


@pytest.mark.django_db
def test_a_percent_encoded_prefix_is_stored_decoded_and_matches(
    admin_client: Client, tmp_path: Path, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    assert "write /café/ instead" in engine_problems(PolicySpec(1, "p", "/caf%C3%A9/"))
    with django_capture_on_commit_callbacks(execute=True):
        admin_post(
            admin_client, (("exact", "https://app.example.com", False),), path_prefix="/caf%C3%A9/"
        )
    import_file(
        tmp_path,
        {
            "name": "imported",
            "path_prefix": "/th%C3%A9/",
            "origins": [{"kind": "exact", "value": "https://app.example.com"}],
        },
    )
    assert sorted(CorsPolicy.objects.values_list("path_prefix", flat=True)) == ["/café/", "/thé/"]
    response = client.options(
        "/caf%C3%A9/menu/",
        HTTP_ORIGIN="https://app.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "https://app.example.com"


@pytest.mark.django_db
def test_a_prefix_no_browser_can_reach_is_refused(admin_client: Client, tmp_path: Path) -> None:
    _, page = admin_post(admin_client, path_prefix="/api/../admin/")
    assert "write /admin/ instead" in page
    with pytest.raises(CommandError, match="not UTF-8"):
        import_file(tmp_path, {"path_prefix": "/caf%E9/"})
    snapshot = build_policy_set([PolicySpec(1, "old", path_prefix="/caf%C3%A9/")])
    assert [r.problem for r in snapshot.rejected] == [
        "Request paths are matched percent-decoded, so this prefix would never match; "
        "write /café/ instead."
    ]


SEGMENT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), blacklist_characters="/?#%"
    ),
    min_size=1,
    max_size=8,
).filter(lambda text: text not in (".", "..") and not any(ch.isspace() for ch in text))


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(SEGMENT, min_size=1, max_size=4))
def test_any_percent_encoded_prefix_is_stored_as_its_decoded_path(segments: list[str]) -> None:
    """What Django's path_info holds for a request is what is stored, however it was typed."""
    path = "/" + "/".join(segments) + "/"
    encoded = quote(path)
    policy = CorsPolicy(name="p", path_prefix=encoded)
    policy.clean()
    assert policy.path_prefix == path
    compiled = compile_policy(PolicySpec(1, "p", path))
    assert not isinstance(compiled, Invalid)
    assert compiled.base == path.rstrip("/")


# Token lists


NAME = st.from_regex(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,20}", fullmatch=True)


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(NAME, min_size=1, max_size=5), NAME, NAME, st.sampled_from([" ", "\t", "  "]))
def test_a_list_is_split_on_commas_only(
    names: list[str], left: str, right: str, space: str
) -> None:
    """Tokens joined by commas round-trip; a name with whitespace inside stays one entry and
    is refused, never split into two names nobody typed."""
    field = CorsPolicy._meta.get_field("allowed_methods").formfield()
    assert field.to_python(" , ".join(names)) == list(dict.fromkeys(names))
    joined = f"{left}{space}{right}"
    items = field.to_python(", ".join([*names, joined]))
    assert items[-1] == joined
    assert "contains whitespace" in engine_problems(
        PolicySpec(1, "p", allowed_methods=tuple(items))
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "typed", "bad"),
    [
        ("allowed_methods", "GET, PO ST", "PO ST"),
        ("allowed_headers", "x-ok, bad header", "bad header"),
    ],
)
def test_a_token_list_entry_with_whitespace_is_refused_not_split(
    admin_client: Client, tmp_path: Path, field: str, typed: str, bad: str
) -> None:
    _, page = admin_post(admin_client, **{field: typed})
    assert f"'{bad}' is not a valid" in page
    assert "contains whitespace" in page
    with pytest.raises(CommandError, match=f"'{bad}' is not a valid .* contains whitespace"):
        import_file(tmp_path, {field: [item.strip() for item in typed.split(",")]})
    with pytest.raises(CommandError, match="are a list of names"):
        import_file(tmp_path, {field: typed})
    assert not CorsPolicy.objects.exists()


@pytest.mark.django_db
def test_import_settings_and_the_fix_action_refuse_bad_tokens(settings: Any) -> None:
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    settings.CORS_ALLOW_METHODS = ["GET", "PO ST"]
    with pytest.raises(CommandError, match="'PO ST' is not a valid HTTP method"):
        call_command("preflight", "import-settings", stdout=StringIO())
    policy = CorsPolicy.objects.create(name="fixme")
    now = timezone.now()
    row = RejectedPreflight.objects.create(
        fingerprint="x",
        origin="https://app.example.com",
        path="/",
        request_method="PO ST",
        reason="method_not_allowed",
        detail="PO ST",
        policy=policy,
        count=1,
        first_seen=now,
        last_seen=now,
    )
    with pytest.raises(ValidationError, match="contains whitespace"):
        apply([Remedy(row, policy, "allowed_methods", "PO ST")])
    policy.refresh_from_db()
    assert "PO ST" not in policy.allowed_methods


# explain and "Test a request" validate the call first


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "field", "message"),
    [
        (
            ("--origin", "https://App.Example.com/"),
            "origin",
            "the browser would send https://app.example.com",
        ),
        (("--origin", "not an origin"), "origin", "is not an origin a browser sends"),
        (("--method", "PO ST"), "method", "'PO ST' is not a valid method: it contains whitespace"),
        (("--header", "bad header: 1"), "headers", "'bad header' is not a valid header name"),
        (
            ("--url", "ftp://api.example.com/x"),
            "url",
            "neither a path starting with '/' nor an http(s) URL",
        ),
    ],
)
def test_explain_and_test_a_request_say_what_is_malformed(
    admin_client: Client, args: tuple[str, str], field: str, message: str
) -> None:
    call = {"--url": "/api/x/", "--origin": "https://app.example.com", "--method": "GET"}
    headers: list[str] = []
    if args[0] == "--header":
        headers.append(args[1])
    else:
        call[args[0]] = args[1]
    command = [call["--url"], "--origin", call["--origin"], "--method", call["--method"]]
    for header in headers:
        command += ["--header", header]
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("preflight", "explain", *command, stdout=StringIO())

    page = admin_client.post(
        TEST_REQUEST,
        {
            "url": call["--url"],
            "origin": call["--origin"],
            "method": call["--method"],
            "headers": "\n".join(headers),
        },
    )
    assert message in html.unescape(page.content.decode())
    assert page.context["form"].errors[field]
    assert "diagnosis" not in page.context
