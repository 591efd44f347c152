"""The relay mounted behind a view that names its own CORS policy, as a project may mount it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseBase
from django.urls import include, path

from django_preflight.decorators import cors_policy
from django_preflight.relay.urls import patterns
from django_preflight.relay.views import relay

POLICY = "partners"


@cors_policy(POLICY)
def partners_relay(request: HttpRequest, slug: str, rest: str = "") -> HttpResponseBase:
    """The relay, decided by the partners' policy whatever covers its path."""
    return relay(request, slug, rest)


urlpatterns = [path("relay/", include((patterns(partners_relay), "preflight_relay")))]
