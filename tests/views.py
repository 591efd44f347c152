"""Views the tests call through the middleware: DRF behind authentication, and plain views."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework import permissions, viewsets
from rest_framework.decorators import api_view, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response


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
