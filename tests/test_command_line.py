"""``manage.py preflight``: Django's global options are accepted before or after the action."""

from __future__ import annotations

import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from django_preflight.models import CorsPolicy

ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """The real command line, in a process of its own, as an operator types it."""
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args",
    [
        ("status", "--verbosity", "2"),
        ("--verbosity", "2", "status"),
        ("status", "-v", "2", "--no-color", "--traceback", "--skip-checks"),
    ],
)
def test_global_options_anywhere(args: tuple[str, ...]) -> None:
    out = StringIO()
    call_command("preflight", *args, stdout=out)
    assert out.getvalue().startswith("0 enabled policies, 0 origins.")


def test_a_value_before_the_action_is_not_reset_by_the_action(tmp_path: Path) -> None:
    from django_preflight.management.commands.preflight import Command

    parser = Command().create_parser("manage.py", "preflight")
    options = parser.parse_args(["--verbosity", "3", "status"])
    assert (options.verbosity, options.action) == (3, "status")
    options = parser.parse_args(["export", "--verbosity", "0", "--output", str(tmp_path / "f")])
    assert (options.verbosity, options.output) == (0, str(tmp_path / "f"))
    options = parser.parse_args(["status"])
    assert options.verbosity == 1


def test_settings_and_pythonpath_after_the_action(tmp_path: Path) -> None:
    (tmp_path / "corsheaders_site.py").write_text(
        "from tests.settings import *  # noqa: F403\n"
        "CORS_ALLOWED_ORIGINS = ['https://app.example.com']\n"
    )
    result = manage(
        "preflight",
        "import-settings",
        "--dry-run",
        "--settings",
        "corsheaders_site",
        "--pythonpath",
        str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert "Read: CORS_ALLOWED_ORIGINS" in result.stdout
    assert "origin (exact) https://app.example.com" in result.stdout
    assert "Dry run: nothing was created." in result.stdout


def test_an_unknown_option_is_still_refused() -> None:
    result = manage("preflight", "status", "--no-such-option", "--settings", "tests.settings")
    assert result.returncode != 0
    assert "unrecognized arguments: --no-such-option" in result.stderr


@pytest.mark.django_db
def test_import_needs_a_file_or_from_settings() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="either a FILE or --from-settings"):
        call_command("preflight", "import")
    assert not CorsPolicy.objects.exists()
