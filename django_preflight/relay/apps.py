"""The relay's app config: its own label, so projects without it get no table of it."""

from importlib.util import find_spec

from django.apps import AppConfig
from django.core.exceptions import ImproperlyConfigured


class RelayConfig(AppConfig):
    """django-preflight's relay for APIs without CORS."""

    name = "django_preflight.relay"
    label = "preflight_relay"
    verbose_name = "CORS relay (django-preflight)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Say at start-up, not at the first call, that the relay's HTTP client is missing."""
        if find_spec("httpx") is None:
            raise ImproperlyConfigured(
                "django_preflight.relay needs httpx: pip install 'django-preflight-cors[relay]'."
            )
