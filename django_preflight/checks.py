"""System checks: the middleware's place in MIDDLEWARE, and every setting's value."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core import checks

from . import conf

MIDDLEWARE_PATH = "django_preflight.middleware.PreflightMiddleware"
MUST_COME_AFTER = (
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.middleware.locale.LocaleMiddleware",
)


def check_middleware(**kwargs: Any) -> list[checks.CheckMessage]:
    """The middleware must be installed, above everything that could answer a preflight."""
    middleware: Sequence[str] = getattr(settings, "MIDDLEWARE", None) or ()
    if MIDDLEWARE_PATH not in middleware:
        return [
            checks.Error(
                f"{MIDDLEWARE_PATH} is not in MIDDLEWARE, so no CORS header is ever sent.",
                hint="Add it as the first entry of MIDDLEWARE.",
                id="django_preflight.E001",
            )
        ]
    position = list(middleware).index(MIDDLEWARE_PATH)
    above = [name for name in middleware[:position] if name in MUST_COME_AFTER]
    return [
        checks.Error(
            f"{MIDDLEWARE_PATH} comes after {name}, which can answer or redirect a preflight "
            "before CORS headers are added.",
            hint=f"Move {MIDDLEWARE_PATH} above {name}; the first entry of MIDDLEWARE is best.",
            id="django_preflight.E002",
        )
        for name in above
    ]


def check_settings(**kwargs: Any) -> list[checks.CheckMessage]:
    """Every PREFLIGHT_* setting has a value of the documented type and range."""
    errors: list[checks.CheckMessage] = []
    known = set(conf.SETTING_NAMES)
    for name in dir(settings):
        if name.startswith(conf.PREFIX) and name not in known:
            errors.append(
                checks.Error(
                    f"{name} is not a django-preflight setting.",
                    hint="Check its spelling against the settings reference.",
                    id="django_preflight.E004",
                )
            )
    errors.extend(checks.Error(problem, id="django_preflight.E003") for problem in conf.problems())
    current = conf.get()
    if current.METRICS is True and importlib.util.find_spec("prometheus_client") is None:
        errors.append(
            checks.Error(
                f"{conf.PREFIX}METRICS is on but prometheus-client is not installed.",
                hint="pip install 'django-preflight[metrics]', or turn the setting off.",
                id="django_preflight.E005",
            )
        )
    return errors


def check_deploy(**kwargs: Any) -> list[checks.CheckMessage]:
    """Configurations that work but weaken the boundary: for ``manage.py check --deploy``."""
    current = conf.get()
    warnings: list[checks.CheckMessage] = []
    if current.REASON_HEADER or current.SHAPE_REFUSALS:
        warnings.append(
            checks.Warning(
                "Refused preflights reveal policy details (PREFLIGHT_REASON_HEADER or "
                "PREFLIGHT_SHAPE_REFUSALS is set).",
                hint="Turn them off in production; the audit keeps the reasons.",
                id="django_preflight.W004",
            )
        )
    backend = str(settings.CACHES.get(current.CACHE_ALIAS, {}).get("BACKEND", ""))
    if backend.rsplit(".", 1)[-1] in PER_PROCESS_CACHES:
        warnings.append(
            checks.Warning(
                f"Cache {current.CACHE_ALIAS!r} ({backend}) is not shared between processes: a "
                "worker that starts while the database is down has no snapshot to serve and "
                "answers preflights 503 until the database is back.",
                hint="Point PREFLIGHT_CACHE_ALIAS at Redis, Memcached or the database cache. "
                "Policy changes reach every worker through the database either way.",
                id="django_preflight.W008",
            )
        )
    warnings.extend(_sqlite_warnings())
    return warnings + _policy_warnings()


def _sqlite_warnings() -> list[checks.CheckMessage]:
    """SQLite in its default (deferred) transaction mode: a transaction that read before it
    writes fails at once with "database is locked" when another process is committing, as each
    worker's audit writer does, instead of waiting its turn."""
    from django.db import router

    from .models import RejectedPreflight

    alias = router.db_for_write(RejectedPreflight)
    database = settings.DATABASES.get(alias, {})
    if not str(database.get("ENGINE", "")).endswith("sqlite3"):
        return []
    mode = str(database.get("OPTIONS", {}).get("transaction_mode", "DEFERRED"))
    if mode.upper() == "IMMEDIATE":
        return []
    return [
        checks.Warning(
            f"Database {alias!r} is SQLite in {mode.upper()} transaction mode: with several "
            "worker processes, an admin save that coincides with another process's audit write "
            "fails with 'database is locked'.",
            hint=f"Set DATABASES[{alias!r}]['OPTIONS'] to {{'transaction_mode': 'IMMEDIATE', "
            "'init_command': 'PRAGMA journal_mode=wal;'}, or use PostgreSQL or MariaDB.",
            id="django_preflight.W009",
        )
    ]


def _covers(policy: Any) -> str:
    return "the views naming it" if policy.views_only else policy.path_prefix


def check_view_policies(**kwargs: Any) -> list[checks.CheckMessage]:
    """A view naming a policy that is not enabled gets no CORS header at all: say which."""
    from django.db import DatabaseError

    from .models import CorsPolicy
    from .routing import views_by_policy

    named = views_by_policy()
    if not named:
        return []
    try:
        enabled = set(
            CorsPolicy.objects.filter(enabled=True, name__in=named).values_list("name", flat=True)
        )
    except DatabaseError:
        return []
    return [
        checks.Warning(
            f"{', '.join(views)} name{'s' if len(views) == 1 else ''} CORS policy '{name}', "
            "which is not an enabled policy: no CORS header is sent for "
            f"{'it' if len(views) == 1 else 'them'}.",
            hint=f"Create or enable a policy named '{name}', or fix the name in the view.",
            id="django_preflight.W005",
        )
        for name, views in sorted(named.items())
        if name not in enabled
    ]


PER_PROCESS_CACHES = ("LocMemCache", "DummyCache")

_HTTP_NOT_FORCED_TO_HTTPS = re.compile(r"http(?!s(?![?*]|\{0))(?!\[s\](?![?*]|\{0))")


def _regex_allows_http(pattern: str) -> bool:
    """Whether a regex may accept a plain-http origin: no mandatory 'https' in it, or an
    'http' whose 's' is optional ('https?', '(http|https)', 'http[s]?', 'https{0,1}')."""
    return "https" not in pattern or bool(_HTTP_NOT_FORCED_TO_HTTPS.search(pattern))


def _policy_warnings() -> list[checks.CheckMessage]:
    from django.db import DatabaseError

    from .models import AllowedOrigin

    try:
        enabled = AllowedOrigin.objects.filter(policy__enabled=True).select_related("policy")
        credentialed = enabled.filter(policy__allow_credentials=True)
        risky_http = [
            origin
            for origin in credentialed.filter(kind__in=("exact", "subdomain", "regex"))
            if origin.value.startswith("http://")
            or (origin.kind == AllowedOrigin.Kind.REGEX and _regex_allows_http(origin.value))
        ]
        nulls = enabled.filter(kind=AllowedOrigin.Kind.NULL)
        anys = enabled.filter(kind=AllowedOrigin.Kind.ANY)
        found = (
            (
                "W001",
                risky_http,
                "allows the plain-http origin {value} with credentials: anyone "
                "on its network path can inject a page that reads your users' data.",
                "Allow https:// origins only on credentialed policies.",
            ),
            (
                "W002",
                nulls,
                "allows the 'null' origin, which any sandboxed page can send.",
                "Remove it unless the callers are truly sandboxed pages you control.",
            ),
            (
                "W003",
                anys,
                "allows any origin on {prefix}: make sure nothing there relies on "
                "session cookies or network position for access.",
                "Restrict the policy to known origins, or its path prefix to public endpoints.",
            ),
        )
        return (
            [
                checks.Warning(
                    f"CORS policy '{origin.policy.name}' "
                    + text.format(value=origin.value, prefix=_covers(origin.policy)),
                    hint=hint,
                    obj=origin.policy,
                    id=f"django_preflight.{code}",
                )
                for code, queryset, text, hint in found
                for origin in queryset[:20]
            ]
            + _pattern_warnings(enabled.filter(kind__in=("subdomain", "regex")))
            + _skipped()
        )
    except DatabaseError:
        return []


CSRF_MIDDLEWARE = "django.middleware.csrf.CsrfViewMiddleware"
POLICY_CSRF_MIDDLEWARE = "django_preflight.csrf.CsrfViewMiddleware"
DRF_SESSION = "rest_framework.authentication.SessionAuthentication"
POLICY_DRF_SESSION = "django_preflight.drf.SessionAuthentication"
DRF_DEFAULT_AUTHENTICATION = (DRF_SESSION, "rest_framework.authentication.BasicAuthentication")


def csrf_untrusted_origins(limit: int = 5, policy_id: int | None = None) -> list[str]:
    """Origins of enabled credentialed policies (or of one) that CSRF_TRUSTED_ORIGINS lacks."""
    from .models import AllowedOrigin

    trusted = set(getattr(settings, "CSRF_TRUSTED_ORIGINS", ()))
    rows = AllowedOrigin.objects.filter(
        policy__enabled=True, policy__report_only=False, policy__allow_credentials=True
    )
    if policy_id is not None:
        rows = rows.filter(policy_id=policy_id)
    values = (
        rows.exclude(value__in=trusted).order_by("value").values_list("value", flat=True).distinct()
    )
    return list(values[:limit])


def _drf_session_classes() -> Sequence[str]:
    if "rest_framework" not in settings.INSTALLED_APPS:
        return ()
    rest_framework: dict[str, Any] = getattr(settings, "REST_FRAMEWORK", None) or {}
    return tuple(rest_framework.get("DEFAULT_AUTHENTICATION_CLASSES", DRF_DEFAULT_AUTHENTICATION))


def plain_csrf_checks() -> tuple[bool, bool]:
    """Whether Django's own CSRF middleware, and DRF's own SessionAuthentication, are in use."""
    middleware: Sequence[str] = getattr(settings, "MIDDLEWARE", None) or ()
    return CSRF_MIDDLEWARE in middleware, DRF_SESSION in _drf_session_classes()


def check_csrf(**kwargs: Any) -> list[checks.CheckMessage]:
    """Credentialed policies allow origins that Django's CSRF check refuses, unless either
    the policy-aware CSRF check is installed or CSRF_TRUSTED_ORIGINS lists them too."""
    from django.db import DatabaseError

    django_csrf, drf_session = plain_csrf_checks()
    if not (django_csrf or drf_session):
        return []
    try:
        untrusted = csrf_untrusted_origins()
    except DatabaseError:
        return []
    if not untrusted:
        return []
    listed = ", ".join(untrusted)
    messages: list[checks.CheckMessage] = []
    if django_csrf:
        messages.append(
            checks.Info(
                "Credentialed CORS policies allow origins that Django's CSRF check refuses "
                f"('Origin checking failed'), such as {listed}: they are not in "
                "CSRF_TRUSTED_ORIGINS, so their cookie-authenticated writes fail with 403.",
                hint=f"Replace {CSRF_MIDDLEWARE} with {POLICY_CSRF_MIDDLEWARE} in MIDDLEWARE "
                "to trust, for the CSRF origin check only, the origins credentialed policies "
                "allow (tokens are still required); or list them in CSRF_TRUSTED_ORIGINS.",
                id="django_preflight.I001",
            )
        )
    if drf_session:
        messages.append(
            checks.Info(
                "DRF's SessionAuthentication runs Django's CSRF origin check, which refuses "
                f"origins credentialed CORS policies allow, such as {listed}.",
                hint=f"Use {POLICY_DRF_SESSION} in DEFAULT_AUTHENTICATION_CLASSES instead of "
                f"{DRF_SESSION}, or list the origins in CSRF_TRUSTED_ORIGINS.",
                id="django_preflight.I002",
            )
        )
    return messages


def _pattern_warnings(patterns: Any) -> list[checks.CheckMessage]:
    """Wildcards on a public suffix and regexes matching look-alikes, saved before these were
    refused or opted into explicitly: other sites can pass them (W006)."""
    found: list[checks.CheckMessage] = []
    for origin in patterns.iterator():
        warning = origin.warning
        if warning:
            found.append(
                checks.Warning(
                    f"CORS policy '{origin.policy.name}' allows {origin.value}: {warning}",
                    hint=(
                        "List the origins you trust instead. On a policy with credentials this "
                        "entry is refused, and the policy is skipped until it is removed."
                    ),
                    obj=origin.policy,
                    id="django_preflight.W006",
                )
            )
        if len(found) == 20:
            break
    return found


def _skipped() -> list[checks.CheckMessage]:
    """Enabled policies the snapshot leaves out, such as rows saved before a rule existed (an
    IDNA 2003 host, a wildcard on a public suffix with credentials): they allow nothing (W007)."""
    from .store import load_policy_set

    return [
        checks.Warning(
            f"CORS policy '{rejected.name}' is skipped and allows nothing: {rejected.problem}",
            hint="Correct it in the admin; until then every snapshot rebuild logs it.",
            id="django_preflight.W007",
        )
        for rejected in load_policy_set().rejected
    ]


def register() -> None:
    """Called from the app config."""
    checks.register(check_middleware)
    checks.register(check_settings)
    checks.register(check_deploy, checks.Tags.security, deploy=True)
    checks.register(check_csrf, checks.Tags.security, deploy=True)
    checks.register(check_view_policies, checks.Tags.security, deploy=True)
