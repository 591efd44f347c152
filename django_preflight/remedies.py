"""Turn audit rows into the exact policy changes that would allow what was refused.

Planning and applying are separate so the admin can show every change before saving any:
a remedy names the policy, the field and the value, or says why there is none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .engine import advice
from .engine.origins import OriginError, normalise_origin
from .models import AllowedOrigin, CorsPolicy, RejectedPreflight

Reason = RejectedPreflight.ReasonCode


@dataclass(frozen=True)
class Remedy:
    """One change to one policy, or the reason a row cannot be fixed from here."""

    row: RejectedPreflight
    policy: CorsPolicy | None
    field: str = ""
    value: str = ""
    problem: str = ""

    @property
    def applicable(self) -> bool:
        """True when there is a change to make."""
        return not self.problem

    def change_message(self) -> list[dict[str, Any]]:
        """The admin history entry for this change, in the form Django's own forms write."""
        if self.field == "origins":
            return [{"added": {"name": "allowed origin", "object": self.value}}]
        return [{"changed": {"fields": [self.field.replace("_", " ").capitalize()]}}]

    def describe(self) -> str:
        """One line for the confirmation page."""
        if self.problem:
            return self.problem
        assert self.policy is not None
        return advice.change(self.field, self.value, self.policy.name)


def plan(rows: Iterable[RejectedPreflight]) -> list[Remedy]:
    """The remedy for each row, without changing anything."""
    return [_plan_one(row) for row in rows]


def _plan_one(row: RejectedPreflight) -> Remedy:
    if row.is_overflow:
        return Remedy(row, None, problem=advice.no_change("overflow"))
    policy = row.policy
    if policy is None:
        return Remedy(row, None, problem=advice.no_change("no-policy", path=row.path))
    if row.reason == Reason.ORIGIN_NOT_ALLOWED:
        try:
            origin = normalise_origin(row.origin)
        except OriginError as exc:
            problem = advice.no_change("bad-origin", origin=row.origin, problem=str(exc))
            return Remedy(row, policy, problem=problem)
        return Remedy(row, policy, "origins", origin)
    if row.reason == Reason.METHOD_NOT_ALLOWED:
        return Remedy(row, policy, "allowed_methods", row.detail)
    if row.reason == Reason.HEADER_NOT_ALLOWED:
        return Remedy(row, policy, "allowed_headers", row.detail)
    if row.reason == Reason.PRIVATE_NETWORK_NOT_ALLOWED:
        return Remedy(row, policy, "allow_private_network", "true")
    return Remedy(row, policy, problem=advice.no_change("malformed"))


@transaction.atomic
def apply(remedies: Iterable[Remedy]) -> list[Remedy]:
    """Make every applicable change through validated saves; resolve the rows. Returns the
    remedies that changed something.

    Raises ValidationError (and changes nothing) if any change would make a policy invalid.
    A change already in place only resolves its row.
    """
    made: list[Remedy] = []
    for remedy in remedies:
        if not remedy.applicable:
            continue
        assert remedy.policy is not None
        policy = CorsPolicy.objects.select_for_update().get(pk=remedy.policy.pk)
        if remedy.field == "origins":
            origin = AllowedOrigin(policy=policy, value=remedy.value)
            origin.full_clean(validate_unique=False, validate_constraints=False)
            if not policy.origins.filter(kind=origin.kind, value=origin.value).exists():
                origin.save()
                made.append(remedy)
        elif remedy.field == "allow_private_network":
            if not policy.allow_private_network:
                policy.allow_private_network = True
                _save(policy)
                made.append(remedy)
        else:
            values = list(getattr(policy, remedy.field) or [])
            if remedy.value not in values:
                setattr(policy, remedy.field, [*values, remedy.value])
                _save(policy)
                made.append(remedy)
        RejectedPreflight.objects.filter(pk=remedy.row.pk).update(resolved_at=timezone.now())
    return made


def _save(policy: CorsPolicy) -> None:
    try:
        policy.full_clean()
    except ValidationError as exc:
        raise ValidationError(f"Policy “{policy.name}”: {'; '.join(exc.messages)}") from exc
    policy.save()
