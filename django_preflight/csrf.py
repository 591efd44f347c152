"""Django's CSRF origin check, also trusting the origins a credentialed policy allows.

Put ``django_preflight.csrf.CsrfViewMiddleware`` in ``MIDDLEWARE`` instead of Django's. Only the
origin check changes: a request whose ``Origin`` Django does not trust (not the host itself,
not in ``CSRF_TRUSTED_ORIGINS``) passes it when a policy that allows credentials, and covers
the request's path (or is named by its view), allows that origin. The CSRF token is still
required. The decision comes from the process's policy snapshot: no query per request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest
from django.middleware.csrf import CsrfViewMiddleware as DjangoCsrfViewMiddleware

from . import conf, metrics
from .engine.decision import Outcome, RequestFacts
from .middleware import decide_request
from .store import store

if TYPE_CHECKING:
    _Base = DjangoCsrfViewMiddleware
else:
    _Base = object


def trusting_policy(request: HttpRequest) -> str | None:
    """The credentialed policy that allows the request's origin on its path, by name."""
    origin = request.META.get("HTTP_ORIGIN")
    if not origin:
        return None
    snapshot = store.current()
    if snapshot is None:
        return None  # no policies loaded yet: trust nothing beyond Django's own check
    facts = RequestFacts(request.method or "", request.path_info, origin)
    decision = decide_request(snapshot, facts, conf.get().MAX_REQUESTED_HEADERS)
    policy = decision.policy
    if decision.outcome is Outcome.ACTUAL_ALLOWED and policy is not None:
        # A credentialed policy never answers '*': it allowed this exact origin.
        return policy.name if policy.allow_credentials else None
    return None


class PolicyOriginsMixin(_Base):
    """Extends a CsrfViewMiddleware's origin check with the credentialed policies."""

    def _origin_verified(self, request: HttpRequest) -> bool:
        if super()._origin_verified(request):  # type: ignore[misc]
            return True
        policy = trusting_policy(request)
        if policy is None:
            return False
        metrics.count_csrf_trust(policy)
        return True


class CsrfViewMiddleware(PolicyOriginsMixin, DjangoCsrfViewMiddleware):
    """Drop-in replacement for ``django.middleware.csrf.CsrfViewMiddleware``."""
