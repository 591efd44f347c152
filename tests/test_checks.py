"""System checks for the middleware's position and for every setting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from django_preflight.checks import MIDDLEWARE_PATH, check_middleware, check_settings

SESSION = "django.contrib.sessions.middleware.SessionMiddleware"
ROOT = Path(__file__).resolve().parents[1]
# How the deployment docs set SQLite up for several processes (no W009).
IMMEDIATE = {"transaction_mode": "IMMEDIATE"}
# The checks only read DATABASES; the connections keep the settings they were opened with.
READS_DATABASES = pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")


def as_deployed(databases: dict[str, Any]) -> dict[str, Any]:
    """The test databases, an SQLite one set up for several processes; others as they are."""
    default = databases["default"]
    if not default["ENGINE"].endswith("sqlite3"):
        return databases
    return {**databases, "default": {**default, "OPTIONS": {**default["OPTIONS"], **IMMEDIATE}}}


SHARED_CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://cache.invalid:6379/0",  # never connected to: checks read settings
    }
}


def ids(messages: list[Any]) -> list[str]:
    return [m.id for m in messages]


def test_the_test_settings_pass() -> None:
    assert check_middleware() == []
    assert check_settings() == []


def test_missing_middleware_is_an_error(settings: Any) -> None:
    settings.MIDDLEWARE = [SESSION]
    assert ids(check_middleware()) == ["django_preflight.E001"]


@pytest.mark.parametrize(
    "above",
    [
        "django.middleware.security.SecurityMiddleware",
        SESSION,
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.auth.middleware.LoginRequiredMiddleware",
        "django.middleware.locale.LocaleMiddleware",
    ],
)
def test_middleware_below_a_layer_that_answers_first_is_an_error(settings: Any, above: str) -> None:
    settings.MIDDLEWARE = [above, MIDDLEWARE_PATH]
    messages = check_middleware()
    assert ids(messages) == ["django_preflight.E002"]
    assert above in messages[0].msg


def test_harmless_middleware_above_is_fine(settings: Any) -> None:
    settings.MIDDLEWARE = ["django.middleware.gzip.GZipMiddleware", MIDDLEWARE_PATH, SESSION]
    assert check_middleware() == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PREFLIGHT_CACHE_ALIAS", "missing"),
        ("PREFLIGHT_CACHE_KEY", ""),
        ("PREFLIGHT_REFRESH_INTERVAL", -1),
        ("PREFLIGHT_REFRESH_INTERVAL", "5"),
        ("PREFLIGHT_REFUSED_STATUS", 700),
        ("PREFLIGHT_REFUSED_STATUS", True),
        ("PREFLIGHT_REASON_HEADER", "X Bad"),
        ("PREFLIGHT_MAX_REQUESTED_HEADERS", 0),
        ("PREFLIGHT_AUDIT_ENABLED", "yes"),
        ("PREFLIGHT_AUDIT_MAX_ROWS", 0),
        ("PREFLIGHT_AUDIT_MAX_VALUE_LENGTH", 5000),
        ("PREFLIGHT_AUDIT_BUFFER_SIZE", -3),
        ("PREFLIGHT_AUDIT_FLUSH_INTERVAL", 0),
        ("PREFLIGHT_AUDIT_RETENTION_DAYS", 1.5),
    ],
)
def test_invalid_setting_values_are_errors(settings: Any, name: str, value: Any) -> None:
    setattr(settings, name, value)
    messages = check_settings()
    assert ids(messages) == ["django_preflight.E003"]
    assert name in messages[0].msg


def test_misspelt_setting_is_an_error(settings: Any) -> None:
    settings.PREFLIGHT_REFRESH_INTERVALS = 3
    assert ids(check_settings()) == ["django_preflight.E004"]


def test_checks_run_through_manage_py_check(settings: Any) -> None:
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    settings.MIDDLEWARE = [SESSION, MIDDLEWARE_PATH]
    with pytest.raises(SystemCheckError, match=r"django_preflight\.E002"):
        call_command("check")


@pytest.mark.django_db
@READS_DATABASES
def test_deploy_checks_warn_about_weak_policies(make_policy: Any, settings: Any) -> None:
    from django_preflight.checks import check_deploy

    settings.CACHES = SHARED_CACHES
    settings.DATABASES = as_deployed(settings.DATABASES)
    assert check_deploy() == []
    make_policy(origins=("http://app.example.com",), name="plain", allow_credentials=True)
    make_policy(origins=("",), kinds=["null"], name="sandbox", path_prefix="/embed/")
    make_policy(origins=("",), kinds=["any"], name="open", path_prefix="/public/")
    make_policy(origins=("http://dev.example.com",), name="dev-open", path_prefix="/dev/")
    settings.PREFLIGHT_REASON_HEADER = "X-Why"
    messages = check_deploy()
    assert sorted(ids(messages)) == [
        "django_preflight.W001",
        "django_preflight.W002",
        "django_preflight.W003",
        "django_preflight.W004",
    ]
    texts = " ".join(m.msg for m in messages)
    assert "'plain' allows the plain-http origin http://app.example.com" in texts
    assert "dev-open" not in texts, "plain http without credentials is not flagged"


@pytest.mark.django_db
@pytest.mark.parametrize("backend", ["locmem.LocMemCache", "dummy.DummyCache"])
def test_deploy_checks_warn_about_a_per_process_cache(settings: Any, backend: str) -> None:
    from django_preflight.checks import check_deploy

    settings.CACHES = {"default": {"BACKEND": f"django.core.cache.backends.{backend}"}}
    warned = [m for m in check_deploy() if m.id == "django_preflight.W008"]
    assert len(warned) == 1
    assert "answers preflights 503" in warned[0].msg
    settings.CACHES = SHARED_CACHES
    assert not [m for m in check_deploy() if m.id == "django_preflight.W008"]


@pytest.mark.django_db
@READS_DATABASES
def test_deploy_checks_warn_about_sqlite_in_deferred_transaction_mode(settings: Any) -> None:
    from django_preflight.checks import check_deploy

    database = settings.DATABASES["default"]
    settings.DATABASES = {"default": {**database, "ENGINE": "django.db.backends.sqlite3"}}
    warned = [m for m in check_deploy() if m.id == "django_preflight.W009"]
    assert len(warned) == 1
    assert "'default' is SQLite in DEFERRED transaction mode" in warned[0].msg
    settings.DATABASES = {
        "default": {
            **database,
            "ENGINE": "django.db.backends.sqlite3",
            "OPTIONS": IMMEDIATE,
        }
    }
    assert not [m for m in check_deploy() if m.id == "django_preflight.W009"]
    settings.DATABASES = {
        "default": {**database, "ENGINE": "django.db.backends.postgresql", "OPTIONS": {}}
    }
    assert not [m for m in check_deploy() if m.id == "django_preflight.W009"]


@pytest.mark.django_db
def test_deploy_checks_only_run_with_deploy(settings: Any) -> None:
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    settings.PREFLIGHT_SHAPE_REFUSALS = True
    call_command("check")
    with pytest.raises(SystemCheckError, match=r"django_preflight\.W004"):
        call_command("check", "--deploy", "--fail-level", "WARNING")


@pytest.mark.parametrize(
    ("name", "value"),
    [("PREFLIGHT_REFRESH_INTERVAL", "5"), ("PREFLIGHT_AUDIT_MAX_ROWS", 0)],
)
def test_wrong_settings_stop_the_app_from_loading(settings: Any, name: str, value: Any) -> None:
    """Servers run no system checks: the app itself refuses to start with a wrong value."""
    from django.apps import apps
    from django.core.exceptions import ImproperlyConfigured

    setattr(settings, name, value)
    with pytest.raises(ImproperlyConfigured, match=name):
        apps.get_app_config("django_preflight").ready()


def test_a_server_process_with_a_wrong_setting_does_not_start(tmp_path: Any) -> None:
    """As gunicorn loads the application: django.setup() raises, naming the setting."""
    (tmp_path / "wrong_settings.py").write_text(
        "from tests.settings import *\nPREFLIGHT_REFRESH_INTERVAL = '5'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", "from django.core.wsgi import get_wsgi_application as g; g()"],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "wrong_settings",
            "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured: PREFLIGHT_REFRESH_INTERVAL is '5'" in result.stderr
