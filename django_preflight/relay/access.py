"""Who is calling: the user behind a relayed call, by session or by Django REST framework.

The relay's views are exempt from Django's CSRF middleware (a page on another origin cannot
read the CSRF cookie), so a caller authenticated by its session cookie must pass the CSRF check
here for unsafe methods, exactly as DRF's ``SessionAuthentication`` requires.
"""

from __future__ import annotations

from typing import Any, cast

from django.apps import apps
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware

from ..engine.decision import SAFE_METHODS


def _csrf_passes(request: HttpRequest) -> bool:
    check = CsrfViewMiddleware(lambda _: HttpResponse())
    check.process_request(request)
    return check.process_view(request, None, (), {}) is None  # type: ignore[arg-type]


def _session_user_id(request: HttpRequest) -> object | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    if request.method not in SAFE_METHODS and not _csrf_passes(request):
        return None
    pk: object = user.pk
    return pk


def _drf_user_id(request: HttpRequest) -> object | None:
    from rest_framework.exceptions import APIException
    from rest_framework.request import Request
    from rest_framework.settings import api_settings

    # DRF's settings import the dotted paths: these are classes, not the strings the stubs say.
    classes = cast(list[type[Any]], list(api_settings.DEFAULT_AUTHENTICATION_CLASSES))
    authenticators = [cls() for cls in classes]
    wrapped = Request(request, authenticators=authenticators)
    try:
        user = wrapped.user
    except APIException:
        return None
    return user.pk if user is not None and user.is_authenticated else None


def user_id(request: HttpRequest) -> object | None:
    """The caller's user id, or None for an anonymous caller (or a session without CSRF)."""
    if apps.is_installed("rest_framework"):
        return _drf_user_id(request)
    return _session_user_id(request)
