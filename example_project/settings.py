"""Settings for the demo: an API on http://127.0.0.1:8000 called by a page on :8001.

Demo only: DEBUG is on and the secret key is public. The two origins differ only by port, so
they are the same site and the browser sends the API's ``SameSite=Lax`` cookies on the
frontend's credentialed requests; CORS is the only thing deciding whether the page may call.
"""

from __future__ import annotations

from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "demo-only-insecure-key-do-not-use-in-production"
DEBUG = True
ALLOWED_HOSTS = ["localhost", "127.0.0.1"]

FRONTEND_ORIGIN = "http://127.0.0.1:8001"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_preflight",
    "django_preflight.relay",
    "example_project.notes",
]

MIDDLEWARE = [
    "django_preflight.middleware.PreflightMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "example_project.urls"
WSGI_APPLICATION = "example_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": BASE_DIR / "db.sqlite3",
        # The request threads and the audit writer take turns instead of failing with
        # "database is locked" (docs/deployment.md).
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=wal;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
    }
}

# One process, so the local-memory cache is enough for django-preflight to see its own
# policy changes at once; several processes would share Redis instead.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Lax cookies travel between ports of one host (same site); plain HTTP, so not Secure.
# The frontend reads csrftoken from document.cookie (cookies ignore ports) and sends it back
# as X-CSRFToken, and Django's CSRF check must accept the frontend's Origin header.
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = False
CSRF_COOKIE_HTTPONLY = False
CSRF_TRUSTED_ORIGINS = [FRONTEND_ORIGIN]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
