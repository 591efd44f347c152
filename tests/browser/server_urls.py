"""The example project's URLs plus the few views a browser case needs and the demo lacks."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path

from example_project.urls import urlpatterns as example_urlpatterns


class DeliberateError(Exception):
    """Raised by the failing view, so the server answers a genuine 500."""


def failing(request: HttpRequest) -> HttpResponse:
    """A view that crashes: the page must still read the 500, not a CORS error."""
    raise DeliberateError("a deliberate failure for the browser suite")


def with_headers(request: HttpRequest) -> HttpResponse:
    """Two custom response headers, only one of them exposed by the test's policy."""
    response = JsonResponse({"method": request.method})
    response["X-Total-Count"] = "42"
    response["X-Internal-Trace"] = "abc123"
    return response


def outside(request: HttpRequest) -> HttpResponse:
    """A path no policy covers: outside /api/."""
    return JsonResponse({"covered": False})


urlpatterns = [
    path("api/failing/", failing),
    path("api/headers/", with_headers),
    path("internal/ping/", outside),
    path("relay-async/", include("django_preflight.relay.urls_async", namespace="relay-async")),
    *example_urlpatterns,
]
