"""factory-boy factories, one per model."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import factory
from django.db import transaction
from django.utils import timezone

from django_preflight.models import AllowedOrigin, CorsPolicy, RejectedPreflight
from django_preflight.store import publish_change


class CorsPolicyFactory(factory.django.DjangoModelFactory):
    """The one policy builder: a validated policy, with its origins when given.

    ``origins`` takes exact origins as strings or (kind, value) pairs; each is validated as an
    admin save would and inserted in one query, and the change is published once committed.
    ``CorsPolicyFactory.build()`` gives an unsaved policy, which ``mapping.policy_spec`` turns
    into the engine's input.
    """

    class Meta:
        model = CorsPolicy
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"policy-{n}")
    path_prefix = "/api/"

    @classmethod
    def _create(cls, model_class: type[CorsPolicy], *args: Any, **kwargs: Any) -> CorsPolicy:
        policy = model_class(*args, **kwargs)
        policy.full_clean()
        policy.save()
        return policy

    @factory.post_generation
    def origins(
        self: CorsPolicy, create: bool, extracted: Iterable[str | tuple[str, str]] | None
    ) -> None:
        if not create or not extracted:
            return
        rows = []
        for entry in extracted:
            kind, value = (AllowedOrigin.Kind.EXACT, entry) if isinstance(entry, str) else entry
            row = AllowedOrigin(policy=self, kind=kind, value=value)
            row.full_clean()
            rows.append(row)
        AllowedOrigin.objects.bulk_create(rows)
        transaction.on_commit(publish_change)


class AllowedOriginFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AllowedOrigin

    policy = factory.SubFactory(CorsPolicyFactory)
    kind = AllowedOrigin.Kind.EXACT
    value = factory.Sequence(lambda n: f"https://app{n}.example.com")


class RejectedPreflightFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RejectedPreflight

    fingerprint = factory.Sequence(lambda n: f"{n:064x}")
    origin = "https://blocked.example.net"
    path = "/api/items/"
    request_method = "PUT"
    request_headers = "content-type"
    reason = RejectedPreflight.ReasonCode.ORIGIN_NOT_ALLOWED
    count = 1
    first_seen = factory.LazyFunction(timezone.now)
    last_seen = factory.LazyFunction(timezone.now)
