"""``PREFLIGHT_POLICIES``: policies declared in the settings reach the database after migrate."""

from __future__ import annotations

import json
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from django_preflight.models import CorsPolicy

pytestmark = pytest.mark.django_db

DECLARED = {
    "format": "django-preflight/1",
    "policies": [
        {
            "name": "frontend",
            "path_prefix": "/api/",
            "allow_credentials": True,
            "origins": [{"kind": "exact", "value": "https://APP.example.com:443"}],
        },
        {"name": "status", "path_prefix": "/status/", "origins": [{"kind": "any"}]},
    ],
}


def migrate() -> str:
    out = StringIO()
    call_command("migrate", verbosity=1, interactive=False, stdout=out)
    return out.getvalue()


def test_migrate_creates_the_declared_policies_once(settings: Any) -> None:
    settings.PREFLIGHT_POLICIES = DECLARED
    output = migrate()
    assert "PREFLIGHT_POLICIES: create policy 'frontend'; + https://app.example.com" in output
    assert "PREFLIGHT_POLICIES: create policy 'status'; + (any)" in output
    frontend = CorsPolicy.objects.get(name="frontend")
    assert frontend.allow_credentials
    assert [o.value for o in frontend.origins.all()] == ["https://app.example.com"]
    stamps = dict(CorsPolicy.objects.values_list("name", "updated_at"))

    assert "PREFLIGHT_POLICIES" not in migrate()
    assert dict(CorsPolicy.objects.values_list("name", "updated_at")) == stamps


def test_migrate_puts_back_what_the_admin_changed_and_leaves_other_policies(
    settings: Any, make_policy: Callable[..., CorsPolicy]
) -> None:
    make_policy(origins=("https://other.example",), name="admin-made", path_prefix="/x/")
    settings.PREFLIGHT_POLICIES = DECLARED
    migrate()
    CorsPolicy.objects.filter(name="frontend").update(path_prefix="/")
    assert "update policy 'frontend'; fields: path_prefix" in migrate()
    assert CorsPolicy.objects.get(name="frontend").path_prefix == "/api/"
    assert CorsPolicy.objects.filter(name="admin-made").exists()


def test_an_invalid_declaration_stops_migrate_and_writes_nothing(settings: Any) -> None:
    broken = {
        "format": "django-preflight/1",
        "policies": [
            {"name": "ok", "origins": []},
            {"name": "bad", "allow_credentials": True, "origins": [{"kind": "any"}]},
        ],
    }
    settings.PREFLIGHT_POLICIES = broken
    with pytest.raises(ImproperlyConfigured, match=r"PREFLIGHT_POLICIES: .*policies\[1\]"):
        migrate()
    assert not CorsPolicy.objects.exists()
    settings.PREFLIGHT_POLICIES = {"policies": []}
    with pytest.raises(ImproperlyConfigured, match="expected format 'django-preflight/1'"):
        migrate()


def test_import_from_settings(settings: Any) -> None:
    settings.PREFLIGHT_POLICIES = DECLARED
    out = StringIO()
    call_command("preflight", "import", "--from-settings", "--dry-run", stdout=out)
    assert "create policy 'frontend'" in out.getvalue()
    assert not CorsPolicy.objects.exists()
    call_command("preflight", "import", "--from-settings", stdout=StringIO())
    assert set(CorsPolicy.objects.values_list("name", flat=True)) == {"frontend", "status"}
    out = StringIO()
    call_command("preflight", "import", "--from-settings", stdout=out)
    assert out.getvalue().startswith("No change.")


def test_import_from_settings_without_the_setting() -> None:
    with pytest.raises(CommandError, match="PREFLIGHT_POLICIES is not set"):
        call_command("preflight", "import", "--from-settings")


def test_the_settings_document_is_what_export_writes(
    settings: Any, make_policy: Callable[..., CorsPolicy]
) -> None:
    make_policy(origins=("https://a.example",), name="exported", path_prefix="/api/")
    out = StringIO()
    call_command("preflight", "export", stdout=out)
    document = json.loads(out.getvalue())
    CorsPolicy.objects.all().delete()
    settings.PREFLIGHT_POLICIES = document
    migrate()
    out = StringIO()
    call_command("preflight", "export", stdout=out)
    assert json.loads(out.getvalue()) == document


def test_the_admin_marks_policies_managed_from_settings(
    settings: Any, admin_client: Client, make_policy: Callable[..., CorsPolicy]
) -> None:
    settings.PREFLIGHT_POLICIES = DECLARED
    migrate()
    make_policy(origins=("https://other.example",), name="admin-made", path_prefix="/x/")
    listing = admin_client.get("/admin/django_preflight/corspolicy/").content.decode()
    assert listing.count('class="preflight-managed">managed from settings<') == 2
    assert "admin-made</a></th>" in listing

    declared = CorsPolicy.objects.get(name="frontend")
    page = admin_client.get(f"/admin/django_preflight/corspolicy/{declared.pk}/change/")
    assert "is managed from settings (PREFLIGHT_POLICIES)" in page.content.decode()
    other = CorsPolicy.objects.get(name="admin-made")
    page = admin_client.get(f"/admin/django_preflight/corspolicy/{other.pk}/change/")
    assert "managed from settings" not in page.content.decode()


def test_check_reports_an_invalid_declaration_without_the_database(settings: Any) -> None:
    from django.core.checks import run_checks

    from django_preflight.declared import check_declared

    settings.PREFLIGHT_POLICIES = DECLARED
    assert check_declared() == []
    settings.PREFLIGHT_POLICIES = {
        "format": "django-preflight/1",
        "policies": [{"name": "x", "path_prefix": "api", "origins": []}],
    }
    with CaptureQueriesContext(connection) as queries:
        errors = check_declared()
    assert len(queries) == 0
    assert [e.id for e in errors] == ["django_preflight.E006"]
    assert errors[0].msg.startswith("PREFLIGHT_POLICIES: policies[0] ('x'): path_prefix:")
    assert "django_preflight.E006" in {e.id for e in run_checks()}
