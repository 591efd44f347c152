"""Model validation: what can be saved, in which form, and the one-sentence refusals."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from django_preflight.models import AllowedOrigin, CorsPolicy
from tests.factories import AllowedOriginFactory, CorsPolicyFactory

pytestmark = pytest.mark.django_db


def errors_of(instance: CorsPolicy | AllowedOrigin) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        instance.full_clean()
    return caught.value.message_dict


def test_defaults_are_a_usable_policy() -> None:
    policy = CorsPolicy(name="defaults")
    policy.full_clean()
    assert policy.allowed_methods == ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
    assert "authorization" in policy.allowed_headers
    assert (policy.path_prefix, policy.max_age, policy.allow_credentials) == ("/", 600, False)


@pytest.mark.parametrize(
    ("fields", "field", "fragment"),
    [
        ({"path_prefix": "api/"}, "path_prefix", "starts with '/'"),
        ({"path_prefix": "/api?x"}, "path_prefix", "plain path"),
        ({"allowed_methods": ["GET POST"]}, "allowed_methods", "not a valid HTTP method"),
        ({"allowed_methods": []}, "allowed_methods", "This field cannot be blank."),
        ({"allowed_headers": ["x-ok", "bad header"]}, "allowed_headers", "not a valid header"),
        ({"exposed_headers": ["x:y"]}, "exposed_headers", "not a valid exposed header"),
        ({"allowed_headers": ["*"], "allow_credentials": True}, "allowed_headers", "literal"),
        ({"allowed_methods": ["*"], "allow_credentials": True}, "allowed_methods", "literal"),
        ({"max_age": 90000}, "max_age", "between 0 and 86400"),
    ],
)
def test_policy_validation_messages(fields: dict[str, object], field: str, fragment: str) -> None:
    policy = CorsPolicy(name="p", **fields)
    assert fragment in " ".join(errors_of(policy)[field])


def test_max_age_above_the_browser_cap_is_flagged_not_refused() -> None:
    policy = CorsPolicy(name="long", max_age=86400)
    policy.full_clean()
    assert policy.max_age_exceeds_browser_cap
    assert not CorsPolicy(name="short", max_age=7200).max_age_exceeds_browser_cap


def test_exact_origin_is_normalised_on_clean() -> None:
    origin = AllowedOrigin(policy=CorsPolicyFactory(), value="HTTPS://App.Example.com:443/")
    origin.full_clean()
    assert origin.value == "https://app.example.com"


@pytest.mark.parametrize(
    ("kind", "value", "field", "fragment"),
    [
        ("exact", "https://app.example.com/path", "value", "remove a path"),
        ("exact", "null", "value", "separate 'null origin' kind"),
        ("subdomain", "https://app.example.com", "value", "https://*.example.com"),
        ("regex", "https://(", "value", "not a valid regular expression"),
    ],
)
def test_origin_validation_messages(kind: str, value: str, field: str, fragment: str) -> None:
    origin = AllowedOrigin(policy=CorsPolicyFactory(), kind=kind, value=value)
    assert fragment in " ".join(errors_of(origin)[field])


def test_any_origin_never_with_credentials_either_way() -> None:
    credentialed = CorsPolicyFactory(allow_credentials=True)
    any_origin = AllowedOrigin(policy=credentialed, kind="any")
    assert "cannot be combined with credentials" in errors_of(any_origin)["kind"][0]

    open_policy = CorsPolicyFactory()
    AllowedOriginFactory(policy=open_policy, kind="any", value="")
    open_policy.allow_credentials = True
    assert "cannot be combined" in errors_of(open_policy)["allow_credentials"][0]


def test_any_and_null_store_no_value() -> None:
    origin = AllowedOrigin(policy=CorsPolicyFactory(), kind="null", value="ignored")
    origin.full_clean()
    assert origin.value == ""


def test_same_origin_twice_in_a_policy_is_refused() -> None:
    policy = CorsPolicyFactory()
    AllowedOriginFactory(policy=policy, value="https://app.example.com")
    duplicate = AllowedOrigin(policy=policy, value="https://app.example.com")
    assert "already exists" in " ".join(errors_of(duplicate)["__all__"])
    with pytest.raises(IntegrityError):
        AllowedOrigin.objects.create(policy=policy, value="https://app.example.com")


def test_string_forms() -> None:
    policy = CorsPolicyFactory(name="frontend")
    assert str(policy) == "frontend"
    assert (
        str(AllowedOriginFactory(policy=policy, value="https://a.example")) == "https://a.example"
    )
    assert str(AllowedOriginFactory(policy=policy, kind="any", value="")) == (
        "any origin (never with credentials)"
    )


def test_policy_names_are_unique_ignoring_case_on_every_database(
    make_policy: Callable[..., CorsPolicy],
) -> None:
    make_policy(name="Frontend")
    twin = CorsPolicy(name="frontend", path_prefix="/other/")
    with pytest.raises(ValidationError) as raised:
        twin.full_clean()
    assert "names ignore case" in str(raised.value.message_dict["name"])


def test_regex_with_surrounding_spaces_is_refused(make_policy: Callable[..., CorsPolicy]) -> None:
    policy = make_policy(origins=())
    origin = AllowedOrigin(policy=policy, kind="regex", value=r"^https://a\.example\.com$ ")
    with pytest.raises(ValidationError) as raised:
        origin.full_clean()
    assert raised.value.message_dict["value"] == [
        "A regular expression has no leading or trailing spaces."
    ]
