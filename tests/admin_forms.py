"""The policy page as a browser posts it: the one form builder of the admin tests."""

from __future__ import annotations

from typing import Any

from django_preflight.models import CorsPolicy


def policy_form(
    policy: CorsPolicy | None = None,
    *,
    origins: tuple[tuple[str, str], ...] = (),
    **fields: str | None,
) -> dict[str, Any]:
    """A complete POST of the policy page: its fields, its saved origins, then new origins.

    Without a policy the fields are a new policy's; a field given as None is left out of the
    POST, as a browser leaves out an unticked box.
    """
    existing = list(policy.origins.order_by("kind", "value")) if policy else []
    data: dict[str, Any] = {
        "name": policy.name if policy else "web",
        "description": "",
        "enabled": "on",
        "path_prefix": policy.path_prefix if policy else "/api/",
        "allowed_methods": ", ".join(policy.allowed_methods) if policy else "GET, POST",
        "allowed_headers": ", ".join(policy.allowed_headers) if policy else "content-type",
        "exposed_headers": "",
        "max_age": str(policy.max_age) if policy and policy.max_age is not None else "600",
        "origins-TOTAL_FORMS": str(len(existing) + len(origins)),
        "origins-INITIAL_FORMS": str(len(existing)),
        "origins-MIN_NUM_FORMS": "0",
        "origins-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    for index, origin in enumerate(existing):
        data |= {
            f"origins-{index}-id": str(origin.pk),
            f"origins-{index}-policy": str(origin.policy_id),
            f"origins-{index}-kind": origin.kind,
            f"origins-{index}-value": origin.value,
            f"origins-{index}-note": origin.note,
        }
    for index, (kind, value) in enumerate(origins, start=len(existing)):
        data |= {
            f"origins-{index}-kind": kind,
            f"origins-{index}-value": value,
            f"origins-{index}-note": "",
        }
    for name, value in fields.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data
