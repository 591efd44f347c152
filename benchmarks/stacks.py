"""The three stacks measured, and the Django settings module each one runs under.

Django settings are configured once per process, so each stack (and size) runs in its own
process; this table is how the parent names them.
"""

from __future__ import annotations

OURS = "django-preflight"
CORS_HEADERS = "django-cors-headers"
FLOOR = "floor"
STACKS = (OURS, CORS_HEADERS, FLOOR)

SETTINGS_MODULES = {
    OURS: "benchmarks.project.settings_ours",
    CORS_HEADERS: "benchmarks.project.settings_cors_headers",
    FLOOR: "benchmarks.project.settings_floor",
}
