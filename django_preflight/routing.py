"""Which policy a request's view names, found by resolving its path once per path.

Preflights never reach the view, so the middleware resolves the path itself. The answer (a
policy name, or None) depends only on the URLconf, never on the policies, so it is cached per
URLconf and path in a bounded LRU that a URLconf change clears; the policy itself is looked up
by name in the current snapshot on each request.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404

from .decorators import policy_of
from .engine.browser import CorsRequest
from .engine.diagnose import Diagnosis, diagnose
from .engine.paths import request_path
from .engine.policy import PolicySet
from .engine.views import for_view

CACHE_SIZE = 4096
MAX_CACHED_PATH = 512


def view_policy(path: str) -> str | None:
    """The policy named by the view ``path`` routes to, if any. Steady state: one LRU hit.

    A URLconf in which no view names a policy is never resolved against, so such a project
    pays nothing, even for paths it has never seen.
    """
    urlconf = getattr(settings, "ROOT_URLCONF", None)
    if not _names_policies(urlconf):
        return None
    if len(path) > MAX_CACHED_PATH:
        # Resolved like Django routes it, but kept out of the cache so that long, made-up
        # paths cannot make it hold much.
        return _resolve(urlconf, path)
    return _cached(urlconf, path)


def _resolve(urlconf: Any, path: str) -> str | None:
    try:
        match = resolve(path, urlconf)
    except Resolver404:
        return None
    return policy_of(match.func)


_cached = lru_cache(maxsize=CACHE_SIZE)(_resolve)


@lru_cache(maxsize=16)
def _names_policies(urlconf: Any) -> bool:
    return any(policy_of(view) is not None for _, view in _walk(_patterns(urlconf), "/"))


def _patterns(urlconf: Any) -> Sequence[Any]:
    patterns: Sequence[Any] = get_resolver(urlconf).url_patterns
    return patterns


@receiver(setting_changed)
def _clear(*, setting: str, **kwargs: Any) -> None:
    if setting == "ROOT_URLCONF":
        clear()


def clear() -> None:
    """Forget every resolution: after URL patterns change at run time (tests, reloads)."""
    _cached.cache_clear()
    _names_policies.cache_clear()


def describe(path: str) -> tuple[str, str] | None:
    """The policy named by the view ``path`` routes to and that view's label, for people."""
    try:
        match = resolve(path, getattr(settings, "ROOT_URLCONF", None))
    except Resolver404:
        return None
    name = policy_of(match.func)
    return None if name is None else (name, f"/{match.route} ({_label(match.func)})")


def views_by_policy() -> dict[str, list[str]]:
    """Every routed view that names a policy, as 'route (module.view)', by policy name."""
    found: dict[str, list[str]] = {}
    for route, view in _walk(_patterns(getattr(settings, "ROOT_URLCONF", None)), "/"):
        name = policy_of(view)
        if name is not None:
            found.setdefault(name, []).append(f"{route} ({_label(view)})")
    return found


def _walk(patterns: Sequence[Any], prefix: str) -> Iterator[tuple[str, Any]]:
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route, entry.callback


def _label(view: Any) -> str:
    target = getattr(view, "view_class", None) or getattr(view, "cls", None) or view
    return f"{target.__module__}.{target.__qualname__}"


def diagnose_call(policies: PolicySet, request: CorsRequest, refused_status: int) -> Diagnosis:
    """``diagnose``, with the policy the called view names deciding alone, as it does live."""
    view = describe(request_path(request.url))
    if view is None:
        return diagnose(policies, request, refused_status)
    name, label = view
    narrowed = for_view(policies, name)
    result = diagnose(narrowed, request, refused_status)
    state = "" if narrowed.tiers else ", which is not an enabled policy: nothing covers it"
    return replace(
        result,
        covered_by=f"view {label}, which names policy '{name}'{state} "
        "(a view's policy takes precedence over path prefixes)",
    )
