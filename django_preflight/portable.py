"""Policies as code: export every policy to JSON, and apply such a file atomically.

A file is validated in full before anything is written; applying it is one transaction, so an
invalid file changes nothing. Policies are matched by name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db import transaction

from .engine.compiler import Invalid, compile_policy
from .engine.problems import Problem
from .mapping import origin_pairs, policy_spec
from .models import AllowedOrigin, CorsPolicy

FORMAT = "django-preflight/1"
POLICY_FIELDS = (
    "description",
    "enabled",
    "path_prefix",
    "allow_credentials",
    "allowed_methods",
    "allowed_headers",
    "exposed_headers",
    "max_age",
    "allow_private_network",
    "report_only",
    "enforce_on_server",
    "views_only",
)
ORIGIN_FLAGS = ("allow_public_suffix",)
MAX_FILE_BYTES = 50 * 1024 * 1024


class ImportFileError(ValueError):
    """The file cannot be applied; the message says where and why."""


def export_policies() -> dict[str, Any]:
    """Every policy with its origins, in a stable order so diffs in version control stay small."""
    policies = []
    for policy in CorsPolicy.objects.order_by("name").prefetch_related("origins"):
        entry: dict[str, Any] = {"name": policy.name}
        entry.update({name: getattr(policy, name) for name in POLICY_FIELDS})
        entry["origins"] = [
            _export_origin(o) for o in sorted(policy.origins.all(), key=lambda o: (o.kind, o.value))
        ]
        policies.append(entry)
    return {"format": FORMAT, "policies": policies}


def _export_origin(origin: AllowedOrigin) -> dict[str, Any]:
    """The opt-in is written only where it is set, so files without one stay as they were."""
    item: dict[str, Any] = {"kind": origin.kind, "value": origin.value, "note": origin.note}
    if origin.allow_public_suffix:
        item["allow_public_suffix"] = True
    return item


PlanAction = Literal["create", "update", "delete", "unchanged"]


@dataclass(frozen=True)
class PolicyPlan:
    """What applying the file does to one policy: a value, computed before anything is written."""

    name: str
    action: PlanAction
    changed_fields: tuple[str, ...] = ()
    added_origins: tuple[str, ...] = ()
    removed_origins: tuple[str, ...] = ()


@dataclass
class ImportPlan:
    """The whole change, computed before anything is written."""

    policies: list[tuple[CorsPolicy, list[AllowedOrigin]]]
    changes: list[PolicyPlan]
    warnings: list[str] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        """Whether applying the plan would write anything."""
        return any(change.action != "unchanged" for change in self.changes)

    def describe(self) -> list[str]:
        """One line per change, for ``--dry-run`` and for the log of a real run."""
        lines = []
        for change in self.changes:
            if change.action == "unchanged":
                continue
            parts = [f"{change.action} policy '{change.name}'"]
            if change.changed_fields:
                parts.append("fields: " + ", ".join(change.changed_fields))
            if change.added_origins:
                parts.append("+ " + ", ".join(change.added_origins))
            if change.removed_origins:
                parts.append("- " + ", ".join(change.removed_origins))
            lines.append("; ".join(parts))
        return lines or ["No change."]


def parse(text: str) -> dict[str, Any]:
    """Read a file's JSON and check its outer shape."""
    if len(text.encode()) > MAX_FILE_BYTES:
        raise ImportFileError(f"The file is larger than {MAX_FILE_BYTES} bytes.")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFileError(f"Not valid JSON: {exc}.") from exc
    return check_shape(data)


def check_shape(data: Any) -> dict[str, Any]:
    """Check the outer shape of an exported document, from a file or from the settings."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ImportFileError(f"Not a django-preflight file: expected format '{FORMAT}'.")
    if not isinstance(data.get("policies"), list):
        raise ImportFileError("'policies' must be a list.")
    return data


def plan_import(data: dict[str, Any], *, prune: bool = False) -> ImportPlan:
    """Validate every policy and origin of ``data`` and compute the change; writes nothing.

    Every problem of every policy is reported in one error, so one run shows all there is to fix.
    """
    existing = {p.name: p for p in CorsPolicy.objects.prefetch_related("origins")}
    built: list[tuple[CorsPolicy, list[AllowedOrigin]]] = []
    changes: list[PolicyPlan] = []
    problems: list[str] = []
    for where, entry in _entries(data):
        policy = existing.get(entry["name"]) or CorsPolicy(name=entry["name"])
        before = None if policy.pk is None else _snapshot(policy)
        origins, found = _fill(policy, entry, where)
        if found:
            problems.extend(found)
            continue
        built.append((policy, origins))
        changes.append(_compare(before, policy, origins))
    if problems:
        raise ImportFileError("\n".join(problems))
    if prune:
        seen = {policy.name for policy, _ in built}
        changes.extend(PolicyPlan(name, "delete") for name in sorted(set(existing) - seen))
    warnings = [
        f"policy '{policy.name}', origin {origin.value}: {origin.warning}"
        for policy, origins in built
        for origin in origins
        if origin.kind in (AllowedOrigin.Kind.SUBDOMAIN, AllowedOrigin.Kind.REGEX)
        and origin.warning
    ]
    return ImportPlan(built, changes, warnings)


def validate_document(data: dict[str, Any]) -> None:
    """Validate every policy and origin of ``data`` as ``plan_import`` does, without the
    database: what a system check may do. Every problem is reported in one error."""
    problems = [
        problem
        for where, entry in _entries(data)
        for problem in _fill(CorsPolicy(name=entry["name"]), entry, where)[1]
    ]
    if problems:
        raise ImportFileError("\n".join(problems))


def _entries(data: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Each policy entry with its position, once its name and field names are checked."""
    seen: set[str] = set()
    entries = []
    for index, entry in enumerate(data["policies"]):
        where = f"policies[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ImportFileError(f"{where}: each policy is an object with a 'name'.")
        name = entry["name"]
        if name in seen:
            raise ImportFileError(f"{where}: policy '{name}' appears twice.")
        seen.add(name)
        unknown = set(entry) - {"name", "origins", *POLICY_FIELDS}
        if unknown:
            raise ImportFileError(f"{where}: unknown fields {', '.join(sorted(unknown))}.")
        entries.append((where, entry))
    return entries


def _fill(
    policy: CorsPolicy, entry: dict[str, Any], where: str
) -> tuple[list[AllowedOrigin], list[str]]:
    """Set the entry's fields on ``policy`` (defaults for those left out) and validate it:
    its origins and every problem found, each naming where it is."""
    defaults = CorsPolicy(name=policy.name)
    for attr in POLICY_FIELDS:
        setattr(policy, attr, entry.get(attr, getattr(defaults, attr)))
    origins = _origins(entry.get("origins", []), policy, where)
    found = _validate(policy, origins)
    return origins, [f"{where}{part} ('{policy.name}'): {problem}" for part, problem in found]


def _origins(raw: Any, policy: CorsPolicy, where: str) -> list[AllowedOrigin]:
    if not isinstance(raw, list):
        raise ImportFileError(f"{where}.origins must be a list.")
    origins = []
    for position, item in enumerate(raw):
        if not isinstance(item, dict) or set(item) - {"kind", "value", "note", *ORIGIN_FLAGS}:
            raise ImportFileError(
                f"{where}.origins[{position}]: an origin is an object with kind, value, note "
                "and, for a public-suffix wildcard, allow_public_suffix."
            )
        if not all(isinstance(item.get(flag, False), bool) for flag in ORIGIN_FLAGS):
            raise ImportFileError(
                f"{where}.origins[{position}]: allow_public_suffix is true or false."
            )
        origins.append(
            AllowedOrigin(
                kind=item.get("kind", AllowedOrigin.Kind.EXACT),
                value=item.get("value", ""),
                note=item.get("note", ""),
                allow_public_suffix=item.get("allow_public_suffix", False),
            )
        )
    return origins


def _validate(policy: CorsPolicy, origins: list[AllowedOrigin]) -> list[tuple[str, str]]:
    """Every problem of one policy as (where in the policy, what): the fields' types first,
    then, when those are sound, everything the compiler finds.

    Entries are stored in the canonical form the compiler gives them.
    """
    found = []
    policy.decode_path_prefix()
    try:
        policy.clean_fields(exclude=["name"])
    except ValidationError as exc:
        found.append(("", _flatten(exc)))
    for position, origin in enumerate(origins):
        origin.policy = policy
        try:
            origin.clean_fields(exclude=["policy"])
        except ValidationError as exc:
            found.append((f".origins[{position}]", _flatten(exc)))
    if found:
        return found
    result = compile_policy(policy_spec(policy, origin_pairs(origins)))
    if isinstance(result, Invalid):
        return [_describe(problem) for problem in result.problems]
    for origin, compiled in zip(origins, result.origins, strict=True):
        origin.value = compiled.text
    return []


def _describe(problem: Problem) -> tuple[str, str]:
    if problem.index is not None:
        return f".origins[{problem.index}]", f"{problem.message} [{problem.code.value}]"
    return "", f"{problem.field}: {problem.message} [{problem.code.value}]"


def _flatten(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
    return " ".join(exc.messages)


def _label(origin: AllowedOrigin) -> str:
    return origin.value or f"({origin.kind})"


Snapshot = tuple[dict[str, Any], dict[tuple[str, str], AllowedOrigin]]


def _snapshot(policy: CorsPolicy) -> Snapshot:
    """A saved policy's fields and origins, before the file's values are set on it."""
    fields = {attr: getattr(policy, attr) for attr in POLICY_FIELDS}
    return fields, {(o.kind, o.value): o for o in policy.origins.all()}


def _compare(
    before: Snapshot | None, policy: CorsPolicy, origins: list[AllowedOrigin]
) -> PolicyPlan:
    wanted = {(o.kind, o.value): o for o in origins}
    if before is None:
        return PolicyPlan(policy.name, "create", (), tuple(_label(o) for o in origins))
    fields, had = before
    changed = [a for a in POLICY_FIELDS if fields[a] != getattr(policy, a)]
    changed += [
        f"{attr} of {_label(o)}"
        for k, o in wanted.items()
        if k in had
        for attr in ("note", "allow_public_suffix")
        if getattr(had[k], attr) != getattr(o, attr)
    ]
    added = [_label(wanted[k]) for k in wanted if k not in had]
    removed = [_label(had[k]) for k in had if k not in wanted]
    action: PlanAction = "update" if changed or added or removed else "unchanged"
    return PolicyPlan(policy.name, action, tuple(changed), tuple(added), tuple(removed))


@transaction.atomic
def apply_import(plan: ImportPlan) -> None:
    """Write the planned state in one transaction; an unchanged policy is not written at all."""
    # ``changes`` lists the policies in the same order, then any deletion.
    for (policy, origins), change in zip(plan.policies, plan.changes, strict=False):
        if change.action == "unchanged":
            continue
        policy.save()
        wanted = {(o.kind, o.value) for o in origins}
        for stale in policy.origins.all():
            if (stale.kind, stale.value) not in wanted:
                stale.delete()
        have = {(o.kind, o.value): o for o in policy.origins.all()}
        for origin in origins:
            existing = have.get((origin.kind, origin.value))
            if existing is None:
                origin.policy = policy
                origin.save()
            elif (existing.note, existing.allow_public_suffix) != (
                origin.note,
                origin.allow_public_suffix,
            ):
                existing.note = origin.note
                existing.allow_public_suffix = origin.allow_public_suffix
                existing.save(update_fields=["note", "allow_public_suffix"])
    doomed = [c.name for c in plan.changes if c.action == "delete"]
    for policy in CorsPolicy.objects.filter(name__in=doomed):
        policy.delete()
