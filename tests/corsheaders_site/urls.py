"""The same DRF view under a CORS path, a refusing CORS path and a path without CORS."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework.authentication import BasicAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class Notes(APIView):
    """Answers every method with a small JSON body."""

    def get(self, request: Request, pk: int | None = None) -> Response:
        return Response({"pk": pk})

    put = patch = post = delete = get


class Private(Notes):
    """Needs a login: an anonymous call gets 401 with a WWW-Authenticate challenge."""

    authentication_classes = [BasicAuthentication]
    permission_classes = [IsAuthenticated]


class Boom(APIView):
    """Fails: Django's 500 page."""

    def get(self, request: Request) -> Response:
        raise RuntimeError("boom")


def account(request: HttpRequest) -> HttpResponse:
    """Sends the (always anonymous) caller to the login page, which has no CORS, as
    ``login_required`` does."""
    return redirect_to_login(request.get_full_path())


urlpatterns = [
    path("api/notes/", Notes.as_view()),
    path("api/notes/<int:pk>/", Notes.as_view()),
    path("api/private/", Private.as_view()),
    path("api/boom/", Boom.as_view()),
    path("api/account/", account),
    path("refuse/notes/", Notes.as_view()),
    path("refuse/notes/<int:pk>/", Notes.as_view()),
    path("plain/notes/", Notes.as_view()),
    path("plain/notes/<int:pk>/", Notes.as_view()),
]
