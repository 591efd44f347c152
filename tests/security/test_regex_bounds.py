"""Regex bounds: a saved origin regex can never make one request expensive.

The engine only runs a regex on an origin of at most 300 characters in the form browsers send,
so the question for each pattern is its worst case on such an origin. A pattern the guard
accepts is timed on hostile origins of growing length, up to the 300-character bound, and
must stay under a budget at every length; growing the input step by step stops a runaway
pattern soon after it crosses the budget instead of hanging the test run.
"""

from __future__ import annotations

import re
import time
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
from django_preflight.engine import origins as origins_module
from django_preflight.engine.origins import MAX_ORIGIN_LENGTH, OriginError, parse_request_origin
from django_preflight.models import AllowedOrigin, CorsPolicy

BUDGET = 0.25
"""Seconds one fullmatch may take on any origin up to the length bound: generous, so that a
cubic pattern on a busy machine passes and only runaway ones (exponential, or polynomial of a
high degree) fail."""


def hostile_origin(pump: str, length: int, tail: str = ".org") -> str:
    """``https://`` + ``pump`` repeated to ``length`` characters of host, a label break every
    60 characters so the origin stays in browser form, then a ``tail`` the pattern refuses."""
    body = (pump * (length // len(pump) + 1))[:length]
    labels = [body[i : i + 60].strip(".-") or "a" for i in range(0, len(body), 60)]
    origin = "https://" + ".".join(labels) + tail
    return origin[: MAX_ORIGIN_LENGTH - len(tail)].rstrip(".-") + tail


def lengths(longest: int) -> list[int]:
    """One by one while short (exponential patterns double per character), then by 20%."""
    steps = list(range(4, min(28, longest) + 1))
    while steps[-1] < longest:
        steps.append(min(longest, int(steps[-1] * 1.2) + 1))
    return steps


def slowest_match(
    pattern: str, pumps: tuple[str, ...], longest: int = MAX_ORIGIN_LENGTH
) -> tuple[float, str]:
    """The longest fullmatch over growing hostile origins, stopping once over budget."""
    compiled = re.compile(pattern)
    worst, worst_origin = 0.0, ""
    for pump in pumps:
        for length in lengths(longest):
            origin = hostile_origin(pump, length)
            assert parse_request_origin(origin) is not None, origin
            started = time.perf_counter()
            compiled.fullmatch(origin)
            elapsed = time.perf_counter() - started
            if elapsed > worst:
                worst, worst_origin = elapsed, origin
            if elapsed > BUDGET:
                return worst, worst_origin
    return worst, worst_origin


def regex_problems(pattern: str, *, credentials: bool = False) -> list[tuple[Code, str]]:
    """What the compiler says of a policy whose only entry is ``pattern``."""
    spec = PolicySpec(
        1, "p", allow_credentials=credentials, origins=(OriginSpec(OriginKind.REGEX, pattern),)
    )
    result = compile_policy(spec)
    return [(p.code, p.message) for p in result.problems] if isinstance(result, Invalid) else []


def guard_accepts(pattern: str) -> bool:
    return not regex_problems(pattern)


REFUSED = [
    r"https://(a+)+\.com",
    r"https://([a-z]+)*\.example\.com",
    r"https://([a-z0-9]+\.?)+example\.com",
    r"https://(\w+\.?)+example\.com",
    r"https://(\.[a-z]+|\.[a-z0-9]+)+\.com",
    r"https://(a|aa)+\.com",
    r"https://(.*a){12}\.com",
    r"https://(?:[a-z-]+-?)*\.example\.com",
    r"https://(?=([a-z]+)+)\.com",
]
ACCEPTED_AND_FAST = [
    r"https://([a-z0-9-]+\.)?example\.com",
    r"https://([a-z0-9-]+\.)*example\.com",
    r"https://[a-z0-9-]+\.example\.com",
    r"https://([a-z0-9]+(-[a-z0-9]+)*\.)+example\.com",
    r"https://(app|admin)\.example\.com",
    r"https://pr-[0-9]+\.preview\.example\.com",
    r"(https|http)://localhost(:[0-9]+)?",
    r"https://[a-z.]*[a-z.]*\.com",
    r"https://(([a-z])+\.)+[a-z]+",
]
FORMER_BYPASSES = [
    pytest.param(
        r"https://(x)?(?(1)([a-z]+)+|y)\.com",
        ("xa", "a"),
        id="conditional-group",
    ),
    pytest.param(
        r"https://(?>([a-z]+)+\.com)",
        ("a",),
        id="atomic-group",
    ),
    pytest.param(
        r"https://[a-z.]*[a-z.]*[a-z.]*[a-z.]*[a-z.]*\.com",
        ("a",),
        id="five-adjacent-stars",
    ),
]


@pytest.mark.parametrize("pattern", REFUSED)
def test_exponential_patterns_are_refused_everywhere(pattern: str) -> None:
    [(code, message)] = regex_problems(pattern)
    assert code is Code.REGEX_BACKTRACKING
    assert "exponential time" in message
    with pytest.raises(OriginError):
        origins_module.compile_origin_regex(pattern)
    snapshot = build_policy_set(
        [PolicySpec(1, "old-row", origins=(OriginSpec(OriginKind.REGEX, pattern),))]
    )
    assert [r.policy_id for r in snapshot.rejected] == [1], "a row saved earlier is skipped"


@pytest.mark.parametrize("pattern", ACCEPTED_AND_FAST)
def test_usual_patterns_are_accepted_and_fast(pattern: str) -> None:
    assert guard_accepts(pattern)
    worst, origin = slowest_match(pattern, ("a", "a.", "a-", "ab-c."))
    assert worst < BUDGET, f"{worst:.3f} s on {origin!r}"


@pytest.mark.parametrize(("pattern", "pumps"), FORMER_BYPASSES)
def test_a_pattern_the_guard_accepts_is_fast(pattern: str, pumps: tuple[str, ...]) -> None:
    """Either the guard refuses the pattern, or no origin up to 300 characters is slow."""
    if guard_accepts(pattern):
        worst, origin = slowest_match(pattern, pumps)
        assert worst < BUDGET, f"{worst:.3f} s on {origin!r}"


ATOMS = ("a", "[a-z]", "[a-z.]", "[a-z0-9-]", r"\.", "-", ".", r"\w")
QUANTIFIERS = ("", "", "*", "+", "?", "{1,3}", "{2,}")


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


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(regexes())
def test_generated_patterns_the_guard_accepts_never_backtrack_exponentially(body: str) -> None:
    """On hosts of up to 40 characters an exponential pattern already takes seconds, while a
    polynomial one (the guard's known gap, pinned above) is still fast."""
    pattern = rf"https://{body}\.com"
    if guard_accepts(pattern):
        worst, origin = slowest_match(pattern, ("a", "a.", "a-"), longest=40)
        assert worst < BUDGET, f"{pattern!r}: {worst:.3f} s on {origin!r}"


@pytest.mark.django_db
def test_the_admin_model_refuses_a_catastrophic_regex() -> None:
    policy = CorsPolicy.objects.create(name="regex", path_prefix="/api/")
    origin = AllowedOrigin(policy=policy, kind="regex", value=r"https://([a-z]+)*\.example\.com")
    with pytest.raises(ValidationError, match="exponential time"):
        origin.full_clean()


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
