"""django-cors-headers with credentials, CORS on /api/ and /refuse/, where /api/ allows any
origin (a ``check_request_enabled`` receiver) and /refuse/ allows none; DEBUG off, as deployed."""

from __future__ import annotations

SECRET_KEY = "corsheaders-site-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "tests.corsheaders_site.urls"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "rest_framework",
    "corsheaders",
    "tests.corsheaders_site",
]
MIDDLEWARE = [
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
USE_TZ = True
LOGIN_URL = "/accounts/login/"
CORS_ALLOWED_ORIGINS: list[str] = []
CORS_URLS_REGEX = r"^/(api|refuse)/.*$"
CORS_ALLOW_CREDENTIALS = True
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.BasicAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
}
