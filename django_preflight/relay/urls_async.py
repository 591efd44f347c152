"""The relay under ASGI: ``path("relay/", include("django_preflight.relay.urls_async"))``."""

from .urls import patterns
from .views import arelay

app_name = "preflight_relay"
urlpatterns = patterns(arelay)
