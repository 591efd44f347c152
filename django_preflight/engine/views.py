"""Policies looked up by name, for views that name their own policy.

A view's policy replaces the path prefixes for that view's requests, so each named policy is
decided as a tier of its own, covering whatever path the view is routed at. A policy that is
alone on its path prefix reuses that tier's lookup tables; any other is indexed on first use,
so a snapshot costs nothing more to build when no view names a policy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .compiler import CompiledPolicy
from .index import OriginIndex, PathTier

if TYPE_CHECKING:
    from .policy import PolicySet


class ViewPolicies:
    """Every compiled policy of one snapshot by name, with its tier built on first use."""

    __slots__ = ("_sources", "_tiers", "views_only")

    def __init__(self) -> None:
        self._sources: dict[str, CompiledPolicy] = {}
        self._tiers: dict[str, PathTier] = {}
        self.views_only: frozenset[str] = frozenset()

    def add(self, policy: CompiledPolicy) -> None:
        """Make ``policy`` nameable; a views-only policy covers no path of its own."""
        self._sources[policy.name] = policy
        if policy.views_only:
            self.views_only = self.views_only | {policy.name}

    def share(self, tiers: list[PathTier]) -> None:
        """Reuse the lookup tables of every policy that is alone on its path prefix."""
        for tier in tiers:
            if len(tier.policies) == 1:
                policy = tier.policies[0]
                self._tiers[policy.name] = PathTier(
                    "", tier.origins, tier.policies, tier.enforce_on_server
                )

    def tier(self, name: str) -> PathTier | None:
        """The tier deciding for a view that names ``name``; None when no such policy is enabled.

        Two threads may build the same tier at once; both build the same value, so either wins.
        """
        tier = self._tiers.get(name)
        if tier is not None:
            return tier
        policy = self._sources.get(name)
        if policy is None:
            return None
        index = OriginIndex()
        index.add_all(policy, policy.origins)
        tier = PathTier("", index, (policy,), policy.enforce_on_server)
        self._tiers[name] = tier
        return tier

    def __contains__(self, name: object) -> bool:
        return name in self._sources

    def __len__(self) -> int:
        return len(self._sources)


def for_view(policies: PolicySet, name: str) -> PolicySet:
    """A snapshot in which the policy ``name`` alone covers every path, as it does for the
    views naming it; empty when no enabled policy has that name. For explaining a call."""
    from .policy import PolicySet

    tier = policies.views.tier(name)
    return PolicySet(tiers=(tier,) if tier is not None else (), views=policies.views)
