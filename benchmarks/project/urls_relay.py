"""The relay, sync and async, side by side."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("relay/", include("django_preflight.relay.urls")),
    path("relay-async/", include("django_preflight.relay.urls_async", namespace="relay-async")),
]
