"""The view behind every stack: small, so the CORS layer's share of the time stays visible."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse


def notes(request: HttpRequest) -> HttpResponse:
    """A constant JSON body, as a trivial API endpoint answers."""
    return JsonResponse({"notes": []})
