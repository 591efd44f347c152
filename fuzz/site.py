"""A minimal Django site for the middleware share of the fuzz run.

``CheckingMiddleware`` sits outside ``PreflightMiddleware``: it reads the same request facts,
lets the request through, then judges the answer against the engine's decision on the same
snapshot, so every request through the full stack is checked where it happens.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import re_path

from django_preflight import conf
from django_preflight.engine.decision import Outcome, decide
from django_preflight.middleware import request_facts
from django_preflight.store import store
from fuzz.invariants import header_problems

GRANTED = (Outcome.PREFLIGHT_ALLOWED, Outcome.ACTUAL_ALLOWED)


def settings_for(database: str) -> dict[str, Any]:
    """Settings with the audit on and bounded small, so the run shows the bounds hold."""
    return {
        "SECRET_KEY": "fuzz-only",
        "DEBUG": False,
        "ALLOWED_HOSTS": ["*"],
        "USE_TZ": True,
        "ROOT_URLCONF": "fuzz.site",
        "INSTALLED_APPS": ["django.contrib.contenttypes", "django_preflight"],
        "MIDDLEWARE": [
            "fuzz.site.CheckingMiddleware",
            "django_preflight.middleware.PreflightMiddleware",
        ],
        "DATABASES": {
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": database,
                # The audit's flusher thread writes while requests read and policies change.
                "OPTIONS": {
                    "timeout": 60,
                    "init_command": "PRAGMA journal_mode=WAL;",
                    "transaction_mode": "IMMEDIATE",
                },
            }
        },
        "CACHES": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "PREFLIGHT_REFRESH_INTERVAL": 0.0,
        "PREFLIGHT_AUDIT_MAX_ROWS": 500,
        "PREFLIGHT_AUDIT_BUFFER_SIZE": 1000,
        "PREFLIGHT_AUDIT_FLUSH_INTERVAL": 1.0,
        "LOGGING": {
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {"count": {"class": "fuzz.site.CountingHandler"}},
            "loggers": {
                "django_preflight": {"handlers": ["count"], "propagate": False},
                "django.request": {"handlers": ["count"], "propagate": False},
            },
        },
    }


class CountingHandler(logging.Handler):
    """Counts log records instead of printing a flood of refusal lines."""

    counts: Counter[str] = Counter()
    examples: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        key = f"{record.name} {record.levelname}"
        CountingHandler.counts[key] += 1
        CountingHandler.examples.setdefault(key, record.getMessage()[:200])


class CheckingMiddleware:
    """Judges each answer of the middleware below against the engine."""

    problems: Counter[str] = Counter()
    examples: dict[str, str] = {}
    outcomes: Counter[str] = Counter()

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        facts = request_facts(request)
        response = self.get_response(request)
        decision = decide(store.loaded(), facts, conf.get().MAX_REQUESTED_HEADERS)
        CheckingMiddleware.outcomes[decision.outcome.value] += 1
        granted = decision.outcome in GRANTED
        found = header_problems(response.items(), facts.origin, granted=granted)
        if facts.is_preflight:
            expected = 204 if granted else conf.get().REFUSED_STATUS
            if response.status_code != expected:
                found.append(f"preflight status {response.status_code}, expected {expected}")
        sent = {name.lower(): value for name, value in response.items()}
        for name, value in decision.headers if granted else ():
            if sent.get(name.lower()) != value:
                found.append(f"{name} differs from the engine's decision")
        for problem in found:
            CheckingMiddleware.problems[problem] += 1
            CheckingMiddleware.examples.setdefault(problem, repr(facts)[:300])
        return response


def ok(request: HttpRequest) -> HttpResponse:
    """Every path answers, so real requests reach a view."""
    return HttpResponse("ok")


urlpatterns = [re_path(r"", ok)]
