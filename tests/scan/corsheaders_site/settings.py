"""Settings of the django-cors-headers site the scanner is tested against."""

from __future__ import annotations

import os

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
ROOT_URLCONF = "tests.scan.corsheaders_site.urls"
INSTALLED_APPS = ["corsheaders"]
MIDDLEWARE = ["corsheaders.middleware.CorsMiddleware", "django.middleware.common.CommonMiddleware"]
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True

CORS_ALLOW_CREDENTIALS = True
if os.environ.get("PREFLIGHT_SCAN_CORSHEADERS") == "sloppy":
    # Meant for app. and admin.example.com: the dots are not escaped and nothing anchors the
    # end (django-cors-headers uses re.match, anchored only at the start).
    CORS_ALLOWED_ORIGIN_REGEXES = [r"^https://(app|admin).example.com"]
else:
    CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
