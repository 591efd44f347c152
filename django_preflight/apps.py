"""App configuration: validates the settings, wires the system checks and the signals."""

from django.apps import AppConfig


class PreflightConfig(AppConfig):
    """django-preflight's app config."""

    name = "django_preflight"
    verbose_name = "CORS (django-preflight)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Refuse wrong settings, then register checks and signal receivers."""
        from . import checks, conf, declared, signals

        conf.validate()
        checks.register()
        signals.connect()
        declared.connect()
