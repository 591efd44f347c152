"""The example project's settings, pointed by the browser suite's fixtures at a shared database.

Every server process the suite starts (gunicorn workers, uvicorn, the control process) reads
the same environment, so they all see one database and one cache: a policy saved by one of them
is served by all of them, as in a real deployment.
"""

from __future__ import annotations

import os
from typing import Any

import dj_database_url

from example_project.settings import *  # noqa: F403
from example_project.settings import MIDDLEWARE, REST_FRAMEWORK

DEBUG = False  # as in production: no debug pages, APPEND_SLASH redirects every method
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "tests.browser.server_urls"

database: dict[str, Any] = dict(dj_database_url.parse(os.environ["PREFLIGHT_TEST_DATABASE_URL"]))
if database["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes write to one file: WAL lets readers and the writer overlap, IMMEDIATE
    # takes the write lock up front instead of failing halfway through a transaction.
    database["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=wal;",
    }
DATABASES = {"default": database}

# A cache every process shares, so a change saved in one reaches the others: Redis when the
# fixture gives one, else files in the run's own folder.
if os.environ.get("PREFLIGHT_TEST_REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["PREFLIGHT_TEST_REDIS_URL"],
            "KEY_PREFIX": os.environ["PREFLIGHT_TEST_CACHE_PREFIX"],
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": os.environ["PREFLIGHT_TEST_CACHE_DIR"],
        }
    }

PREFLIGHT_REFRESH_INTERVAL = float(os.environ.get("PREFLIGHT_TEST_REFRESH_INTERVAL", "0"))
PREFLIGHT_AUDIT_FLUSH_INTERVAL = 0.2

FRONTEND_ORIGIN = os.environ["PREFLIGHT_TEST_FRONTEND_ORIGIN"]
CSRF_TRUSTED_ORIGINS = [FRONTEND_ORIGIN]

MIDDLEWARE = ["tests.browser.server_middleware.RequestLogMiddleware", *MIDDLEWARE]

# The CSRF cases run servers of their own: 'django' keeps Django's and DRF's own CSRF checks,
# 'policy' installs django-preflight's; either way no origin is in CSRF_TRUSTED_ORIGINS, so
# only the policies can make the frontend's origin trusted.
CSRF_MODE = os.environ.get("PREFLIGHT_TEST_CSRF", "")
if CSRF_MODE:
    CSRF_TRUSTED_ORIGINS = []
if CSRF_MODE == "policy":
    MIDDLEWARE = [
        "django_preflight.csrf.CsrfViewMiddleware"
        if name == "django.middleware.csrf.CsrfViewMiddleware"
        else name
        for name in MIDDLEWARE
    ]
    REST_FRAMEWORK = {
        **REST_FRAMEWORK,
        "DEFAULT_AUTHENTICATION_CLASSES": [
            "django_preflight.drf.SessionAuthentication"
            if name == "rest_framework.authentication.SessionAuthentication"
            else name
            for name in REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]
        ],
    }
if os.environ.get("PREFLIGHT_TEST_LOGIN_REQUIRED") == "1":
    MIDDLEWARE.append("django.contrib.auth.middleware.LoginRequiredMiddleware")
    LOGIN_URL = "/admin/login/"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
