"""The snapshot the engine decides from: every enabled policy, compiled and indexed.

Built once per configuration change; deciding a request then costs a few dictionary lookups
whatever the number of origins.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .bulk import collector_paused
from .compiler import CompiledPolicy, Invalid, compile_policy
from .index import OriginIndex, PathTier
from .problems import Problem
from .specs import PolicySpec
from .views import ViewPolicies


@dataclass(frozen=True, slots=True)
class Rejected:
    """A policy left out of a snapshot, and every problem that kept it out."""

    policy_id: int
    name: str
    problems: tuple[Problem, ...]

    @property
    def problem(self) -> str:
        """The problems as one line for a log or a terminal."""
        return " ".join(problem.message for problem in self.problems)


@dataclass(frozen=True, slots=True)
class PolicySet:
    """An immutable snapshot of every enabled policy, compiled.

    ``report_only`` holds the report-only policies as a set of their own: they are decided
    beside the enforced ones and never change a response. ``views`` holds the enforced
    policies by name, for views that name their own.
    """

    tiers: tuple[PathTier, ...] = ()
    rejected: tuple[Rejected, ...] = ()
    origin_count: int = 0
    report_only: PolicySet | None = None
    views: ViewPolicies = field(default_factory=ViewPolicies, compare=False)

    def tier_for(self, path: str) -> PathTier | None:
        """The tier with the longest prefix covering ``path``, if any."""
        for tier in self.tiers:
            if tier.covers(path):
                return tier
        return None

    @property
    def policies(self) -> tuple[CompiledPolicy, ...]:
        """Every compiled policy, most specific path first."""
        return tuple(p for tier in self.tiers for p in tier.policies)


def build_policy_set(specs: Iterable[PolicySpec]) -> PolicySet:
    """Compile every policy; an invalid policy is left out and reported, never fatal."""
    with collector_paused():
        return _build(specs)


def _build(specs: Iterable[PolicySpec]) -> PolicySet:
    enforced: list[CompiledPolicy] = []
    shadow: list[CompiledPolicy] = []
    rejected: list[Rejected] = []
    for spec in sorted(specs, key=lambda s: (s.name, s.id)):
        result = compile_policy(spec)
        if isinstance(result, Invalid):
            rejected.append(Rejected(spec.id, spec.name, result.problems))
        else:
            (shadow if result.report_only else enforced).append(result)
    compiled = _index(enforced)
    report_only = _index(shadow) if shadow else None
    return PolicySet(
        compiled.tiers, tuple(rejected), compiled.origin_count, report_only, compiled.views
    )


def _index(policies: Iterable[CompiledPolicy]) -> PolicySet:
    """Group compiled policies by path prefix, longest first, and file their origins.

    A views-only policy joins no tier: only the views naming it reach it.
    """
    grouped: dict[str, list[CompiledPolicy]] = {}
    views = ViewPolicies()
    origin_count = 0
    for policy in policies:
        views.add(policy)
        if policy.views_only:
            origin_count += len(policy.origins)
        else:
            grouped.setdefault(policy.base, []).append(policy)
    tiers = []
    for base in sorted(grouped, key=len, reverse=True):
        index = OriginIndex()
        for policy in grouped[base]:
            origin_count += len(policy.origins)
            index.add_all(policy, policy.origins)
        members = tuple(grouped[base])
        tiers.append(PathTier(base, index, members, any(p.enforce_on_server for p in members)))
    views.share(tiers)
    return PolicySet(tuple(tiers), (), origin_count, views=views)
