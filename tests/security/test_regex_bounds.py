"""Regex bounds: a saved origin regex can never make one request expensive.

Origin regexes run on RE2, whose matching time is linear in the input whatever the pattern, so
nothing here times a match (benchmarks/regex_worst_case.py measures the growth). These tests
pin what makes that guarantee hold: every regex the compiler accepts is an RE2 program, the
features that would need backtracking are refused with a sentence, RE2 accepts the same
origins Python's engine would, and rows saved before are compiled the same way.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django_preflight.engine import (
    Code,
    Invalid,
    OriginKind,
    OriginSpec,
    PolicySpec,
    build_policy_set,
    compile_policy,
)
from django_preflight.engine.linear_regex import LinearRegex
from django_preflight.engine.origins import OriginError, compile_origin_regex
from django_preflight.models import AllowedOrigin, CorsPolicy


def regex_problems(pattern: str, *, credentials: bool = False) -> list[tuple[Code, str]]:
    """What the compiler says of a policy whose only entry is ``pattern``."""
    spec = PolicySpec(
        1, "p", allow_credentials=credentials, origins=(OriginSpec(OriginKind.REGEX, pattern),)
    )
    result = compile_policy(spec)
    return [(p.code, p.message) for p in result.problems] if isinstance(result, Invalid) else []


NEEDS_BACKTRACKING = [
    pytest.param(r"https://(?=[a-z]+\.example\.com)[a-z.]+", "lookahead", id="lookahead"),
    pytest.param(r"https://(?!evil)[a-z]+\.example\.com", "negative lookahead", id="neg-ahead"),
    pytest.param(r"https://[a-z]+(?<=app)\.example\.com", "lookbehind", id="lookbehind"),
    pytest.param(r"https://([a-z]+)\.\1\.example\.com", "backreference", id="backreference"),
    pytest.param(r"https://(?P<a>[a-z]+)\.(?P=a)\.com", "backreference", id="named-backref"),
    pytest.param(r"https://(x)?(?(1)a|b)\.com", "conditional group", id="conditional"),
    pytest.param(r"https://(?>[a-z]+)\.com", "atomic group", id="atomic"),
]


@pytest.mark.parametrize(("pattern", "feature"), NEEDS_BACKTRACKING)
def test_features_that_need_backtracking_are_refused_everywhere(pattern: str, feature: str) -> None:
    with pytest.raises(OriginError, match=f"uses (a |an )?{feature}"):
        compile_origin_regex(pattern)
    [(code, message)] = regex_problems(pattern)
    assert code is Code.REGEX_NOT_LINEAR
    assert "cannot run in linear time" in message
    snapshot = build_policy_set(
        [PolicySpec(1, "old-row", origins=(OriginSpec(OriginKind.REGEX, pattern),))]
    )
    assert [r.policy_id for r in snapshot.rejected] == [1], "a row saved earlier is skipped"


@pytest.mark.django_db
def test_the_admin_model_refuses_a_lookaround_regex() -> None:
    policy = CorsPolicy.objects.create(name="regex", path_prefix="/api/")
    origin = AllowedOrigin(policy=policy, kind="regex", value=r"https://(?!evil)[a-z]+\.com")
    with pytest.raises(ValidationError, match="cannot run in linear time"):
        origin.full_clean()


def test_a_pattern_too_big_for_re2_is_refused() -> None:
    with pytest.raises(OriginError, match="RE2"):
        compile_origin_regex(r"https://((((a{100}){100}){100}){100})\.com")


def test_the_snapshot_matches_with_re2() -> None:
    snapshot = build_policy_set(
        [PolicySpec(1, "p", origins=(OriginSpec(OriginKind.REGEX, r"https://(a+)+\.com"),))]
    )
    ((pattern, _policy, _text),) = snapshot.tiers[0].origins.regexes
    assert isinstance(pattern, LinearRegex)
    assert snapshot.tiers[0].origins.match("https://aaaa.com") is not None
    assert snapshot.tiers[0].origins.match("https://" + "a" * 280 + ".co") is None


ATOMS = ("a", "[a-z]", "[a-z.]", "[a-z0-9-]", r"\.", "-", ".", r"\w", r"\d")
QUANTIFIERS = ("", "", "*", "+", "?", "{1,3}", "{2,}", "*?")


@st.composite
def regexes(draw: Any, depth: int = 0) -> str:
    """Small patterns over the characters of host names, with nested groups and choices."""
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        if depth < 2 and draw(st.integers(0, 3)) == 0:
            inner = draw(regexes(depth + 1))
            if draw(st.booleans()):
                inner = f"{inner}|{draw(regexes(depth + 1))}"
            parts.append(f"({inner}){draw(st.sampled_from(QUANTIFIERS))}")
        else:
            parts.append(draw(st.sampled_from(ATOMS)) + draw(st.sampled_from(QUANTIFIERS)))
    return "".join(parts)


HOSTS = st.text(alphabet="a.-1", min_size=1, max_size=10)


@settings(max_examples=150, deadline=None, database=None)
@given(regexes(), st.lists(HOSTS, min_size=1, max_size=8))
def test_re2_accepts_the_origins_python_would(body: str, hosts: list[str]) -> None:
    """Swapping engines changed no verdict: on short hosts (where Python's engine is still
    fast whatever the pattern) both agree on every origin."""
    pattern = rf"https://{body}\.com"
    compiled = compile_origin_regex(pattern)
    reference = re.compile(pattern)
    for host in hosts:
        origin = f"https://{host}.com"
        assert compiled.fullmatch(origin) == (reference.fullmatch(origin) is not None), origin


@settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(regexes())
def test_generated_patterns_finish_on_long_origins(body: str) -> None:
    """An origin far past the 300-character bound, built to make a backtracking engine try
    every split: RE2 answers (the run finishing is the check) and refuses it."""
    compiled = compile_origin_regex(rf"https://{body}\.com")
    assert compiled.fullmatch("https://" + "a-." * 3_000 + "org") is False


@pytest.mark.parametrize(
    "pattern",
    [
        pytest.param(r".*", id="everything"),
        pytest.param(r"https?://.*", id="every-web-origin"),
        pytest.param(r"https://.+", id="every-https-origin"),
        pytest.param(r"[a-z]+://[a-z0-9.-]+(:[0-9]+)?", id="every-origin-spelled-out"),
    ],
)
def test_a_regex_matching_every_origin_is_refused_with_credentials(pattern: str) -> None:
    assert not regex_problems(pattern)
    assert [code for code, _ in regex_problems(pattern, credentials=True)] == [
        Code.REGEX_ANY_SITE_WITH_CREDENTIALS
    ]
