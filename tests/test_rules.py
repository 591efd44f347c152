"""Every validation rule, through the compiler, the admin's policy page and ``preflight import``.

Each rule is written once, in the engine's compiler; these tests show that each entry point
reports it, and that a policy with several problems reports all of them at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from django_preflight.engine import (
    Code,
    Invalid,
    OriginKind,
    OriginSpec,
    PolicySpec,
    compile_policy,
)
from django_preflight.models import CorsPolicy

from .admin_forms import policy_form
from .test_admin import POLICY_ADD, text

LONG_HOST = "a" * 300


@dataclass(frozen=True)
class Rule:
    """A policy breaking one rule, and what each entry point says about it.

    ``column`` marks rules that a model field's own limit also enforces: the admin form and the
    importer's field check answer first, with Django's sentence and without the rule's code.
    """

    code: Code
    message: str
    fields: dict[str, Any] = field(default_factory=dict)
    origins: tuple[tuple[str, str], ...] = ()
    column: str = ""
    opt_in: bool = False
    """The first entry's 'allow a public suffix' box is ticked."""
    form_tidies: bool = False
    """The admin's form or model puts the value right before the compiler sees it (a list
    field always gives a list; a percent-encoded path prefix is stored decoded)."""
    import_tidies: bool = False
    """``preflight import`` puts the value right before the compiler sees it."""

    @property
    def id(self) -> str:
        return self.code.value

    def spec(self) -> PolicySpec:
        entries = tuple(
            OriginSpec(OriginKind(kind), value, self.opt_in and index == 0)
            for index, (kind, value) in enumerate(self.origins)
        )
        return PolicySpec(1, "web", **{"path_prefix": "/api/", **self.fields}, origins=entries)


CREDENTIALS = {"allow_credentials": True}
RULES = [
    Rule(Code.PATH_PREFIX_NOT_ABSOLUTE, "starts with '/'", {"path_prefix": "api/"}),
    Rule(
        Code.PATH_PREFIX_TOO_LONG,
        "at most 200 characters",
        {"path_prefix": "/" + "a" * 200},
        column="at most 200 characters",
    ),
    Rule(Code.PATH_PREFIX_NOT_PLAIN, "a plain path", {"path_prefix": "/api/?x"}),
    Rule(Code.PATH_PREFIX_BAD_ENCODING, "is not UTF-8", {"path_prefix": "/caf%E9/"}),
    Rule(Code.PATH_PREFIX_DOT_SEGMENT, "write /admin/ instead", {"path_prefix": "/api/../admin/"}),
    Rule(
        Code.PATH_PREFIX_NOT_DECODED,
        "write /café/ instead",
        {"path_prefix": "/caf%C3%A9/"},
        form_tidies=True,
        import_tidies=True,
    ),
    Rule(
        Code.METHODS_NOT_A_LIST,
        "Methods are a list of names",
        {"allowed_methods": "GET"},
        form_tidies=True,
    ),
    Rule(
        Code.HEADERS_NOT_A_LIST,
        "Header names are a list of names",
        {"allowed_headers": "x-token"},
        form_tidies=True,
    ),
    Rule(
        Code.EXPOSED_HEADERS_NOT_A_LIST,
        "Header names are a list of names",
        {"exposed_headers": "x-total"},
        form_tidies=True,
    ),
    Rule(
        Code.METHODS_EMPTY,
        "Allow at least one method",
        {"allowed_methods": ()},
        column="This field",
    ),
    Rule(
        Code.METHOD_INVALID,
        "'GE(T' is not a valid HTTP method name: it contains '('",
        {"allowed_methods": ("GE(T",)},
    ),
    Rule(
        Code.METHOD_STAR_WITH_CREDENTIALS,
        "literal method name",
        {"allowed_methods": ("*",), **CREDENTIALS},
    ),
    Rule(Code.HEADER_INVALID, "'x(y' is not a valid header", {"allowed_headers": ("x(y",)}),
    Rule(
        Code.HEADER_STAR_WITH_CREDENTIALS,
        "literal header name",
        {"allowed_headers": ("*",), **CREDENTIALS},
    ),
    Rule(
        Code.EXPOSED_HEADER_INVALID,
        "'x(y' is not a valid exposed header",
        {"exposed_headers": ("x(y",)},
    ),
    Rule(
        Code.EXPOSED_HEADER_STAR_WITH_CREDENTIALS,
        "literal header name",
        {"exposed_headers": ("*",), **CREDENTIALS},
    ),
    Rule(Code.MAX_AGE_OUT_OF_RANGE, "between 0 and 86400", {"max_age": 90000}),
    Rule(Code.ORIGIN_EMPTY, "Enter an origin", origins=(("exact", ""),)),
    Rule(
        Code.ORIGIN_TOO_LONG,
        "at most 300 characters",
        origins=(("exact", f"https://{LONG_HOST}.com"),),
    ),
    Rule(Code.ORIGIN_NULL_AS_EXACT, "separate 'null origin' kind", origins=(("exact", "null"),)),
    Rule(
        Code.ORIGIN_CONTROL_CHARACTER,
        "cannot contain spaces",
        origins=(("exact", "https://a b.example"),),
    ),
    Rule(Code.ORIGIN_NO_SCHEME, "starts with a scheme", origins=(("exact", "app.example.com"),)),
    Rule(Code.ORIGIN_BAD_SCHEME, "not a valid URL scheme", origins=(("exact", "1x://a.example"),)),
    Rule(Code.ORIGIN_NOT_ONLY_ORIGIN, "remove a path", origins=(("exact", "https://a.example/x"),)),
    Rule(
        Code.ORIGIN_BAD_PORT,
        "is not a port number",
        origins=(("exact", "https://a.example:99999"),),
    ),
    Rule(
        Code.ORIGIN_BAD_HOST, "not a valid host name", origins=(("exact", "https://a_b.example"),)
    ),
    Rule(
        Code.ORIGIN_DUPLICATE,
        "'https://a.example' is already listed",
        origins=(("exact", "https://a.example"), ("exact", "HTTPS://A.example:443")),
    ),
    Rule(
        Code.PUBLIC_SUFFIX_OPT_IN_NOT_SUBDOMAIN,
        "Only a subdomain wildcard can allow a public suffix",
        origins=(("exact", "https://a.example"),),
        opt_in=True,
    ),
    Rule(Code.SUBDOMAIN_SHAPE, "https://*.example.com", origins=(("subdomain", "https://x.com"),)),
    Rule(
        Code.SUBDOMAIN_NOT_REGISTRABLE,
        "needs a registrable domain",
        origins=(("subdomain", "https://*.com"),),
    ),
    Rule(Code.REGEX_EMPTY, "Enter a regular expression", origins=(("regex", ""),)),
    Rule(
        Code.REGEX_TOO_LONG,
        "at most 500 characters",
        origins=(("regex", "a" * 501),),
        column="at most 500 characters",
    ),
    Rule(
        Code.REGEX_SURROUNDING_SPACES,
        "no leading or trailing spaces",
        origins=(("regex", r"https://app\.example\.com "),),
        form_tidies=True,
    ),
    Rule(Code.REGEX_INVALID, "not a valid regular expression", origins=(("regex", "https://("),)),
    Rule(
        Code.SUBDOMAIN_PUBLIC_SUFFIX,
        "tick 'allow a public suffix'",
        origins=(("subdomain", "https://*.github.io"),),
    ),
    Rule(
        Code.SUBDOMAIN_PUBLIC_SUFFIX_WITH_CREDENTIALS,
        "with credentials any of them could read",
        CREDENTIALS,
        origins=(("subdomain", "https://*.github.io"),),
    ),
    Rule(
        Code.REGEX_NOT_LINEAR,
        "cannot run in linear time",
        origins=(("regex", r"https://(?!evil)[a-z]+\.example\.com"),),
    ),
    Rule(
        Code.REGEX_LOOKALIKE_WITH_CREDENTIALS,
        "also matches",
        CREDENTIALS,
        origins=(("regex", r"https://app.example\.com"),),
    ),
    Rule(
        Code.REGEX_ANY_SITE_WITH_CREDENTIALS,
        "matches origins of any site",
        CREDENTIALS,
        origins=(("regex", r"https://.*"),),
    ),
    Rule(
        Code.ANY_WITH_CREDENTIALS,
        "cannot be combined with credentials",
        CREDENTIALS,
        origins=(("any", ""),),
    ),
]

THREE_PROBLEMS = Rule(
    Code.PATH_PREFIX_NOT_ABSOLUTE,
    "",
    {"path_prefix": "api/", "allowed_methods": ("GE(T",)},
    origins=(("regex", "https://("),),
)
THREE_CODES = {Code.PATH_PREFIX_NOT_ABSOLUTE, Code.METHOD_INVALID, Code.REGEX_INVALID}
THREE_MESSAGES = ("starts with '/'", "'GE(T' is not a valid HTTP method", "not a valid regular")


def test_every_rule_is_listed_here() -> None:
    assert {rule.code for rule in RULES} == set(Code)


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.id)
def test_the_compiler_reports_the_rule(rule: Rule) -> None:
    result = compile_policy(rule.spec())
    assert isinstance(result, Invalid)
    [problem] = result.problems
    assert problem.code is rule.code
    assert rule.message in problem.message
    assert problem.field == ("origins" if rule.origins else next(iter(rule.fields)))


def admin_post(rule: Rule) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, value in rule.fields.items():
        if isinstance(value, tuple):
            fields[name] = ", ".join(value)
        elif isinstance(value, bool):
            fields[name] = "on" if value else None
        else:
            fields[name] = str(value)
    data = policy_form(origins=rule.origins, **fields)
    for index in range(len(rule.origins)):
        data[f"origins-{index}-note"] = "typed by a person"
    if rule.opt_in:
        data["origins-0-allow_public_suffix"] = "on"
    return data


def error_codes(response: Any) -> set[str]:
    """The codes of every error on the policy form and on its origin rows."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms.extend(inline.formset.forms)
    return {
        error.code or ""
        for form in forms
        for errors in form.errors.as_data().values()
        for error in errors
    }


ADMIN_RULES = [rule for rule in RULES if not rule.form_tidies]


@pytest.mark.django_db
@pytest.mark.parametrize("rule", ADMIN_RULES, ids=lambda rule: rule.id)
def test_the_admin_reports_the_rule(admin_client: Client, rule: Rule) -> None:
    response = admin_client.post(POLICY_ADD, admin_post(rule))
    assert response.status_code == 200, "the page is shown again with the problem"
    assert not CorsPolicy.objects.exists()
    assert (rule.column or rule.message) in text(response)
    if not rule.column:
        assert rule.code.value in error_codes(response)


def import_file(tmp_path: Path, rule: Rule) -> str:
    entry: dict[str, Any] = {"name": "web", "path_prefix": "/api/"}
    entry.update({k: list(v) if isinstance(v, tuple) else v for k, v in rule.fields.items()})
    entry["origins"] = [{"kind": kind, "value": value} for kind, value in rule.origins]
    if rule.opt_in:
        entry["origins"][0]["allow_public_suffix"] = True
    path = tmp_path / "policies.json"
    path.write_text(json.dumps({"format": "django-preflight/1", "policies": [entry]}))
    with pytest.raises(CommandError) as caught:
        call_command("preflight", "import", str(path), stdout=StringIO())
    return str(caught.value)


IMPORT_RULES = [rule for rule in RULES if not rule.import_tidies]


@pytest.mark.django_db
@pytest.mark.parametrize("rule", IMPORT_RULES, ids=lambda rule: rule.id)
def test_preflight_import_reports_the_rule(tmp_path: Path, rule: Rule) -> None:
    message = import_file(tmp_path, rule)
    assert message.startswith("Nothing was changed")
    assert not CorsPolicy.objects.exists()
    if rule.column:
        assert "policies[0]" in message
    else:
        assert rule.message in message
        assert f"[{rule.code.value}]" in message


def test_three_problems_are_reported_together_by_the_compiler() -> None:
    result = compile_policy(THREE_PROBLEMS.spec())
    assert isinstance(result, Invalid)
    assert {problem.code for problem in result.problems} == THREE_CODES


@pytest.mark.django_db
def test_three_problems_are_reported_in_one_admin_save(admin_client: Client) -> None:
    response = admin_client.post(POLICY_ADD, admin_post(THREE_PROBLEMS))
    page = text(response)
    assert all(message in page for message in THREE_MESSAGES)
    assert {code.value for code in THREE_CODES} <= error_codes(response)


@pytest.mark.django_db
def test_three_problems_are_reported_in_one_import_run(tmp_path: Path) -> None:
    message = import_file(tmp_path, THREE_PROBLEMS)
    assert all(f"[{code.value}]" in message for code in THREE_CODES)
