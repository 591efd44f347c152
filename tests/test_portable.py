"""Policies as code: export, then import with a diff, atomically, with validation."""

from __future__ import annotations

import json
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from django_preflight.models import AllowedOrigin, CorsPolicy

pytestmark = pytest.mark.django_db


def export() -> dict[str, Any]:
    out = StringIO()
    call_command("preflight", "export", stdout=out)
    data: dict[str, Any] = json.loads(out.getvalue())
    return data


def run_import(tmp_path: Path, data: Any, *args: str) -> str:
    path = tmp_path / "policies.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    out = StringIO()
    call_command("preflight", "import", str(path), *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def staging(make_policy: Callable[..., CorsPolicy]) -> dict[str, Any]:
    make_policy(
        origins=("https://app.example.com", "https://*.example.org"),
        kinds=["exact", "subdomain"],
        name="frontend",
        path_prefix="/api/",
        allow_credentials=True,
        max_age=600,
    )
    make_policy(origins=("",), kinds=["any"], name="public", path_prefix="/public/")
    return export()


def test_export_is_complete_and_stable(staging: dict[str, Any]) -> None:
    assert staging["format"] == "django-preflight/1"
    assert [p["name"] for p in staging["policies"]] == ["frontend", "public"]
    frontend = staging["policies"][0]
    assert frontend["allow_credentials"] is True
    assert frontend["origins"] == [
        {"kind": "exact", "value": "https://app.example.com", "note": ""},
        {"kind": "subdomain", "value": "https://*.example.org", "note": ""},
    ]
    assert export() == staging


def test_round_trip_into_an_empty_database(staging: dict[str, Any], tmp_path: Path) -> None:
    CorsPolicy.objects.all().delete()
    out = run_import(tmp_path, staging)
    assert "create policy 'frontend'; + https://app.example.com, https://*.example.org" in out
    assert export() == staging


def test_dry_run_shows_the_diff_and_changes_nothing(
    staging: dict[str, Any], tmp_path: Path
) -> None:
    staging["policies"][0]["max_age"] = 1200
    staging["policies"][0]["origins"][0]["value"] = "HTTPS://New.Example.com"
    out = run_import(tmp_path, staging, "--dry-run")
    assert (
        "update policy 'frontend'; fields: max_age; + https://new.example.com; "
        "- https://app.example.com"
    ) in out
    assert "Dry run: nothing was changed." in out
    assert CorsPolicy.objects.get(name="frontend").max_age == 600
    run_import(tmp_path, staging)
    assert CorsPolicy.objects.get(name="frontend").max_age == 1200
    assert AllowedOrigin.objects.filter(value="https://new.example.com").exists()
    assert not AllowedOrigin.objects.filter(value="https://app.example.com").exists()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["policies"][1]["origins"].append({"kind": "exact", "value": "x"}),
            "policies[1].origins[1] ('public')",
        ),
        (
            lambda d: d["policies"][0].update(allowed_methods=["GET POST"]),
            "not a valid HTTP method name",
        ),
        (
            lambda d: d["policies"][1].update(allow_credentials=True),
            "cannot be combined with credentials",
        ),
        (lambda d: d["policies"].append(dict(d["policies"][0])), "appears twice"),
        (lambda d: d["policies"][0].update(colour="blue"), "unknown fields colour"),
        (lambda d: d.update(format="other/9"), "expected format 'django-preflight/1'"),
    ],
)
def test_an_invalid_file_changes_nothing(
    staging: dict[str, Any], tmp_path: Path, mutate: Callable[[dict[str, Any]], None], message: str
) -> None:
    staging["policies"][0]["max_age"] = 1
    mutate(staging)
    with pytest.raises(CommandError, match="Nothing was changed") as caught:
        run_import(tmp_path, staging)
    assert message in str(caught.value)
    assert CorsPolicy.objects.get(name="frontend").max_age == 600


def test_not_json(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="Not valid JSON"):
        run_import(tmp_path, "{nope")


def test_prune_deletes_what_the_file_does_not_list(staging: dict[str, Any], tmp_path: Path) -> None:
    only_frontend = {**staging, "policies": staging["policies"][:1]}
    assert "No change." in run_import(tmp_path, only_frontend)
    assert CorsPolicy.objects.filter(name="public").exists()
    assert "delete policy 'public'" in run_import(tmp_path, only_frontend, "--prune")
    assert not CorsPolicy.objects.filter(name="public").exists()


def test_export_to_a_file(staging: dict[str, Any], tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    call_command("preflight", "export", "--output", str(target), stderr=StringIO())
    assert json.loads(target.read_text()) == staging


def test_a_second_import_writes_nothing_and_a_note_alone_is_applied(
    staging: dict[str, Any], tmp_path: Path
) -> None:
    stamps = dict(CorsPolicy.objects.values_list("name", "updated_at"))
    assert run_import(tmp_path, staging).splitlines()[0] == "No change."
    assert dict(CorsPolicy.objects.values_list("name", "updated_at")) == stamps

    staging["policies"][0]["origins"][0]["note"] = "the shop"
    output = run_import(tmp_path, staging)
    assert "update policy 'frontend'; fields: note of https://app.example.com" in output
    assert AllowedOrigin.objects.get(value="https://app.example.com").note == "the shop"
