"""Routes for the path-rule tests: each view lives under the prefix of the policy meant for it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path


def view(name: str) -> object:
    """A view that says its name, so a test sees which one Django routed to."""

    def answer(request: HttpRequest, **kwargs: object) -> HttpResponse:
        return HttpResponse(name, content_type="text/plain")

    answer.__name__ = name
    return answer


urlpatterns = [
    path("api/private/", view("private"), name="private"),
    path("api/private/<path:rest>", view("private"), name="private-rest"),
    path("api/public/", view("public"), name="public"),
    path("api/public/<path:rest>", view("public"), name="public-rest"),
    path("api/items/<int:pk>/", view("api"), name="api-item"),
    path("api/", view("api"), name="api"),
]
