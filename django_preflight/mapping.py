"""The one mapping between the models and the engine's ``PolicySpec``, both ways.

The store, the model validation, the importers, the benchmarks and the tests all turn rows into
specs (or specs into rows) through these functions, so a new policy field is mapped once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from django.db import transaction

from .engine.bulk import collector_paused
from .engine.specs import OriginKind, OriginSpec, PolicySpec

if TYPE_CHECKING:
    from .models import AllowedOrigin, CorsPolicy

TOKEN_FIELDS = ("allowed_methods", "allowed_headers", "exposed_headers")
PLAIN_FIELDS = (
    "path_prefix",
    "allow_credentials",
    "max_age",
    "allow_private_network",
    "report_only",
    "enforce_on_server",
    "views_only",
)
SPEC_FIELDS = (*PLAIN_FIELDS, *TOKEN_FIELDS)
"""The policy fields the engine reads, besides id, name and origins."""

BATCH_SIZE = 5_000
OriginPair = tuple[str, str, bool]
"""(kind, value, allow_public_suffix) as stored in an ``AllowedOrigin`` row."""
ORIGIN_COLUMNS = ("kind", "value", "allow_public_suffix")


def spec_from_values(values: Mapping[str, Any], origins: Iterable[OriginPair] = ()) -> PolicySpec:
    """A spec from a policy's field values (a ``values()`` row or a model's attributes)."""
    return _spec(values, tuple(_origin_spec(*pair) for pair in origins))


def _origin_spec(kind: str, value: str | None, opted_in: bool) -> OriginSpec:
    """One stored origin as the engine reads it, cheaply: a snapshot reads one per row. An
    unknown kind raises ValueError."""
    return _NEW_TUPLE(OriginSpec, (_KINDS.get(kind) or OriginKind(kind), value or "", opted_in))


_KINDS = {kind.value: kind for kind in OriginKind}
"""Kinds by stored value: a dictionary lookup, where ``OriginKind(kind)`` is a call per row."""
_NEW_TUPLE = tuple.__new__


def _spec(values: Mapping[str, Any], origins: tuple[OriginSpec, ...]) -> PolicySpec:
    fields: dict[str, Any] = {name: values[name] for name in PLAIN_FIELDS}
    fields.update({name: _names(values[name]) for name in TOKEN_FIELDS})
    return PolicySpec(
        id=values.get("id") or 0, name=values.get("name") or "", origins=origins, **fields
    )


def _names(value: Any) -> Any:
    """A stored list as a tuple; anything else (a string from a file) is left for the
    compiler to refuse, never split into characters."""
    return tuple(value) if isinstance(value, list | tuple) else value or ()


def origin_pairs(rows: Iterable[AllowedOrigin]) -> Iterator[OriginPair]:
    """Origin rows (saved or not) as the pairs ``policy_spec`` reads."""
    return ((row.kind, row.value, row.allow_public_suffix) for row in rows)


def policy_spec(policy: CorsPolicy, origins: Iterable[OriginPair] = ()) -> PolicySpec:
    """The spec of a policy instance as it stands (saved or not) with the given origins."""
    values = {name: getattr(policy, name) for name in ("id", "name", *SPEC_FIELDS)}
    return spec_from_values(values, origins)


def load_specs() -> list[PolicySpec]:
    """Every enabled policy with its origins, in two queries whatever their number."""
    from .models import AllowedOrigin, CorsPolicy

    origins: defaultdict[int, list[OriginSpec]] = defaultdict(list)
    rows = AllowedOrigin.objects.filter(policy__enabled=True).values_list(
        "policy_id", *ORIGIN_COLUMNS
    )
    with collector_paused():
        for policy_id, kind, value, opted_in in rows.iterator(chunk_size=10_000):
            origins[policy_id].append(_origin_spec(kind, value, opted_in))
    policies = CorsPolicy.objects.filter(enabled=True).values("id", "name", *SPEC_FIELDS)
    return [_spec(row, tuple(origins.get(row["id"], ()))) for row in policies]


def save_spec(spec: PolicySpec, *, validate: bool = True) -> CorsPolicy:
    """Write a spec as rows keeping its id (0: a new one), in one transaction.

    Validated as an admin save is unless ``validate`` is false (bulk data already known to be
    valid). Origins are inserted in bulk, which sends no signal, so the change is published
    explicitly once the transaction commits.
    """
    from .models import AllowedOrigin, CorsPolicy
    from .store import publish_change

    fields: dict[str, Any] = {name: getattr(spec, name) for name in PLAIN_FIELDS}
    fields.update({name: list(getattr(spec, name)) for name in TOKEN_FIELDS})
    with transaction.atomic():
        policy = CorsPolicy(id=spec.id or None, name=spec.name, **fields)
        if validate:
            policy.full_clean()
        policy.save()
        origins = [
            AllowedOrigin(
                policy=policy,
                kind=o.kind.value,
                value=o.value,
                allow_public_suffix=o.allow_public_suffix,
            )
            for o in spec.origins
        ]
        if validate:
            for origin in origins:
                origin.full_clean()
        AllowedOrigin.objects.bulk_create(origins, batch_size=BATCH_SIZE)
        transaction.on_commit(publish_change)
    return policy
