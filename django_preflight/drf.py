"""Django REST framework's session authentication with the policy-aware CSRF origin check.

Use ``django_preflight.drf.SessionAuthentication`` where DRF's would be, in
``DEFAULT_AUTHENTICATION_CLASSES`` or a view's ``authentication_classes``.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from .csrf import PolicyOriginsMixin


class CSRFCheck(PolicyOriginsMixin, authentication.CSRFCheck):
    """DRF's CSRF check (reasons returned, not rendered) with the credentialed policies."""


def _never_called(request: HttpRequest) -> HttpResponse:
    raise AssertionError("the CSRF check only inspects the request")


class SessionAuthentication(authentication.SessionAuthentication):
    """DRF's SessionAuthentication; its CSRF check also trusts credentialed policies' origins."""

    def enforce_csrf(self, request: Request) -> None:
        """Run the CSRF check as DRF does, with the policy-aware origin check."""
        check = CSRFCheck(_never_called)
        check.process_request(request)
        reason = check.process_view(request, None, (), {})  # type: ignore[arg-type]
        if reason:
            raise exceptions.PermissionDenied(f"CSRF Failed: {reason}")
