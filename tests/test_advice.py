"""Every failure the browser model can report has a sentence, and every cause a fix."""

from __future__ import annotations

import pytest

from django_preflight.engine.advice import Cause, advise, fix_for, refusal
from django_preflight.engine.browser import CHROMIUM, Check, Failure, Stage, sentence
from django_preflight.engine.decision import Reason
from django_preflight.scan.findings import (
    PREFLIGHT_AUTH,
    PREFLIGHT_REDIRECT,
    WILDCARD_WITH_CREDENTIALS,
)

PARAMS = {
    name: "X"
    for name in [
        "origin",
        "url",
        "value",
        "kind",
        "status",
        "location",
        "page",
        "target",
        "method",
        "upper",
        "header",
        "policy",
        "detail",
    ]
}


@pytest.mark.parametrize("cause", list(Cause))
def test_every_cause_has_a_cause_and_a_fix(cause: Cause) -> None:
    advice = advise(cause.value, **PARAMS)
    assert advice.code == cause.value
    assert advice.cause.endswith(".")
    assert advice.fix.endswith(".")
    assert "{" not in advice.cause + advice.fix


@pytest.mark.parametrize(
    "reason", [r for r in Reason if r not in (Reason.ALLOWED, Reason.NO_ORIGIN)]
)
def test_every_refusal_names_the_policy(reason: Reason) -> None:
    advice = refusal(reason, "PUT", "https://app.example", "frontend")
    assert advice.code == reason.value
    assert "{" not in advice.cause + advice.fix


def test_every_check_has_chromium_s_sentence() -> None:
    assert set(CHROMIUM) == set(Check)


def test_method_and_header_failures_carry_no_preflight_prefix() -> None:
    method = sentence(Failure(Check.METHOD_NOT_ALLOWED, Stage.PREFLIGHT, "PUT"))
    assert (
        method == "Method PUT is not allowed by Access-Control-Allow-Methods in preflight response."
    )
    origin = sentence(Failure(Check.ALLOW_ORIGIN_MISSING, Stage.PREFLIGHT))
    assert origin.startswith("Response to preflight request doesn't pass access control check: ")


def test_the_scan_states_the_fixes_the_probe_gives_for_the_same_causes() -> None:
    params = {"kind": "preflight", "status": "401", "location": "/login/"}
    for check, cause in (
        (PREFLIGHT_AUTH, Cause.PREFLIGHT_AUTH),
        (PREFLIGHT_REDIRECT, Cause.PREFLIGHT_REDIRECTED),
        (WILDCARD_WITH_CREDENTIALS, Cause.WILDCARD_WITH_CREDENTIALS),
    ):
        assert check.fix.startswith(advise(cause.value, **params).fix)
    assert "from an allowlist" in WILDCARD_WITH_CREDENTIALS.fix


def test_a_fix_that_names_the_call_s_values_cannot_be_stated_on_its_own() -> None:
    with pytest.raises(ValueError, match="redirect-target-without-cors"):
        fix_for(Cause.REDIRECT_TARGET_WITHOUT_CORS)
