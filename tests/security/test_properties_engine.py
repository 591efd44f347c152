"""Property tests of the engine: any policy set, any request, never an unsafe answer."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django_preflight.engine import PolicySpec, build_policy_set
from django_preflight.engine.decision import Outcome, RequestFacts, decide
from fuzz.invariants import decision_problems, enforced_specs

from .strategies import policy_sets, scenarios

pytestmark = pytest.mark.properties

ENGINE_SETTINGS = settings(
    max_examples=200,
    deadline=500,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@ENGINE_SETTINGS
@given(scenarios())
def test_decisions_are_safe(scenario: tuple[list[PolicySpec], RequestFacts]) -> None:
    specs, facts = scenario
    policies = build_policy_set(specs)
    decision = decide(policies, facts)
    assert decision_problems(enforced_specs(specs, policies), facts, decision) == []
    assert decide(policies, facts) == decision, "the same facts always decide the same"
    if decision.outcome is Outcome.PREFLIGHT_ALLOWED:
        assert decision.policy is not None
        headers = dict(decision.headers)
        if decision.policy.allow_credentials:
            assert headers["Access-Control-Allow-Origin"] == facts.origin
            assert headers["Access-Control-Allow-Credentials"] == "true"
        else:
            assert "Access-Control-Allow-Credentials" not in headers


@ENGINE_SETTINGS
@given(
    policy_sets(),
    st.text(max_size=60),
    st.text(max_size=60),
    st.one_of(st.none(), st.text(max_size=80)),
    st.one_of(st.none(), st.text(max_size=80)),
    st.one_of(st.none(), st.text(max_size=80)),
    st.booleans(),
)
def test_arbitrary_text_in_every_field_is_safe(
    specs: list[PolicySpec],
    method: str,
    path: str,
    origin: str | None,
    request_method: str | None,
    request_headers: str | None,
    private_network: bool,
) -> None:
    policies = build_policy_set(specs)
    facts = RequestFacts(method, path, origin, request_method, request_headers, private_network)
    decision = decide(policies, facts)
    assert decision_problems(enforced_specs(specs, policies), facts, decision) == []
