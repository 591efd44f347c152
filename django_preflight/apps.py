"""App configuration: wires the system checks and the invalidation signals."""

from django.apps import AppConfig


class PreflightConfig(AppConfig):
    """django-preflight's app config."""

    name = "django_preflight"
    verbose_name = "CORS (django-preflight)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Register checks and signal receivers once the app registry is ready."""
        from . import checks, declared, signals

        checks.register()
        signals.connect()
        declared.connect()
