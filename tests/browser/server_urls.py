"""The example project's URLs plus the few views a browser case needs and the demo lacks."""

from __future__ import annotations

import json
import logging

from django.contrib.auth import authenticate, login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from rest_framework import permissions
from rest_framework.decorators import api_view, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response

from django_preflight.decorators import cors_policy
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


writes = logging.getLogger("tests.browser.writes")


@csrf_exempt
def session_login(request: HttpRequest) -> HttpResponse:
    """The frontend's sign-in: a session cookie, and the CSRF token for the page's writes.

    Exempt so that the CSRF cases can sign in whichever CSRF check the server runs; the writes
    below are what those cases judge.
    """
    data = json.loads(request.body)
    user = authenticate(request, username=data["username"], password=data["password"])
    if user is None:
        return JsonResponse({"detail": "bad credentials"}, status=400)
    login(request, user)
    return JsonResponse({"csrfToken": get_token(request)})


def session_write(request: HttpRequest) -> HttpResponse:
    """A cookie-authenticated write behind the server's CsrfViewMiddleware."""
    if request.method != "POST" or not request.user.is_authenticated:
        return JsonResponse({"detail": "sign in and POST"}, status=400)
    writes.warning("write by %s from %s", request.user, request.headers.get("Origin"))
    return JsonResponse({"user": request.user.get_username()})


@api_view(["POST"])
@permission_classes([permissions.IsAuthenticated])
def session_write_drf(request: Request) -> Response:
    """The same write through DRF, with the server's default session authentication."""
    writes.warning("write by %s from %s", request.user, request.headers.get("Origin"))
    return Response({"user": request.user.get_username()})


@cors_policy("webhooks")
@csrf_exempt
def webhook(request: HttpRequest) -> HttpResponse:
    """Names its own policy: open to any origin inside the credentialed API."""
    return JsonResponse({"received": request.method})


urlpatterns = [
    path("api/hooks/incoming/", webhook),
    path("api/hooks/neighbour/", outside),
    path("api/session/login/", session_login),
    path("api/session/write/", session_write),
    path("api/session/drf-write/", session_write_drf),
    path("api/failing/", failing),
    path("api/headers/", with_headers),
    path("internal/ping/", outside),
    path("relay-async/", include("django_preflight.relay.urls_async", namespace="relay-async")),
    *example_urlpatterns,
]
