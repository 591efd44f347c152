"""Policy specs as JSON: the snapshot a process publishes for workers that start without a database.

Plain data only (never pickled objects), so a reader compiles the specs itself and a value
written by another version of the package is refused rather than trusted blindly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, fields
from typing import Any

from .specs import OriginKind, OriginSpec, PolicySpec

FORMAT = 2
_TUPLE_FIELDS = ("allowed_methods", "allowed_headers", "exposed_headers")
_FIELDS = frozenset(f.name for f in fields(PolicySpec))


def dumps(version: int, specs: Sequence[PolicySpec]) -> str:
    """The specs and the policy version they were loaded at, as one JSON document."""
    policies = []
    for spec in specs:
        data = asdict(spec)
        data["origins"] = [[o.kind.value, o.value, o.allow_public_suffix] for o in spec.origins]
        policies.append(data)
    return json.dumps({"format": FORMAT, "version": version, "policies": policies})


def loads(text: str) -> tuple[int, list[PolicySpec]]:
    """The version and specs of a document written by ``dumps``; ValueError if it is not one."""
    try:
        document = json.loads(text)
        if document.get("format") != FORMAT:
            raise ValueError(f"unknown snapshot format {document.get('format')!r}")
        specs = [_spec(entry) for entry in document["policies"]]
        return int(document["version"]), specs
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"malformed snapshot: {exc!r}") from exc


def _spec(entry: dict[str, Any]) -> PolicySpec:
    if set(entry) != _FIELDS:
        raise ValueError(f"snapshot fields differ: {sorted(set(entry) ^ _FIELDS)}")
    values = dict(entry)
    for name in _TUPLE_FIELDS:
        values[name] = tuple(str(item) for item in values[name])
    values["origins"] = tuple(
        OriginSpec(OriginKind(kind), str(value), bool(public_suffix))
        for kind, value, public_suffix in values["origins"]
    )
    return PolicySpec(**values)
