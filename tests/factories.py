"""factory-boy factories, one per model."""

from __future__ import annotations

import factory
from django.utils import timezone

from django_preflight.models import AllowedOrigin, CorsPolicy, RejectedPreflight


class CorsPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CorsPolicy
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"policy-{n}")
    path_prefix = "/api/"


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
