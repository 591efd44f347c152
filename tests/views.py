"""Views the tests call through the middleware: DRF behind authentication, and plain views."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from rest_framework import permissions, viewsets
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from django_preflight import drf
from django_preflight.decorators import cors_policy


class ItemViewSet(viewsets.ViewSet):
    """A resource behind TokenAuthentication + SessionAuthentication + IsAuthenticated."""

    def list(self, request: Request) -> Response:
        return Response([{"id": 1}])

    def update(self, request: Request, pk: str) -> Response:
        return Response({"id": pk, **request.data})


@api_view(["GET"])
@permission_classes([permissions.AllowAny])
def public(request: Request) -> Response:
    return Response({"status": "ok"})


def plain(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"method": request.method})


def unauthorized(request: HttpRequest) -> HttpResponse:
    return HttpResponse("no", status=401)


def crash(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("the view failed")


def own_cors(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("mine")
    response.headers["access-control-allow-origin"] = "https://chosen-by-view.example"
    response.headers["Vary"] = "Accept-Encoding"
    return response


def vary_origin(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("varies")
    response.headers["Vary"] = "origin, Cookie"
    return response


@cors_policy("webhooks")
def webhook(request: HttpRequest) -> HttpResponse:
    """Named by the decorator: decided by the 'webhooks' policy, whatever its path."""
    return JsonResponse({"received": True})


class UploadView(APIView):
    """Named by the class attribute, as a DRF view would."""

    cors_policy = "uploads"
    permission_classes = [permissions.AllowAny]

    def get(self, request: Request) -> Response:
        return Response({"uploaded": False})


def csrf_token(request: HttpRequest) -> HttpResponse:
    """Sets the CSRF cookie and returns the token, as an API's login endpoint would."""
    return JsonResponse({"csrfToken": get_token(request)})


def csrf_protected(request: HttpRequest) -> HttpResponse:
    """A write behind Django's CsrfViewMiddleware (whichever one the settings install)."""
    return JsonResponse({"method": request.method})


@api_view(["POST"])
@authentication_classes([drf.SessionAuthentication])
@permission_classes([permissions.IsAuthenticated])
def drf_session_write(request: Request) -> Response:
    """A write behind the policy-aware DRF session authentication."""
    return Response({"user": request.user.get_username()})


@api_view(["POST"])
@permission_classes([permissions.IsAuthenticated])
def drf_default_session_write(request: Request) -> Response:
    """The same write behind DRF's own SessionAuthentication (the settings' default)."""
    return Response({"user": request.user.get_username()})
