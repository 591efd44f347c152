"""Policies declared in the ``PREFLIGHT_POLICIES`` setting, written to the database.

Without them a fresh database (a new environment, CI, a colleague's machine) refuses every
cross-origin call until someone opens the admin. The setting has the shape ``preflight export``
writes; applying it is the same validated, all-or-nothing import, matched by name, and writes
nothing when the database already agrees, so it runs after every ``migrate``.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from django.apps import AppConfig, apps
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections, router
from django.db.migrations.loader import MigrationLoader
from django.db.models.signals import post_migrate

from . import conf
from .portable import (
    ImportFileError,
    apply_import,
    check_shape,
    plan_import,
    validate_document,
)

SETTING = "PREFLIGHT_POLICIES"


def declared() -> dict[str, Any] | None:
    """The setting's document, its outer shape checked; None when it is not set."""
    value = conf.get().POLICIES
    if value is None:
        return None
    try:
        return check_shape(value)
    except ImportFileError as exc:
        raise ImproperlyConfigured(f"{SETTING}: {exc}") from exc


def declared_names() -> frozenset[str]:
    """Names of the policies the settings manage: the admin marks them."""
    data = declared()
    if data is None:
        return frozenset()
    return frozenset(
        entry["name"]
        for entry in data["policies"]
        if isinstance(entry, dict) and isinstance(entry.get("name"), str)
    )


def _migrated(using: str) -> bool:
    """Every migration of the app is applied on ``using`` (not so after ``migrate app zero``)."""
    loader = MigrationLoader(connections[using])
    label = apps.get_app_config("django_preflight").label
    return all(leaf in loader.applied_migrations for leaf in loader.graph.leaf_nodes(label))


def apply_after_migrate(
    sender: AppConfig,
    using: str = DEFAULT_DB_ALIAS,
    verbosity: int = 1,
    stdout: TextIO | None = None,
    **kwargs: Any,
) -> None:
    """``post_migrate`` receiver: bring the database in line with the setting."""
    from .models import CorsPolicy

    data = declared()
    if data is None or router.db_for_write(CorsPolicy) != using or not _migrated(using):
        return
    try:
        change = plan_import(data)
    except ImportFileError as exc:
        raise ImproperlyConfigured(f"{SETTING}: nothing was changed: {exc}") from exc
    if not change.has_changes:
        return
    apply_import(change)
    if verbosity >= 1:
        out = stdout or sys.stdout
        for line in change.describe():
            out.write(f"{SETTING}: {line}\n")


def check_declared(**kwargs: Any) -> list[checks.CheckMessage]:
    """Report an invalid declaration at ``manage.py check``, before ``migrate`` stops on it."""
    try:
        data = declared()
        if data is not None:
            validate_document(data)
    except ImproperlyConfigured as exc:
        message = str(exc)
    except ImportFileError as exc:
        message = f"{SETTING}: {exc}"
    else:
        return []
    return [
        checks.Error(
            message,
            hint="Use the shape 'manage.py preflight export' writes; see the settings reference.",
            id="django_preflight.E006",
        )
    ]


def connect() -> None:
    """Check the setting, and apply it after every ``migrate`` (and ``flush``) of this app's
    database."""
    checks.register(check_declared)
    post_migrate.connect(
        apply_after_migrate,
        sender=apps.get_app_config("django_preflight"),
        dispatch_uid="django_preflight.declared",
    )
