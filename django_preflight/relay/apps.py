"""The relay's app config: its own label, so projects without it get no table of it."""

from django.apps import AppConfig


class RelayConfig(AppConfig):
    """django-preflight's relay for APIs without CORS."""

    name = "django_preflight.relay"
    label = "preflight_relay"
    verbose_name = "CORS relay (django-preflight)"
    default_auto_field = "django.db.models.BigAutoField"
