"""Settings for the served project: the test suite's settings, tuned by environment variables.

The test process starts gunicorn with ``DATABASE_URL`` pointing at a database it created for the
run, ``REDIS_URL`` at the shared cache (or one it started), and short intervals, so a policy
change and an audit flush happen within the time a test can wait.
"""

from __future__ import annotations

import os

from tests.settings import *  # noqa: F403
from tests.settings import CACHES, MIDDLEWARE

ROOT_URLCONF = "tests.services.site.urls"
MIDDLEWARE = ["tests.services.site.views.served_by", *MIDDLEWARE]

# A prefix per run keeps this run's published snapshot apart from any other user of the same
# Redis. Without REDIS_URL the cache is Django's default, local memory in each process, as in a
# project made by startproject.
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            **CACHES["default"],
            "KEY_PREFIX": os.environ.get("SERVICES_CACHE_PREFIX", ""),
        }
    }
else:
    del CACHES

# Several processes writing one SQLite file: writers wait their turn instead of failing with
# "database is locked", as docs/deployment.md recommends (check --deploy warns otherwise).
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["OPTIONS"] = {  # noqa: F405
        "init_command": "PRAGMA journal_mode=wal;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }

PREFLIGHT_REFRESH_INTERVAL = float(os.environ.get("SERVICES_REFRESH_INTERVAL", "1.0"))
PREFLIGHT_AUDIT_FLUSH_INTERVAL = float(os.environ.get("SERVICES_AUDIT_FLUSH_INTERVAL", "0.2"))
PREFLIGHT_AUDIT_BUFFER_SIZE = int(os.environ.get("SERVICES_AUDIT_BUFFER_SIZE", "1000"))
PREFLIGHT_METRICS = os.environ.get("SERVICES_METRICS") == "1"
PREFLIGHT_AUDIT_MAX_ROWS = int(os.environ.get("SERVICES_AUDIT_MAX_ROWS", "10000"))

# Everything the app and Django log goes to stderr, which the tests read back from a file.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(process)d %(name)s %(levelname)s %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "django_preflight": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "django.request": {"handlers": ["stderr"], "level": "ERROR", "propagate": False},
    },
}
