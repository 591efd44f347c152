"""The relay under WSGI: ``path("relay/", include("django_preflight.relay.urls"))``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import URLPattern, path

from .views import relay

app_name = "preflight_relay"


def patterns(view: Callable[..., Any]) -> list[URLPattern]:
    """``<slug>/`` and ``<slug>/<path>`` served by ``view``."""
    return [
        path("<slug:slug>/", view, name="relay"),
        path("<slug:slug>/<path:rest>", view, name="relay"),
    ]


urlpatterns = patterns(relay)
