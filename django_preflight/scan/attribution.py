"""Which of this project's policies and entries grant a finding's origin, with an admin link.

Used when the scan runs inside a project that has django-preflight: if the policies saved here
grant the same hostile origin on the same path, the finding names the policy and entry to
change. For another site the policies here grant nothing relevant and nothing is added.
"""

from __future__ import annotations

from dataclasses import replace

from django.db import DatabaseError
from django.urls import NoReverseMatch, reverse

from ..engine.index import Match
from ..engine.paths import request_path
from ..store import load_policy_set
from .findings import GRANT_CHECKS, Attribution, Finding


def attribute(findings: list[Finding]) -> list[Finding]:
    """The findings, those about a granted hostile origin naming the local policy and entry."""
    grant_ids = {check.id for check in GRANT_CHECKS.values()}
    if not any(f.id in grant_ids for f in findings):
        return findings
    try:
        policies = load_policy_set()
    except DatabaseError:
        return findings  # a project without django-preflight's tables: nothing to name
    result = []
    for finding in findings:
        attribution = None
        if finding.id in grant_ids:
            path = request_path(finding.evidence.url)
            tier = policies.tier_for(path)
            matched = tier.origins.match(finding.evidence.origin) if tier is not None else None
            if matched is not None:
                attribution = _entry(matched)
        result.append(replace(finding, attribution=attribution) if attribution else finding)
    return result


def _entry(matched: Match) -> Attribution:
    """The policy and the entry that grant the origin, as the snapshot matched them."""
    policy = matched.policy
    kind = matched.kind.value
    entry = f"{kind}: {matched.pattern}" if matched.pattern else kind
    try:
        admin_url = reverse("admin:django_preflight_corspolicy_change", args=[policy.id])
    except NoReverseMatch:
        admin_url = None
    return Attribution(policy.id, policy.name, entry, admin_url)
