"""One JSON endpoint, as an API would have."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import path


def data(request: HttpRequest) -> JsonResponse:
    """Something a user would not want another site to read."""
    return JsonResponse({"email": "user@example.com"})


urlpatterns = [path("api/data/", data)]
